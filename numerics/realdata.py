"""Real data: the convolutional ResNet of Section 5.2 / Appendix E (docs/statements.md,
table1.realdata; Table 1, Figures 3-4).

Network (Appendix E, p40): a trainable first convolution A (5x5, stride 2, padding 1, 16
channels on CIFAR-10), then L residual blocks

    h_{k+1} = h_k + bn_{2,k}(conv_{2,k}(sigma(bn_{1,k}(conv_{1,k}(h_k))))) / L,   k = 0..L-1,

with 3x3 convolutions, stride 1, padding 1 (Appendix E prints "stride of 2" for these, which
cannot be: the sum h_k + ... needs the residual branch to keep the spatial size; the released code
uses stride 1), then average pooling and a linear layer B to the logits, trained by SGD on the
cross-entropy with a cosine-decayed learning rate.  Choices the paper leaves open follow the
released code (michaelsdr/implicit-regularization-resnets-nodes, ``train_tiny.py`` and
``resnet.py``): the first convolution has no bias and is followed by batch norm and ReLU; the
residual convolutions have biases; bn_{2,k} starts at gamma = beta = 0 (so the network starts as
A followed by the head); SGD has momentum 0.9 and weight decay 5e-4, batches of 64; CIFAR-10 is
augmented by random crops (padding 4) and horizontal flips.  Pooling is adaptive average pooling to
2 x 2 (the released code's 4 x 16 features).  The cosine decay is per iteration, to 0 at the end.

Initialization of the residual convolutions: ``"iid"``: every weight and bias an independent
N(0, 1/(3 fan_in)) entry (the variance of PyTorch's default uniform(+-1/sqrt(fan_in)) draw, which
the released code uses); ``"tied"``: one such draw copied to every layer (the released code's
"smooth init" copies layer 0's convolutions and batch norms to all layers); ``"iid-redraw"``: an
"iid" draw from a second residual stream, every other draw shared (Table 1's negative control: two
exchangeable initializations, no contrast).

Digits (scikit-learn's 8x8 handwritten digits, shipped with the package): the first convolution is
3x3, stride 1, padding 1 (a 5x5 stride-2 convolution would leave 3x3 pixels); pixels are
standardized with the training set's mean and standard deviation; a seeded 80/20 train/test split.

Figure 4's smoothness of the trained weights: for i = 1, 2, the mean over k of
||conv_{i,k+1} - conv_{i,k}||_F, and the same divided by the mean over k of ||conv_{i,k}||_F so
that tied and i.i.d. networks, whose weights have different sizes after training, are comparable
(the normalized value of i.i.d. weights is about sqrt 2 at initialization, 0 for tied ones).
"""

from __future__ import annotations

import dataclasses
import math
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from numerics import progress
from numerics.activations import get as get_activation
from numerics.flow import atomic_save
from theory.errors import ConfigError, DivergenceError

INITS = ("tied", "iid", "iid-redraw")
DATASETS = ("digits", "cifar")
STEMS = {"digits": (3, 1, 1), "cifar": (5, 2, 1)}  # first convolution: kernel, stride, padding
CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST = "test_batch"


@dataclasses.dataclass(frozen=True)
class ImageData:
    """Standardized images (N, C, H, W) float32 and integer labels, train and test."""

    name: str
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int


def load_digits_data(seed: int = 0, test_fraction: float = 0.2) -> ImageData:
    """scikit-learn's digits (1797 images 8x8, 10 classes), seeded split, standardized."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = digits.images.astype(np.float32)[:, None]  # (N, 1, 8, 8), values 0..16
    y = digits.target.astype(np.int64)
    perm = np.random.default_rng(seed).permutation(len(y))
    n_test = round(test_fraction * len(y))
    test, train = perm[:n_test], perm[n_test:]
    mean, std = X[train].mean(), X[train].std()
    return ImageData("digits", torch.from_numpy((X[train] - mean) / std),
                     torch.from_numpy(y[train]), torch.from_numpy((X[test] - mean) / std),
                     torch.from_numpy(y[test]), 10)


def load_cifar_folder(path: str | Path) -> ImageData:
    """CIFAR-10 in its python-pickle format: ``data_batch_1..5`` and ``test_batch``, each a dict
    with b"data" (N x 3072 uint8, channel-major 3 x 32 x 32) and b"labels" (N integers in 0..9).
    Standardized per channel with the training set's statistics.  Anything missing, unreadable or
    malformed raises ConfigError("data_dir", path, what is wrong)."""
    folder = Path(path)
    if not folder.is_dir():
        raise ConfigError("data_dir", str(path), "is not a folder")
    train = [_read_cifar_batch(folder, name) for name in CIFAR_TRAIN]
    X_test, y_test = _read_cifar_batch(folder, CIFAR_TEST)
    X_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    mean = X_train.mean(axis=(0, 2, 3), keepdims=True)
    std = X_train.std(axis=(0, 2, 3), keepdims=True)
    std = np.where(std > 0, std, 1.0).astype(np.float32)
    return ImageData("cifar", torch.from_numpy((X_train - mean) / std),
                     torch.from_numpy(y_train), torch.from_numpy((X_test - mean) / std),
                     torch.from_numpy(y_test), 10)


def _read_cifar_batch(folder: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    file = folder / name
    if not file.is_file():
        raise ConfigError("data_dir", str(folder), f"has no file {name!r} (CIFAR-10 python format)")
    try:
        with file.open("rb") as f:
            batch = pickle.load(f, encoding="bytes")
    except Exception as exc:  # noqa: BLE001 - any unreadable pickle is reported the same way
        raise ConfigError("data_dir", str(folder), f"{name}: unreadable ({exc.__class__.__name__})"
                          ) from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise ConfigError("data_dir", str(folder), f"{name}: not a dict with b'data' and "
                          "b'labels'")
    data, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or data.shape[0] == 0:
        raise ConfigError("data_dir", str(folder), f"{name}: b'data' must be an N x 3072 uint8 "
                          f"array, got {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],) or not np.issubdtype(labels.dtype, np.integer) \
            or labels.min() < 0 or labels.max() > 9:
        raise ConfigError("data_dir", str(folder), f"{name}: b'labels' must be {data.shape[0]} "
                          "integers in 0..9")
    return data.reshape(-1, 3, 32, 32).astype(np.float32), labels.astype(np.int64)


def load_data(data: str, data_dir: str | Path | None = None, seed: int = 0) -> ImageData:
    """``"digits"`` (no download) or ``"cifar"`` (the local folder ``data_dir``)."""
    if data == "digits":
        return load_digits_data(seed)
    if data == "cifar":
        if data_dir is None:
            raise ConfigError("data_dir", None, "data='cifar' needs a local CIFAR-10 folder")
        return load_cifar_folder(data_dir)
    raise ConfigError("data", data, f"real data must be one of {', '.join(DATASETS)}")


class ConvResNet(nn.Module):
    """The convolutional ResNet of Appendix E with the L blocks' parameters stacked along dim 0.

    ``conv1_weight``, ``conv2_weight`` (L, C, C, 3, 3), ``conv*_bias`` (L, C); batch norms
    ``bn1_weight``, ``bn1_bias``, ``bn2_weight``, ``bn2_bias`` (L, C) and running statistics.
    """

    def __init__(self, *, in_channels: int, n_classes: int, L: int, activation: str, init: str,
                 channels: int = 16, stem: tuple[int, int, int] = STEMS["cifar"],
                 seed: int) -> None:
        super().__init__()
        if init not in INITS:
            raise ConfigError("init", init, f"must be one of {', '.join(INITS)}")
        if isinstance(L, bool) or not isinstance(L, int) or L < 1:
            raise ConfigError("L", L, "must be a positive integer")
        self.L, self.sigma = L, get_activation(activation).f
        kernel, self.stride, self.padding = stem
        C, gen = channels, streams(seed)
        self.stem = nn.Parameter(_uniform((C, in_channels, kernel, kernel), gen["stem"]))
        self.stem_bn = nn.BatchNorm2d(C)
        fan_in = C * 9
        std = 1.0 / math.sqrt(3 * fan_in)
        layers = 1 if init == "tied" else L
        residual = gen["redraw" if init == "iid-redraw" else "residual"]
        for i in (1, 2):
            w = std * torch.randn(layers, C, C, 3, 3, generator=residual)
            b = std * torch.randn(layers, C, generator=residual)
            self.register_parameter(f"conv{i}_weight", nn.Parameter(w.expand(L, -1, -1, -1, -1)
                                                                    .clone()))
            self.register_parameter(f"conv{i}_bias", nn.Parameter(b.expand(L, -1).clone()))
        for i, gamma in ((1, 1.0), (2, 0.0)):  # bn_2 starts at 0: the block is the identity
            self.register_parameter(f"bn{i}_weight", nn.Parameter(torch.full((L, C), gamma)))
            self.register_parameter(f"bn{i}_bias", nn.Parameter(torch.zeros(L, C)))
            self.register_buffer(f"bn{i}_mean", torch.zeros(L, C))
            self.register_buffer(f"bn{i}_var", torch.ones(L, C))
        self.head = nn.Linear(4 * C, n_classes)
        with torch.no_grad():
            self.head.weight.copy_(_uniform(self.head.weight.shape, gen["head"]))
            self.head.bias.copy_(_uniform(self.head.bias.shape, gen["head"], fan_in=4 * C))

    def conv_weights(self, i: int) -> torch.Tensor:
        """conv_{i,k} for k = 1..L: a (L, C, C, 3, 3) tensor (i = 1 or 2)."""
        return getattr(self, f"conv{i}_weight")

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """h_0 = relu(bn(A x)): the first convolution's features."""
        return F.relu(self.stem_bn(F.conv2d(x, self.stem, stride=self.stride,
                                            padding=self.padding)))

    def forward(self, x: torch.Tensor, branches: bool = True) -> torch.Tensor:
        """The logits; ``branches=False`` removes the residual branches (h_L = h_0)."""
        h = self.embed(x)
        for k in range(self.L if branches else 0):
            u = F.conv2d(h, self.conv1_weight[k], self.conv1_bias[k], padding=1)
            u = self.sigma(self._bn(u, 1, k))
            u = F.conv2d(u, self.conv2_weight[k], self.conv2_bias[k], padding=1)
            h = h + self._bn(u, 2, k) / self.L
        return self.head(F.adaptive_avg_pool2d(h, 2).flatten(1))

    def _bn(self, u: torch.Tensor, i: int, k: int) -> torch.Tensor:
        return F.batch_norm(u, getattr(self, f"bn{i}_mean")[k], getattr(self, f"bn{i}_var")[k],
                            getattr(self, f"bn{i}_weight")[k], getattr(self, f"bn{i}_bias")[k],
                            self.training, 0.1, 1e-5)


STREAMS = ("subset", "stem", "residual", "head", "batches", "redraw")


def streams(seed: int) -> dict[str, torch.Generator]:
    """One independent generator per component of a run (:data:`STREAMS`: the training subset,
    the stem, the residual branches, the head, the batch order and augmentation), spawned from
    ``seed``: runs that differ in one factor (initialization, activation, depth) share every
    other draw, so that their difference is that factor's."""
    states = np.random.SeedSequence(seed).generate_state(len(STREAMS))
    return {name: torch.Generator().manual_seed(int(s)) for name, s in zip(STREAMS, states,
                                                                            strict=True)}


def _uniform(shape: Sequence[int], generator: torch.Generator,
             fan_in: int | None = None) -> torch.Tensor:
    """PyTorch's default layer initialization, uniform(+-1/sqrt(fan_in)), from ``generator``."""
    fan_in = math.prod(shape[1:]) if fan_in is None else fan_in
    bound = 1.0 / math.sqrt(fan_in)
    return (2 * torch.rand(*shape, generator=generator) - 1) * bound


def smoothness(model: ConvResNet) -> dict[str, float]:
    """Figure 4: ``delta_i`` = mean_k ||conv_{i,k+1} - conv_{i,k}||_F, ``norm_i`` = mean_k
    ||conv_{i,k}||_F and ``relative_i`` = delta_i / norm_i, for i = 1, 2 (weights only)."""
    out = {}
    with torch.no_grad():
        for i in (1, 2):
            w = model.conv_weights(i).flatten(1)
            delta = float((w[1:] - w[:-1]).norm(dim=1).mean()) if model.L > 1 else 0.0
            norm = float(w.norm(dim=1).mean())
            out |= {f"delta_{i}": delta, f"norm_{i}": norm, f"relative_{i}": delta / norm}
    return out


def roughness(w: torch.Tensor) -> float | None:
    """Roughness of a sequence w_1..w_L (any trailing shape) across k: mean_k ||w_{k+1} - w_k||
    divided by its expectation under a uniformly random reordering of the layers, which is
    exactly the mean over pairs a != b of ||w_a - w_b|| (each adjacent pair of a random
    permutation is a uniform pair).  Layer-exchangeable sequences (i.i.d.) give 1 in
    expectation; a linear trend w_k = k E gives 3 / (L + 1); a constant sequence, or L = 1,
    gives None (no variation to judge)."""
    flat = w.detach().flatten(1).double()
    if flat.shape[0] < 2:
        return None
    pairs = torch.cdist(flat, flat)
    L = flat.shape[0]
    null = float(pairs.sum()) / (L * (L - 1))
    if null == 0.0:
        return None
    return float((flat[1:] - flat[:-1]).norm(dim=1).mean()) / null


def displacement(model: ConvResNet, initial: dict[str, torch.Tensor]) -> dict[str, Any]:
    """What training did to the residual branches: for i = 1, 2, ``roughness_i`` of the
    displacement D_k = conv_{i,k}(T) - conv_{i,k}(0) (:func:`roughness`), ``moved_i`` =
    ||D||_F / ||conv_i(0)||_F, and ``bn2_rms`` = the root mean square of bn_2's scales (0 at
    initialization)."""
    out: dict[str, Any] = {}
    with torch.no_grad():
        for i in (1, 2):
            w0 = initial[f"conv{i}"]
            D = model.conv_weights(i).detach().cpu() - w0
            out[f"roughness_{i}"] = roughness(D)
            out[f"moved_{i}"] = float(D.norm() / w0.norm())
        out["bn2_rms"] = float(model.bn2_weight.detach().pow(2).mean().sqrt())
    return out


def entry_trajectories(model: ConvResNet, n_entries: int,
                       seed: int) -> dict[str, list[list[float]]]:
    """Figure 3: ``n_entries`` random entries (seeded) of conv_{1,k} and conv_{2,k} across k."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    with torch.no_grad():
        for i in (1, 2):
            w = model.conv_weights(i).flatten(1)
            idx = torch.randint(w.shape[1], (n_entries,), generator=gen)
            out[f"conv{i}"] = w[:, idx].T.tolist()
    return out


def accuracy(model: ConvResNet, X: torch.Tensor, y: torch.Tensor, batch_size: int = 256,
             branches: bool = True) -> float:
    """Fraction of correct predictions in evaluation mode (batch norms use running statistics);
    ``branches=False``: with the residual branches removed."""
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    with torch.no_grad():
        for start in range(0, len(y), batch_size):
            logits = model(X[start:start + batch_size].to(device), branches)
            correct += int((logits.argmax(1).cpu() == y[start:start + batch_size]).sum())
    return correct / len(y)


def run_table1(activation: str, init: str, *, L: int = 256, epochs: int = 180,
               subset: int | None = None, seed: int = 0, device: str = "cpu",
               data: str = "digits", data_dir: str | Path | None = None, lr: float = 4e-2,
               batch_size: int = 64, momentum: float = 0.9, weight_decay: float = 5e-4,
               channels: int = 16, n_entries: int = 4,
               checkpoint: str | Path | None = None) -> dict[str, Any]:
    """Train one network of Table 1 and measure it.

    ``checkpoint``: a file; the state (network, optimizer, schedule, batch stream, losses) is
    saved atomically after every epoch, and a run started with the checkpoint of the same run
    resumes after its last epoch, bit for bit.

    Returns ``train_acc``, ``test_acc`` (evaluation mode, whole train and test sets),
    ``test_acc_no_branches`` (the same network with its residual branches removed),
    ``displacement`` (:func:`displacement`: what training added to the residual branches),
    ``smoothness`` and ``smoothness_init`` (:func:`smoothness` after and before training),
    ``trajectories`` and ``trajectories_init`` (:func:`entry_trajectories`), ``losses`` (mean
    training loss per epoch), ``config`` (every setting) and ``n_train``, ``n_test``.
    ``subset`` keeps that many training images (seeded choice); float32 on ``device``.
    """
    _check_run(activation, init, L, epochs, subset, lr, batch_size)
    images = load_data(data, data_dir, seed)
    dev = _device(device)
    gen = streams(seed)
    X, y = images.X_train, images.y_train
    if subset is not None and subset < len(y):
        keep = torch.randperm(len(y), generator=gen["subset"])[:subset]
        X, y = X[keep], y[keep]
    model = ConvResNet(in_channels=X.shape[1], n_classes=images.n_classes, L=L,
                       activation=activation, init=init, channels=channels,
                       stem=STEMS[images.name], seed=seed).to(dev)
    batches = gen["batches"]
    smooth0 = smoothness(model)
    initial = {f"conv{i}": model.conv_weights(i).detach().cpu().clone() for i in (1, 2)}
    traj0 = entry_trajectories(model, n_entries, seed)
    steps_per_epoch = math.ceil(len(y) / batch_size)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum,
                          weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)
    losses: list[float] = []
    settings = {"activation": activation, "init": init, "L": L, "epochs": epochs,
                "subset": subset, "seed": seed, "data": images.name, "lr": lr,
                "batch_size": batch_size, "momentum": momentum, "weight_decay": weight_decay,
                "channels": channels, "n_train": len(y)}
    path = None if checkpoint is None else Path(checkpoint)
    if path is not None and path.exists():
        state = torch.load(path, map_location=dev, weights_only=False)
        if state["settings"] == settings:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["opt"])
            sched.load_state_dict(state["sched"])
            batches.set_state(state["batches"])
            losses = state["losses"]
    told = progress.task(f"{images.name} {activation} {init} L={L}",
                         epochs * steps_per_epoch, len(losses) * steps_per_epoch)
    for _ in range(len(losses), epochs):
        model.train()
        perm = torch.randperm(len(y), generator=batches)
        total = 0.0
        for start in range(0, len(y), batch_size):
            batch = perm[start:start + batch_size]
            xb = X[batch]
            if images.name == "cifar":
                xb = augment(xb, batches)
            loss = F.cross_entropy(model(xb.to(dev)), y[batch].to(dev))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(batch)
            told.advance()
        if not math.isfinite(total):
            raise DivergenceError(len(losses), "cross-entropy", total)
        losses.append(total / len(y))
        if path is not None:
            atomic_save({"settings": settings, "model": model.state_dict(),
                         "opt": opt.state_dict(), "sched": sched.state_dict(),
                         "batches": batches.get_state(), "losses": losses}, path)
    return {
        "train_acc": accuracy(model, X, y), "test_acc": accuracy(model, images.X_test,
                                                                  images.y_test),
        "test_acc_no_branches": accuracy(model, images.X_test, images.y_test, branches=False),
        "smoothness": smoothness(model), "smoothness_init": smooth0,
        "displacement": displacement(model, initial),
        "trajectories": entry_trajectories(model, n_entries, seed), "trajectories_init": traj0,
        "losses": losses, "n_train": len(y), "n_test": len(images.y_test),
        "config": {**settings, "device": str(dev), "stem": STEMS[images.name]},
    }


def table1(activations: Sequence[str] = ("identity", "gelu", "relu"),
           inits: Sequence[str] = ("tied", "iid"), **kwargs: Any) -> list[dict[str, Any]]:
    """:func:`run_table1` for every (activation, init) pair, in Table 1's order."""
    return [run_table1(a, i, **kwargs) for a in activations for i in inits]


def augment(x: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crops (zero padding ``pad``) and horizontal flips, one draw per image."""
    n, _, H, W = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(H))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(W))[:, None, None, :]
    out = padded[torch.arange(n)[:, None, None, None], torch.arange(x.shape[1])[None, :, None,
                                                                                   None],
                 rows, cols]
    flip = torch.rand(n, generator=generator) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


def _device(device: str) -> torch.device:
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("device", device, "no CUDA device is available")
        return torch.device("cuda")
    raise ConfigError("device", device, "must be one of cpu, cuda")


def _check_run(activation: str, init: str, L: int, epochs: int, subset: int | None, lr: float,
               batch_size: int) -> None:
    get_activation(activation)
    if init not in INITS:
        raise ConfigError("init", init, f"must be one of {', '.join(INITS)}")
    for name, value in (("L", L), ("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(name, value, "must be a positive integer")
    if subset is not None and (isinstance(subset, bool) or not isinstance(subset, int)
                               or subset < 1):
        raise ConfigError("subset", subset, "must be a positive integer or None")
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not math.isfinite(lr) \
            or lr <= 0:
        raise ConfigError("lr", lr, "must be a positive finite number")
