/* The two sequential sweeps of model (3) (paper eqs. 3 and 13-15) for b networks, specialised at
 * compile time to one hidden size Q, width M, scalar type T and activation ACT (numerics/native.py
 * compiles this file once per combination and caches the library).
 *
 * Row form (samples are rows), one network, layer k = 0..L-1, with the weights V_{k+1} (Q x M) and
 * W_{k+1} (M x Q) as stored, scaled and transposed per layer into small local blocks
 * WT = s_in W_{k+1}^T (Q x M), VT = s_out V_{k+1}^T (M x Q), Vs = s_out V_{k+1}, Ws = s_in W_{k+1}:
 *
 *   forward   u = h_k WT,  a_k = sigma(u),  d_k = sigma'(u),  h_{k+1} = h_k + a_k VT
 *   backward  g_k = d_k * (p_{k+1} Vs),  p_k = p_{k+1} + g_k Ws                          (13)
 *             dl/dV_{k+1} = s_out p_{k+1}^T a_k,  dl/dW_{k+1} = s_in g_k^T h_k            (15)
 *
 * where p stacks c_loss dl_i/dh for the n samples.  The backward sweep also writes the per-layer
 * norms of the streamed metrics (block_norms below) and, when asked, takes the gradient step on
 * the layer's weights (descend) while they and their gradients are in cache.  These sweeps are
 * an accelerator: the definitions are torch's (recurrences: numerics/gradients.py; metrics:
 * numerics/metrics.py), tests/test_native.py checks both against them, and numerics/native.py
 * says what evaluating the metrics here saves (measured).
 *
 * Where the time goes (Figure 1 workload, n = 100, q = 16, m = 32, GELU, float32, one thread):
 * a layer's forward takes about 3 us of products and 3.6 us of sigma (erf and exp on n m
 * entries); its backward 4.6 us when the layer's h, a, d are in cache and 8 us when they come
 * from memory (L = 1024: 32 KB a layer, about 12 GB/s from one core here).  Hence the backward
 * keeps g in registers instead of writing it back, asks for layer k-1's blocks while computing
 * layer k, and updates the weights while they are in cache.  On a 2-core Zen 1 VM (128-bit FMA
 * units, 40 GFLOP/s a core at peak, measured) a training step of 4 networks at L = 1024 spends
 * (perf, cpu-clock samples) 45% in backward, 31% in forward, 19% in libmvec's expf and erff and
 * 6% in block_norms: about 47 us per layer and network where the products at peak take 15 us
 * and sigma 7 us, the rest waiting on the layers' states from memory.  Interleaving 8 networks
 * in the lanes of the vector registers (every product a register tile with no short rows) ran
 * no faster there (b = 16: 27-28 GFLOP/s either way, measured in one run) and was not kept.
 * -mprefer-vector-width=256 (native.py): Zen 1's default of 128-bit vectors calls the SSE
 * variants of erff and expf, 1.2x and 1.6x slower than the AVX2 ones (measured).
 *
 * Two threads share the b networks of a sweep through the counter *claimed of networks taken: one
 * takes them from the front (0, 1, ...), the other from the back (b-1, b-2, ...), until all are
 * taken.  At equal speeds each keeps its half (and its cache) in both sweeps; a thread that starts
 * late or runs slower takes fewer.  Every network is computed by one thread, so the results do
 * not depend on the split.
 *
 * Every array is addressed as base + net * s_net + layer * s_layer + row-major block, so that
 * both network-major and layer-major storage work without copies.  The inner loops run over M or
 * Q contiguous entries and vectorise; sigma and sigma' use glibc's vector maths (libmvec) where
 * declared below.
 */
#include <math.h>
#include <stddef.h>

#ifdef VECTOR_MATH
#define SIMD __attribute__((simd("notinbranch")))
SIMD double erf(double); SIMD double exp(double); SIMD double tanh(double);
SIMD double sin(double); SIMD double cos(double); SIMD double log1p(double);
SIMD float erff(float); SIMD float expf(float); SIMD float tanhf(float);
SIMD float sinf(float); SIMD float cosf(float); SIMD float log1pf(float);
#endif

#if DOUBLE
typedef double T;
#define ERF erf
#define EXP exp
#define TANH tanh
#define SIN sin
#define COS cos
#define LOG1P log1p
#define FABS fabs
#else
typedef float T;
#define ERF erff
#define EXP expf
#define TANH tanhf
#define SIN sinf
#define COS cosf
#define LOG1P log1pf
#define FABS fabsf
#endif

typedef long long idx;

/* sigma(u) into *a and sigma'(u) into *d, elementwise over one row of M entries. */
static inline void activation(const T *restrict u, T *restrict a, T *restrict d) {
#pragma omp simd
  for (int j = 0; j < M; j++) {
    const T x = u[j];
#if ACT == 0 /* identity */
    a[j] = x;
    d[j] = 1;
#elif ACT == 1 /* tanh */
    const T t = TANH(x);
    a[j] = t;
    d[j] = 1 - t * t;
#elif ACT == 2 /* gelu, exact: x Phi(x) */
    const T Phi = (T)0.5 * (1 + ERF(x * (T)0.70710678118654752440));
    a[j] = x * Phi;
    d[j] = Phi + x * (T)0.39894228040143267794 * EXP((T)-0.5 * x * x);
#elif ACT == 3 /* relu (a.e. derivative, 0 at 0) */
    a[j] = x > 0 ? x : 0;
    d[j] = x > 0 ? 1 : 0;
#elif ACT == 4 /* sigmoid(x) - 1/2 = tanh(x/2)/2 */
    const T t = TANH((T)0.5 * x);
    a[j] = (T)0.5 * t;
    d[j] = (T)0.25 * (1 - t * t);
#elif ACT == 5 /* softplus(x) - log 2 = max(x, 0) + log1p(e^-|x|) - log 2 */
    const T e = EXP(-FABS(x));
    a[j] = (x > 0 ? x : 0) + LOG1P(e) - (T)0.69314718055994530942;
    d[j] = x > 0 ? 1 / (1 + e) : e / (1 + e);
#elif ACT == 6 /* sin */
    a[j] = SIN(x);
    d[j] = COS(x);
#elif ACT == 7 /* erf */
    a[j] = ERF(x);
    d[j] = (T)1.12837916709551257390 * EXP(-x * x);
#else
#error "unknown ACT"
#endif
  }
}

/* Rows h[0..rows) of one layer: u = h WT, a = sigma(u), d = sigma'(u), hn = h + a VT.  Several
 * rows at once give the FMA units independent accumulators (one row alone is latency-bound); three
 * rows of M = 32 floats are 12 of the 16 AVX2 registers (four spilled: 10-30% slower, measured). */
#ifndef RB
#define RB 3
#endif
static inline __attribute__((always_inline)) void forward_rows(
    const int rows, const T *restrict h, const T *restrict wt, const T *restrict vt,
    T *restrict a, T *restrict d, T *restrict hn) {
  T u[RB][M], o[RB][Q];
#pragma GCC unroll 4
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < M; j++) u[r][j] = 0;
  for (int l = 0; l < Q; l++) {
    const T *restrict wr = wt + l * M;
#pragma GCC unroll 4
    for (int r = 0; r < rows; r++) {
      const T hv = h[r * Q + l];
#pragma omp simd
      for (int j = 0; j < M; j++) u[r][j] += hv * wr[j];
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < rows; r++) {
    activation(u[r], a + r * M, d + r * M);
    for (int l = 0; l < Q; l++) o[r][l] = h[r * Q + l];
  }
  for (int j = 0; j < M; j++) {
    const T *restrict vr = vt + j * Q;
#pragma GCC unroll 4
    for (int r = 0; r < rows; r++) {
      const T av = a[r * M + j];
#pragma omp simd
      for (int l = 0; l < Q; l++) o[r][l] += av * vr[l];
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < rows; r++)
    for (int l = 0; l < Q; l++) hn[r * Q + l] = o[r][l];
}

void forward(int *claimed, int from_back, int b, int L, int n, T s_out, T s_in,
             const T *V, idx sVn, idx sVl, const T *W, idx sWn, idx sWl,
             T *H, idx sHn, idx sHl, T *A, idx sAn, idx sAl, T *D, idx sDn, idx sDl) {
  T wt[Q * M], vt[M * Q];
  for (int i = 0; __atomic_fetch_add(claimed, 1, __ATOMIC_RELAXED) < b; i++) {
    const int net = from_back ? b - 1 - i : i;
    for (int k = 0; k < L; k++) {
      const T *restrict h = H + net * sHn + k * sHl;
      T *restrict hn = H + net * sHn + (k + 1) * sHl;
      const T *restrict v = V + net * sVn + k * sVl;
      const T *restrict w = W + net * sWn + k * sWl;
      for (int j = 0; j < M; j++)
        for (int l = 0; l < Q; l++) {
          wt[l * M + j] = s_in * w[j * Q + l];
          vt[j * Q + l] = s_out * v[l * M + j];
        }
      T *restrict a = A + net * sAn + k * sAl;
      T *restrict d = D + net * sDn + k * sDl;
      int i = 0;
      for (; i + RB <= n; i += RB)
        forward_rows(RB, h + (idx)i * Q, wt, vt, a + (idx)i * M, d + (idx)i * M, hn + (idx)i * Q);
      for (; i < n; i++)
        forward_rows(1, h + (idx)i * Q, wt, vt, a + (idx)i * M, d + (idx)i * M, hn + (idx)i * Q);
    }
  }
}

/* Over rows r < rows: out[r] += x[r] mat and acc += x^T y, for x (rows x I), mat and acc (I x C),
 * y and out (rows x C), row-major; each acc entry is loaded and stored once per block of rows. */
static inline __attribute__((always_inline)) void product_and_outer(
    const int rows, const int I, const int C, const T *restrict x, const T *restrict mat,
    const T *restrict y, T *restrict out, T *restrict acc) {
  for (int i = 0; i < I; i++) {
    const T *restrict mr = mat + i * C;
    T *restrict ar = acc + i * C;
    T xi[RB];
#pragma GCC unroll 4
    for (int r = 0; r < rows; r++) xi[r] = x[r * I + i];
#pragma omp simd
    for (int c = 0; c < C; c++) {
      T sum = ar[c];
#pragma GCC unroll 4
      for (int r = 0; r < rows; r++) {
        out[r * C + c] += xi[r] * mr[c];
        sum += xi[r] * y[r * C + c];
      }
      ar[c] = sum;
    }
  }
}

/* Rows p[0..rows) of one layer, backwards: g = d * (p Vs), pk = p + g Ws, and the rows'
 * contributions accV += p^T a, accW += g^T h.  g stays in registers and L1: d is only read. */
static inline __attribute__((always_inline)) void backward_rows(
    const int rows, const T *restrict p, const T *restrict a, const T *restrict v,
    const T *restrict w, const T *restrict d, const T *restrict h, T *restrict accV,
    T *restrict accW, T *restrict pk) {
  T g[RB * M], o[RB * Q];
  for (int t = 0; t < rows * M; t++) g[t] = 0;
  product_and_outer(rows, Q, M, p, v, a, g, accV);
  for (int t = 0; t < rows * M; t++) g[t] *= d[t];
  for (int t = 0; t < rows * Q; t++) o[t] = p[t];
  product_and_outer(rows, M, Q, g, w, h, o, accW);
  for (int t = 0; t < rows * Q; t++) pk[t] = o[t];
}

/* Squared norms of one weight block z (size entries) for the streamed metrics
 * (numerics/metrics.py), in double: out = (||next - z||^2 (0 without next), ||z - z0||^2, ||z||^2,
 * ||g||^2), g its gradient. */
static void block_norms(const T *restrict z, const T *restrict next, const T *restrict z0,
                        const T *restrict g, int size, double out[4]) {
  double gap = 0, dist = 0, norm = 0, gsq = 0;
#pragma omp simd reduction(+ : gap, dist, norm, gsq)
  for (int t = 0; t < size; t++) {
    const double x = z[t], dg = next ? (double)next[t] - x : 0, dd = x - z0[t], gt = g[t];
    gap += dg * dg;
    dist += dd * dd;
    norm += x * x;
    gsq += gt * gt;
  }
  out[0] = gap; out[1] = dist; out[2] = norm; out[3] = gsq;
}

/* Asks for the bytes [at, at + size) of a block that the next layer reads, `share` of them
 * per call (the hardware prefetchers restart at every block; the backward walks the layers down). */
static inline void prefetch_share(const void *block, idx size, idx *at, idx share) {
  const char *base = block;
  for (idx end = *at + share; *at < end && *at < size; *at += 64) __builtin_prefetch(base + *at, 0, 2);
}

/* z += step * g over one weight block: the explicit Euler step of the gradient flow (4),
 * step = -eta L (numerics/flow.py), applied once the block's gradient and metrics are final. */
static void descend(T *restrict z, const T *restrict g, T step, int size) {
#pragma omp simd
  for (int t = 0; t < size; t++) z[t] += step * g[t];
}

void backward(int *claimed, int from_back, int b, int L, int n, T s_out, T s_in, T step,
              T *V, idx sVn, idx sVl, T *W, idx sWn, idx sWl,
              const T *H, idx sHn, idx sHl, const T *A, idx sAn, idx sAl,
              const T *D, idx sDn, idx sDl, T *P, idx sPn, idx sPl,
              T *gV, idx sgVn, idx sgVl, T *gW, idx sgWn, idx sgWl,
              const T *V0, idx sV0n, idx sV0l, const T *W0, idx sW0n, idx sW0l,
              double *gap, double *dist, double *norm, double *gnorm, double *gsq) {
  T v[Q * M], w[M * Q];
  const idx bytes_q = (idx)n * Q * sizeof(T), bytes_m = (idx)n * M * sizeof(T);
  const idx blocks = n / RB > 0 ? n / RB : 1; /* blocks of RB rows per layer */
  const idx share_q = 64 * (bytes_q / 64 / blocks + 1), share_m = 64 * (bytes_m / 64 / blocks + 1);
  /* the forward sweep wrote h, a, d of all b networks: past 16 MB (half the L3 here) they come
   * back from memory, where asking ahead pays (8 -> 7.2 us a layer at L = 1024; in L3 it costs
   * 0.3 us a layer, measured) */
  const int far = (idx)b * L * (bytes_q + 2 * bytes_m) > (16 << 20);
  for (int i = 0; __atomic_fetch_add(claimed, 1, __ATOMIC_RELAXED) < b; i++) {
    const int net = from_back ? b - 1 - i : i;
    for (int k = L - 1; k >= 0; k--) {
      const T *restrict pn = P + net * sPn + (k + 1) * sPl;
      T *restrict pk = P + net * sPn + k * sPl;
      T *restrict vk = V + net * sVn + k * sVl;
      T *restrict wk = W + net * sWn + k * sWl;
      for (int t = 0; t < Q * M; t++) {
        v[t] = s_out * vk[t];
        w[t] = s_in * wk[t];
      }
      const T *restrict h = H + net * sHn + k * sHl;
      const T *restrict a = A + net * sAn + k * sAl;
      const T *restrict d = D + net * sDn + k * sDl;
      T *restrict gv = gV + net * sgVn + k * sgVl;
      T *restrict gw = gW + net * sgWn + k * sgWl;
      T accV[Q * M], accW[M * Q];
      for (int t = 0; t < Q * M; t++) accV[t] = accW[t] = 0;
      idx at_h = 0, at_a = 0, at_d = 0;
      int i = 0;
      for (; i + RB <= n; i += RB) {
        if (far && k > 0) { /* layer k-1's h, a, d: 32 KB per layer in Figure 1's workload */
          prefetch_share(h - sHl, bytes_q, &at_h, share_q);
          prefetch_share(a - sAl, bytes_m, &at_a, share_m);
          prefetch_share(d - sDl, bytes_m, &at_d, share_m);
        }
        backward_rows(RB, pn + (idx)i * Q, a + (idx)i * M, v, w, d + (idx)i * M, h + (idx)i * Q,
                      accV, accW, pk + (idx)i * Q);
      }
      for (; i < n; i++)
        backward_rows(1, pn + (idx)i * Q, a + (idx)i * M, v, w, d + (idx)i * M, h + (idx)i * Q,
                      accV, accW, pk + (idx)i * Q);
      for (int t = 0; t < Q * M; t++) gv[t] = s_out * accV[t];
      for (int t = 0; t < M * Q; t++) gw[t] = s_in * accW[t];
      if (V0) {
        /* the metrics with the paper's layer norm ||Z_k|| = ||V_k||_F + ||W_k||_F, (b, L)
         * arrays: gap = ||Z_{k+1} - Z_k|| (b, L-1), dist = ||Z_k - Z0_k||, norm = ||Z_k||,
         * gnorm = ||gV_k||_F + ||gW_k||_F, gsq = ||gV_k||_F^2 + ||gW_k||_F^2 */
        double nv[4], nw[4];
        block_norms(vk, k + 1 < L ? vk + sVl : 0, V0 + net * sV0n + k * sV0l, gv, Q * M, nv);
        block_norms(wk, k + 1 < L ? wk + sWl : 0, W0 + net * sW0n + k * sW0l, gw, M * Q, nw);
        const idx at = (idx)net * L + k;
        if (k + 1 < L) gap[(idx)net * (L - 1) + k] = sqrt(nv[0]) + sqrt(nw[0]);
        dist[at] = sqrt(nv[1]) + sqrt(nw[1]);
        norm[at] = sqrt(nv[2]) + sqrt(nw[2]);
        gnorm[at] = sqrt(nv[3]) + sqrt(nw[3]);
        gsq[at] = nv[3] + nw[3];
      }
      if (step != 0) { /* layer k+1 (its gap to layer k is measured): then layer 0 at the end */
        if (k + 1 < L) {
          descend(vk + sVl, gv + sgVl, step, Q * M);
          descend(wk + sWl, gw + sgWl, step, M * Q);
        }
        if (k == 0) {
          descend(vk, gv, step, Q * M);
          descend(wk, gw, step, M * Q);
        }
      }
    }
  }
}
