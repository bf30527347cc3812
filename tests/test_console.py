"""Progress of trainings: the steps flow.train announces, and how the console shows them."""

from __future__ import annotations

import io

import torch

from numerics import progress
from numerics.flow import Flow, train
from numerics.init import init_params
from numerics.progress import Console
from theory.config import Config


def test_train_announces_every_step_of_the_flow() -> None:
    """N = round(T / eta) steps and the final evaluation: N + 1 calls, counting up to N + 1."""
    config = Config(n=4, d=2, d_out=2, q=4, m=3, L=5, T=0.3, eta=0.05)
    heard: list[tuple[str, int, int]] = []
    params = init_params("tied", d=2, d_out=2, q=4, m=3, L=5)
    X, Y = torch.randn(4, 2, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64)
    with progress.listening(lambda *a: heard.append(a)):
        train(params, X, Y, Flow.from_config(config))
    assert [done for _, done, _ in heard] == list(range(1, 8))
    assert {total for _, _, total in heard} == {7} and heard[0][0].startswith("L=5")
    heard.clear()
    train(params, X, Y, Flow.from_config(config))  # no listener: nothing heard
    assert heard == []


def test_plain_lines_say_the_steps_and_the_time_left() -> None:
    out = io.StringIO()
    console = Console("check x", out, every=0.0, tty=False)
    for done in range(1, 5):
        console("L=8", done, 4)
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("resnet-ode: check x: training 1 (L=8): 4/4 steps, about 0s "
                                "left")
    assert len(lines) == 4
    quiet = io.StringIO()
    slow = Console("check x", quiet, every=3600.0, tty=False)
    for done in range(1, 5):
        slow("L=8", done, 4)
    assert quiet.getvalue() == ""  # a short training says nothing
    slow.said -= 3600.0  # an hour of short trainings later, the next one is told
    slow("L=16", 1, 4)
    assert "training 2 (L=16): 1/4 steps" in quiet.getvalue()


def test_terminal_bar_counts_the_steps() -> None:
    out = io.StringIO()
    console = Console("check x", out, delay=0.0, tty=True)
    for done in range(1, 4):
        console("L=8", done, 10)
    assert console.bar is not None and console.bar.n == 3 and console.bar.total == 10
    console("L=16", 1, 5)  # another training: a new bar
    assert console.bar.n == 1 and console.bar.total == 5
    console.close()
    assert console.bar is None and "check x L=8" in out.getvalue()


def test_units_say_done_failed_remaining_and_the_time_left() -> None:
    """Plain lines: one per finished unit, with its note; on a terminal, one bar of the units
    (the trainings' bars beside it)."""
    out = io.StringIO()
    console = Console("sweep", out, tty=False, program="")
    console.units(3, "config")
    console.finished(2, note="two at once")
    console.finished(1, failed=True)
    assert out.getvalue().splitlines() == [
        "sweep: two at once; 2 done, 0 failed, 1 remaining, ETA 0s",
        "sweep: 2 done, 1 failed, 0 remaining, ETA 0s"]
    bar = io.StringIO()
    console = Console("report", bar, delay=0.0, tty=True)
    console.units(4, "section")
    console.finished(note="section S1 done")
    assert console.counts.n == 1 and console.counts.total == 4
    assert "resnet-ode: report: section S1 done" in bar.getvalue()
    console.close()
    assert console.counts is None
