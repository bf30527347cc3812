#!/usr/bin/env bash
# The GPU path, proven (issue 15): on a CUDA machine, from the repository root,
#
#   benchmarks/gpu_check.sh [--out DIR] [--seed S] [--depths 64,256,1024,4096] [--only ID,...]
#                           [--cpu-report]
#
# 1. the gpu-marked tests (python -m pytest -m gpu);
# 2. python -m benchmarks --device cuda --json: the CUDA-graph engine against the same engine
#    launched eagerly and the naive baseline, per depth, and the b-scaling curve;
# 3. the quick report on CUDA and on the CPU with the same seed (the CPU one runs alongside, in
#    the background), then python -m benchmarks.compare_results on their results.json: verdicts
#    equal, numbers within the declared float tolerance.
# Everything lands in DIR (default gpu_check_out/): pytest_gpu.txt, bench_cuda.json and .txt,
# report_cuda/, report_cpu/, compare.txt, and summary.txt (one line per step, PASS or FAIL).
#
# Without CUDA it says so in one line and runs its CPU side only: the benchmark smoke test and the
# comparison's tests (and, with --cpu-report, the CPU quick report).  Exit status: 0 when every
# step passed, 1 otherwise, 2 for a bad option.  PYTHON (default: python) is the interpreter.
set -uo pipefail

out=gpu_check_out seed=0 depths=64,256,1024,4096 only="" cpu_report=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --depths) depths=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --cpu-report) cpu_report=1; shift ;;
    *) echo "gpu_check.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
py=${PYTHON:-python}
cd "$(dirname "$0")/.." || exit 2
mkdir -p "$out" || exit 2
summary="$out/summary.txt"
: >"$summary"
failed=0

step() {  # step NAME COMMAND...: run it, log PASS/FAIL with its wall time
  local name=$1 start rc
  shift
  start=$(date +%s)
  "$@"
  rc=$?
  local verdict=PASS
  [ $rc -eq 0 ] || { verdict="FAIL (exit $rc)"; failed=1; }
  echo "$name: $verdict, $(($(date +%s) - start)) s" | tee -a "$summary"
}

report() {  # report DEVICE: the quick report on DEVICE into $out/report_DEVICE
  local args=(-m reports report --quick --device "$1" --seed "$seed" --out "$out/report_$1")
  [ -z "$only" ] || args+=(--only "$only")
  # exit 1 (a check does not hold) is a result to compare, not a failure of the path
  "$py" "${args[@]}" >"$out/report_$1.log" 2>&1
  local rc=$?
  [ $rc -le 1 ] && [ -f "$out/report_$1/results.json" ] || return $((rc > 1 ? rc : 3))
}

if ! "$py" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null
then
  echo "gpu_check.sh: no CUDA device (torch.cuda.is_available() is false): CPU side only" \
    | tee -a "$summary"
  step "CPU: benchmark smoke and comparison tests" "$py" -m pytest -q \
    tests/test_benchmark_smoke.py tests/test_compare_results.py
  [ $cpu_report -eq 0 ] || step "CPU: quick report" report cpu
  exit $failed
fi

"$py" -c "import torch; print('gpu_check.sh on', torch.cuda.get_device_name(0), 'torch', \
torch.__version__)" | tee -a "$summary"
report cpu &  # the CPU side of the comparison, alongside the CUDA steps
cpu_pid=$!
step "gpu-marked tests" bash -c "'$py' -m pytest -m gpu -q -rs >'$out/pytest_gpu.txt' 2>&1"
step "benchmark --device cuda" bash -c "'$py' -m benchmarks --device cuda --depths '$depths' \
--json >'$out/bench_cuda.json' && '$py' -c 'import json, sys; from benchmarks.__main__ import \
format_table; print(format_table(json.load(open(sys.argv[1]))))' '$out/bench_cuda.json' \
>'$out/bench_cuda.txt'"
[ -f "$out/bench_cuda.txt" ] && cat "$out/bench_cuda.txt"
step "quick report --device cuda" report cuda
wait "$cpu_pid"
rc=$?
echo "quick report --device cpu (background): $([ $rc -eq 0 ] && echo PASS || echo "FAIL (exit $rc)")" \
  | tee -a "$summary"
[ $rc -eq 0 ] || failed=1
step "results.json CPU vs CUDA" bash -c "'$py' -m benchmarks.compare_results \
'$out/report_cpu/results.json' '$out/report_cuda/results.json' >'$out/compare.txt' 2>&1; \
rc=\$?; tail -n 20 '$out/compare.txt'; exit \$rc"
exit $failed
