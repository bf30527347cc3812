"""Section 5.2 / Table 1 (S13): data loading, the convolutional ResNet, the smoothness measure and
an end-to-end run, all offline."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from numerics.realdata import (
    ConvResNet,
    augment,
    displacement,
    entry_trajectories,
    load_cifar_folder,
    load_digits_data,
    roughness,
    run_table1,
    smoothness,
)
from theory.errors import ConfigError


def _write_cifar(folder: Path, n: int = 4, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 b"labels": list(rng.integers(0, 10, n)), b"batch_label": name.encode()}
        with (folder / name).open("wb") as f:
            pickle.dump(batch, f)


def test_digits_split_is_seeded_disjoint_and_standardized() -> None:
    from sklearn.datasets import load_digits

    raw = load_digits()
    a, b = load_digits_data(seed=3), load_digits_data(seed=3)
    assert torch.equal(a.X_train, b.X_train) and torch.equal(a.y_test, b.y_test)
    assert a.X_train.shape == (1438, 1, 8, 8) and a.X_test.shape == (359, 1, 8, 8)
    assert abs(float(a.X_train.mean())) < 1e-5 and abs(float(a.X_train.std()) - 1) < 1e-3
    labels = np.concatenate([a.y_train.numpy(), a.y_test.numpy()])
    assert np.bincount(labels).tolist() == np.bincount(raw.target).tolist()  # a partition
    assert not torch.equal(a.y_test, load_digits_data(seed=4).y_test)


def test_digits_images_are_an_affine_map_of_sklearn_images() -> None:
    from sklearn.datasets import load_digits

    raw = load_digits().images.reshape(1797, -1).astype(np.float64)
    d = load_digits_data(seed=0)
    X = np.concatenate([d.X_train.numpy(), d.X_test.numpy()]).reshape(1797, -1).astype(np.float64)
    scale = (X.max() - X.min()) / 16.0  # raw pixels span 0..16
    back = np.round((X - X.min()) / scale).astype(np.int64)
    assert np.allclose((X - X.min()) / scale, back, atol=1e-3)
    rows = {tuple(r) for r in raw.astype(np.int64)}
    assert all(tuple(r) in rows for r in back)


def test_cifar_folder_loads_and_standardizes_per_channel(tmp_path: Path) -> None:
    _write_cifar(tmp_path)
    d = load_cifar_folder(tmp_path)
    assert d.X_train.shape == (20, 3, 32, 32) and d.X_test.shape == (4, 3, 32, 32)
    assert d.y_train.dtype == torch.int64 and int(d.y_train.max()) <= 9
    means = d.X_train.mean(dim=(0, 2, 3))
    torch.testing.assert_close(means, torch.zeros(3), atol=1e-5, rtol=0)
    with (tmp_path / "data_batch_1").open("rb") as f:
        first = pickle.load(f, encoding="bytes")[b"data"][0].reshape(3, 32, 32)
    # the first training image is an increasing affine map of the stored bytes, per channel
    for c in range(3):
        x, raw = d.X_train[0, c].numpy().ravel(), first[c].ravel().astype(np.float64)
        slope = np.polyfit(raw, x, 1)[0]
        assert slope > 0 and np.allclose(np.polyval(np.polyfit(raw, x, 1), raw), x, atol=1e-4)


@pytest.mark.parametrize("damage", ["no_folder", "missing", "garbage", "not_dict", "bad_shape",
                                    "bad_dtype", "bad_labels"])
def test_malformed_cifar_folder_raises(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "cifar"
    if damage != "no_folder":
        _write_cifar(folder)
    target = folder / "data_batch_3"
    bad = {
        "garbage": b"not a pickle",
        "not_dict": pickle.dumps([1, 2, 3]),
        "bad_shape": pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}),
        "bad_dtype": pickle.dumps({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}),
        "bad_labels": pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}),
    }
    if damage == "missing":
        target.unlink()
    elif damage in bad:
        target.write_bytes(bad[damage])
    with pytest.raises(ConfigError) as err:
        load_cifar_folder(folder)
    assert err.value.field == "data_dir" and err.value.value == str(folder)


def _model(init: str, L: int = 4, activation: str = "gelu", seed: int = 0) -> ConvResNet:
    return ConvResNet(in_channels=1, n_classes=10, L=L, activation=activation, init=init,
                      channels=4, stem=(3, 1, 1), seed=seed)


def test_tied_and_iid_initializations() -> None:
    tied, iid = _model("tied", L=64), _model("iid", L=64)
    for i in (1, 2):
        w = tied.conv_weights(i).detach()
        assert torch.equal(w, w[:1].expand_as(w))
        v = iid.conv_weights(i).detach()
        assert not torch.equal(v[0], v[1])
        # N(0, 1/(3 fan_in)), fan_in = 4 * 9: sample variance over 64 * 144 entries
        assert float(v.var()) == pytest.approx(1 / (3 * 36), rel=0.05)
    assert smoothness(tied)["relative_1"] == 0.0
    assert smoothness(iid)["relative_1"] == pytest.approx(math.sqrt(2), rel=0.05)


def test_blocks_are_the_identity_at_initialization() -> None:
    """bn_2 starts at gamma = beta = 0: the output is head(pool(relu(bn(stem(x)))))."""
    model = _model("iid").eval()
    x = torch.randn(5, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    h = F.relu(model.stem_bn(F.conv2d(x, model.stem, padding=1)))
    want = model.head(F.adaptive_avg_pool2d(h, 2).flatten(1))
    torch.testing.assert_close(model(x), want)


def test_forward_is_the_residual_recursion() -> None:
    """An independent loop over h_{k+1} = h_k + bn2(conv2(sigma(bn1(conv1 h_k)))) / L with
    nn.Conv2d / nn.BatchNorm2d modules (evaluation mode, non-trivial statistics)."""
    L, C = 3, 4
    model = _model("iid", L=L, activation="gelu")
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for name in ("bn1_weight", "bn2_weight", "bn1_bias", "bn2_bias", "bn1_mean", "bn2_mean"):
            getattr(model, name).copy_(torch.randn(L, C, generator=g))
        for name in ("bn1_var", "bn2_var"):
            getattr(model, name).copy_(torch.rand(L, C, generator=g) + 0.5)
    model.eval()
    x = torch.randn(2, 1, 8, 8, generator=g)
    h = F.relu(model.stem_bn(F.conv2d(x, model.stem, padding=1)))
    for k in range(L):
        branch = []
        for i in (1, 2):
            conv = torch.nn.Conv2d(C, C, 3, padding=1)
            bn = torch.nn.BatchNorm2d(C).eval()
            with torch.no_grad():
                conv.weight.copy_(model.conv_weights(i)[k])
                conv.bias.copy_(getattr(model, f"conv{i}_bias")[k])
                bn.weight.copy_(getattr(model, f"bn{i}_weight")[k])
                bn.bias.copy_(getattr(model, f"bn{i}_bias")[k])
                bn.running_mean.copy_(getattr(model, f"bn{i}_mean")[k])
                bn.running_var.copy_(getattr(model, f"bn{i}_var")[k])
            branch.append((conv, bn))
        u = F.gelu(branch[0][1](branch[0][0](h)))
        h = h + branch[1][1](branch[1][0](u)) / L
    want = model.head(F.adaptive_avg_pool2d(h, 2).flatten(1))
    torch.testing.assert_close(model(x), want)


def test_smoothness_on_known_weights() -> None:
    """conv_{1,k} = k E: delta = ||E||_F, mean norm = ||E||_F (L + 1)/2."""
    L = 5
    model = _model("tied", L=L)
    E = torch.randn(4, 4, 3, 3, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        model.conv1_weight.copy_(torch.stack([(k + 1) * E for k in range(L)]))
    s = smoothness(model)
    assert s["delta_1"] == pytest.approx(float(E.norm()), rel=1e-6)
    assert s["norm_1"] == pytest.approx(float(E.norm()) * (L + 1) / 2, rel=1e-6)
    assert s["relative_1"] == pytest.approx(2 / (L + 1), rel=1e-6)
    traj = entry_trajectories(model, 3, seed=0)["conv1"]
    for row in traj:  # each entry grows linearly in k
        assert np.allclose(np.diff(row), row[0], atol=1e-6)


def test_augment_is_a_shifted_or_flipped_crop() -> None:
    g = torch.Generator().manual_seed(4)
    x = torch.randn(6, 3, 8, 8, generator=g)
    out = augment(x, g, pad=2)
    padded = F.pad(x, (2, 2, 2, 2))
    for i in range(6):
        crops = [padded[i, :, a:a + 8, b:b + 8] for a in range(5) for b in range(5)]
        assert any(torch.equal(out[i], c) or torch.equal(out[i], c.flip(-1)) for c in crops)


@pytest.mark.parametrize("init", ["tied", "iid"])
def test_run_table1_end_to_end_on_digits(init: str) -> None:
    r = run_table1("relu", init, L=8, epochs=2, subset=300, seed=0)
    assert 0.0 <= r["train_acc"] <= 1.0 and 0.0 <= r["test_acc"] <= 1.0
    assert r["n_train"] == 300 and r["n_test"] == 359
    assert r["losses"][1] < r["losses"][0] < math.log(10) + 0.2
    s0, s = r["smoothness_init"], r["smoothness"]
    if init == "tied":
        assert s0["relative_1"] == 0.0 and s["relative_1"] < 0.05
    else:
        assert s0["relative_1"] == pytest.approx(math.sqrt(2), rel=0.1)
        assert s["relative_1"] > 1.0
    assert len(r["trajectories"]["conv1"][0]) == 8


def test_run_table1_end_to_end_on_a_cifar_folder(tmp_path: Path) -> None:
    _write_cifar(tmp_path)
    r = run_table1("gelu", "tied", L=2, epochs=1, seed=0, data="cifar", data_dir=str(tmp_path),
                   batch_size=8)
    assert r["n_train"] == 20 and r["n_test"] == 4 and r["config"]["stem"] == (5, 2, 1)
    assert math.isfinite(r["losses"][0])


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"activation": "nope"}, "activation"), ({"init": "smooth"}, "init"), ({"L": 0}, "L"),
    ({"subset": 0}, "subset"), ({"data": "mnist"}, "data"), ({"data": "cifar"}, "data_dir"),
    ({"device": "tpu"}, "device"), ({"epochs": 0}, "epochs"), ({"lr": -1.0}, "lr"),
])
def test_run_table1_rejects_bad_input(kwargs: dict, field: str) -> None:
    args = {"activation": "relu", "init": "tied", "L": 2, "epochs": 1, "subset": 10} | kwargs
    with pytest.raises(ConfigError) as err:
        run_table1(**args)
    assert err.value.field == field


def test_roughness_against_closed_forms() -> None:
    """A linear trend w_k = k E: mean adjacent gap ||E||, mean pair gap ||E|| (L + 1) / 3."""
    L = 9
    E = torch.randn(3, 2, generator=torch.Generator().manual_seed(5))
    trend = torch.stack([(k + 1) * E for k in range(L)])
    assert roughness(trend) == pytest.approx(3 / (L + 1), rel=1e-6)  # float32 entries
    assert roughness(trend[:1]) is None and roughness(torch.ones(4, 2)) is None
    # i.i.d. layers: the mean over 200 independent sequences of L = 16 layers is close to 1
    g = torch.Generator().manual_seed(6)
    values = [roughness(torch.randn(16, 20, generator=g)) for _ in range(200)]
    assert sum(values) / len(values) == pytest.approx(1.0, abs=0.02)


def test_displacement_of_a_known_update() -> None:
    model = _model("iid", L=6)
    initial = {f"conv{i}": model.conv_weights(i).detach().clone() for i in (1, 2)}
    E = torch.randn(4, 4, 3, 3, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        model.conv1_weight.add_(torch.stack([(k + 1) * E for k in range(6)]))
        model.bn2_weight.fill_(0.5)
    d = displacement(model, initial)
    assert d["roughness_1"] == pytest.approx(3 / 7, rel=1e-6) and d["roughness_2"] is None
    shifts = math.sqrt(sum((k + 1) ** 2 for k in range(6))) * float(E.norm())
    assert d["moved_1"] == pytest.approx(shifts / float(initial["conv1"].norm()), rel=1e-5)
    assert d["moved_2"] == 0.0 and d["bn2_rms"] == pytest.approx(0.5)


def test_removing_the_branches_gives_stem_and_head() -> None:
    model = _model("iid")
    with torch.no_grad():
        model.bn2_weight.fill_(1.0)
    model.eval()
    x = torch.randn(5, 1, 8, 8, generator=torch.Generator().manual_seed(8))
    want = model.head(F.adaptive_avg_pool2d(model.embed(x), 2).flatten(1))
    torch.testing.assert_close(model(x, branches=False), want)
    assert not torch.allclose(model(x), want)


def test_compared_runs_share_every_draw_but_the_compared_factor() -> None:
    """Tied vs i.i.d. (and one activation vs another) with one seed: the same stem and head;
    the residual convolutions differ only by the initialization; the batch and augmentation
    stream is the same sequence."""
    from numerics.realdata import streams

    def net(init: str, activation: str) -> ConvResNet:
        return ConvResNet(in_channels=1, n_classes=10, L=4, activation=activation, init=init,
                          channels=4, stem=(3, 1, 1), seed=11)

    tied, iid, relu = net("tied", "gelu"), net("iid", "gelu"), net("tied", "relu")
    for other in (iid, relu):
        assert torch.equal(tied.stem, other.stem)
        assert torch.equal(tied.head.weight, other.head.weight)
        assert torch.equal(tied.head.bias, other.head.bias)
    assert torch.equal(tied.conv1_weight, relu.conv1_weight)
    assert torch.equal(tied.conv1_weight[0], tied.conv1_weight[3])
    assert not torch.equal(iid.conv1_weight[0], iid.conv1_weight[3])
    a, b = streams(11)["batches"], streams(11)["batches"]
    assert torch.equal(torch.randperm(50, generator=a), torch.randperm(50, generator=b))
    assert not torch.equal(torch.randperm(50, generator=streams(11)["batches"]),
                           torch.randperm(50, generator=streams(12)["batches"]))


def _run(seed: int, acc: float, no_branches: float, ref: float = 0.98) -> dict[str, float]:
    return {"seed": seed, "ref_test_acc": ref, "tied_test_acc": acc, "iid_test_acc": acc,
            "tied_test_acc_no_branches": no_branches, "iid_test_acc_no_branches": no_branches}


def test_table1_power_needs_seeds_training_and_an_acting_branch() -> None:
    from numerics.table1 import table1_power

    good = [_run(s, 0.95, 0.90) for s in range(3)]
    assert table1_power(good) is None
    assert "2 seeds" in table1_power(good[:2])
    assert "not trained" in table1_power([*good[:2], _run(2, 0.92, 0.80)])  # 0.98 - 0.05 > 0.92
    assert "does not act" in table1_power([*good[:2], _run(2, 0.95, 0.945)])


def test_report_runs_end_to_end_on_a_tiny_cifar_folder(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """A CIFAR-format folder of a few hundred random images through `report --data-dir`: the
    S13 rows train on it (CIFAR's stem), and results.json says so."""
    import json

    from reports import cli

    _write_cifar(tmp_path / "cifar", n=50)  # 250 training and 50 test images
    out = tmp_path / "out"
    code = cli.main(["report", "--scale", "tiny", "--only", "table1.realdata", "--data-dir",
                     str(tmp_path / "cifar"), "--out", str(out)])
    assert code in (0, 1)
    checks = json.loads((out / "results.json").read_text())["checks"]
    assert len(checks) == 3 and {c["config"]["data"] for c in checks} == {"cifar"}
    assert all("data: cifar" in c["notes"] for c in checks)
    assert (out / "s13.png").exists()


@pytest.mark.parametrize("damage", ["empty", "malformed"])
def test_bad_cifar_folder_is_refused_before_any_section(tmp_path: Path, damage: str,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    from reports import cli

    folder = tmp_path / "cifar"
    folder.mkdir()
    if damage == "malformed":
        _write_cifar(folder)
        (folder / "data_batch_3").write_bytes(b"not a pickle")
    code = cli.main(["report", "--scale", "tiny", "--data-dir", str(folder), "--out",
                     str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "data_dir" in err and "section" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "results.json").exists()


def test_interrupted_run_resumes_after_its_last_epoch_bit_for_bit(tmp_path: Path) -> None:
    """A run stopped during its second epoch restarts from the first epoch's checkpoint and
    ends with the numbers of the uninterrupted run; the progress counts batches."""
    from numerics import progress

    kwargs = {"L": 3, "epochs": 3, "subset": 96, "seed": 4, "batch_size": 32, "channels": 4}
    whole = run_table1("gelu", "iid", **kwargs)
    path = tmp_path / "run.pt"
    heard: list[tuple[int, int]] = []

    def stop_in_epoch_2(label: str, done: int, total: int) -> None:
        heard.append((done, total))
        if done == 4:  # 3 batches per epoch: the first of epoch 2
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), progress.listening(stop_in_epoch_2):
        run_table1("gelu", "iid", checkpoint=path, **kwargs)
    assert heard[:4] == [(1, 9), (2, 9), (3, 9), (4, 9)] and path.exists()
    heard.clear()
    with progress.listening(lambda label, done, total: heard.append((done, total))):
        resumed = run_table1("gelu", "iid", checkpoint=path, **kwargs)
    assert heard[0] == (4, 9) and heard[-1] == (9, 9)  # epochs 2 and 3 only
    assert resumed["losses"] == whole["losses"]
    assert resumed["test_acc"] == whole["test_acc"]
    assert resumed["smoothness"] == whole["smoothness"]
