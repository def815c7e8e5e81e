# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Tests of ``python -m complexity_optax demo``: the CLI, its outputs, the data and the harness."""

import contextlib
import io
import json
import math
import os

import numpy as np
import pytest

from complexity_optax.demo import cli
from complexity_optax.demo import data as data_lib
from complexity_optax.demo import methods as methods_lib
from complexity_optax.demo import report
from complexity_optax.demo.train import RunResult, epoch_batches

pytestmark = pytest.mark.integration  # runs the demo end to end

EPOCHS = 2
N_TRAIN = 1347
FIRST_ORDER = ("sgd", "adam", "anneal_sgd", "complexity_matched", "complexity_cosine",
               "complexity_two_step")
TRUST_REGION = ("tr_sphere", "tr_rmsprop")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One in-process run of the documented quick command, shared by the tests below."""
    out_dir = str(tmp_path_factory.mktemp("demo"))
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main(["demo", "--quick", "--seeds", "1", "--epochs", str(EPOCHS),
                         "--output-dir", out_dir, "--json", "--no-progress"])
    return code, json.loads(stdout.getvalue()), stderr.getvalue(), out_dir


class TestQuickRun:

    def test_exit_code_and_every_method_ran(self, quick_run):
        code, doc, stderr, _ = quick_run
        assert code == 0, stderr
        assert doc["failed"] == {}
        assert list(doc["methods"]) == list(methods_lib.METHODS)
        assert len(methods_lib.METHODS) == 11

    def test_png_and_json_written(self, quick_run):
        _, doc, stderr, out_dir = quick_run
        png = os.path.join(out_dir, "loss_vs_backprops.png")
        assert doc["figure"] == os.path.abspath(png)
        with open(png, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        assert f"figure: {doc['figure']}" in stderr  # the path is printed
        with open(os.path.join(out_dir, "results.json"), encoding="utf-8") as f:
            assert json.load(f) == doc

    def test_table_printed(self, quick_run):
        _, doc, stderr, _ = quick_run
        for column in ("method", "final train loss", "test accuracy", "gradients", "HVPs",
                       "wall time"):
            assert column in stderr
        for name in doc["methods"]:
            assert name in stderr

    def test_one_seed_prints_no_spread_and_no_progress_when_asked(self, quick_run):
        _, doc, stderr, _ = quick_run
        assert "± –" in stderr and "± 0.0000" not in stderr  # one seed: no spread to show
        assert "epochs (" not in stderr and "done:" not in stderr  # --no-progress

    def test_config_and_shapes_of_records(self, quick_run):
        _, doc, _, _ = quick_run
        assert doc["config"]["epochs"] == EPOCHS and doc["config"]["seeds"] == 1
        assert doc["config"]["dataset"]["train"] == N_TRAIN
        for entry in doc["methods"].values():
            (run,) = entry["runs"]
            for key in ("train_loss", "gradients", "hvps", "backprops", "wall_time"):
                assert len(run[key]) == EPOCHS + 1, key
            assert run["gradients"][0] == run["hvps"][0] == 0
            assert run["wall_time"] == sorted(run["wall_time"])
            assert run["compile_time"] > 0

    def test_losses_finite_and_decreasing_for_sgd_and_adam(self, quick_run):
        _, doc, _, _ = quick_run
        for name in ("sgd", "adam"):
            loss = doc["methods"][name]["runs"][0]["train_loss"]
            assert all(v is not None and math.isfinite(v) for v in loss)
            assert loss[0] > loss[1] > loss[2], (name, loss)
            # Ten balanced classes: the untrained net is near log(10).
            assert abs(loss[0] - math.log(10)) < 0.5

    def test_accuracies(self, quick_run):
        _, doc, _, _ = quick_run
        for entry in doc["methods"].values():
            acc = entry["runs"][0]["test_accuracy"]
            assert 0.0 <= acc <= 1.0
            assert entry["summary"]["test_accuracy_mean"] == acc
            assert entry["summary"]["test_accuracy_std"] == 0.0
        assert doc["methods"]["adam"]["runs"][0]["test_accuracy"] > 0.5

    def test_backprop_accounting(self, quick_run):
        _, doc, _, _ = quick_run
        steps_128 = math.ceil(N_TRAIN / 128)  # 11 steps per epoch
        for name in FIRST_ORDER:
            if name not in doc["methods"]:
                continue
            run = doc["methods"][name]["runs"][0]
            per_step = 2 if name == "complexity_two_step" else 1
            assert run["hvps"] == [0] * (EPOCHS + 1)
            assert run["gradients"] == [e * steps_128 * per_step for e in range(EPOCHS + 1)]
        for name in TRUST_REGION:
            if name not in doc["methods"]:
                continue
            run = doc["methods"][name]["runs"][0]
            steps_512 = math.ceil(N_TRAIN / 512)  # 3 steps per epoch
            assert run["gradients"][-1] == EPOCHS * steps_512
            assert run["hvps"][-1] > 0
            assert run["hvps"][-1] <= EPOCHS * steps_512 * 50  # at most max_cg_iters per step
            assert run["backprops"][-1] == run["gradients"][-1] + run["hvps"][-1]


class TestBadOptions:

    @pytest.mark.parametrize(
        "argv, message",
        [
            (["demo", "--methods", "sgd,lbfgs"], "lbfgs"),
            (["demo", "--methods", ","], "sgd"),
            (["demo", "--epochs", "0"], "--epochs"),
            (["demo", "--seeds", "-1"], "--seeds"),
            (["demo", "--epochs", "many"], "--epochs"),
            (["demo", "--bogus"], "--bogus"),
            (["frobnicate"], "frobnicate"),
            ([], "COMMAND"),
        ],
    )
    def test_exit_code_2_with_message(self, argv, message, capsys):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 2
        assert message in capsys.readouterr().err

    def test_unknown_method_lists_valid_ones(self, capsys):
        with pytest.raises(SystemExit):
            cli.main(["demo", "--methods", "sgd,nope"])
        err = capsys.readouterr().err
        for name in methods_lib.METHODS:
            assert name in err


class TestData:

    def test_shapes(self):
        d = data_lib.load_digits_split()
        assert (d.num_samples, d.num_features, d.num_classes) == (1797, 64, 10)
        assert d.x_train.shape == (N_TRAIN, 64) and d.x_test.shape == (1797 - N_TRAIN, 64)
        assert d.x_train.dtype == d.x_test.dtype == np.float32
        assert set(np.unique(d.y_train)) == set(range(10))

    def test_stratified_and_fixed(self):
        d, again = data_lib.load_digits_split(), data_lib.load_digits_split()
        np.testing.assert_array_equal(d.x_test, again.x_test)
        # Each class's share of the test set matches its share of the whole set to one sample.
        from sklearn.datasets import load_digits
        y = load_digits().target
        for c in range(10):
            assert abs(np.sum(d.y_test == c) - np.sum(y == c) * 0.25) <= 1

    def test_standardized_with_train_statistics_only(self):
        d = data_lib.load_digits_split()
        varying = d.x_train.std(axis=0) > 0
        np.testing.assert_allclose(d.x_train.mean(axis=0), 0.0, atol=1e-5)
        np.testing.assert_allclose(d.x_train.std(axis=0)[varying], 1.0, rtol=1e-4)
        # Undoing the transform with the stored statistics gives back raw pixels (0..16 integers).
        raw_test = d.x_test * d.scale + d.mean
        np.testing.assert_allclose(raw_test, np.round(raw_test), atol=1e-3)
        assert raw_test.min() == pytest.approx(0.0, abs=1e-3)
        # The test set is not standardized with its own statistics.
        assert np.abs(d.x_test.mean(axis=0)).max() > 0.05

    def test_standardize_ignores_test_inputs(self):
        rng = np.random.default_rng(0)
        x_train = rng.normal(3.0, 2.0, size=(20, 3))
        x_train[:, 2] = 5.0  # a constant feature keeps unit scale
        a = data_lib.standardize(x_train, rng.normal(size=(4, 3)))
        b = data_lib.standardize(x_train, 100.0 + rng.normal(size=(7, 3)))
        for u, v in zip((a[0], a[2], a[3]), (b[0], b[2], b[3])):
            np.testing.assert_array_equal(u, v)
        np.testing.assert_allclose(a[2], x_train.mean(axis=0), rtol=1e-6)
        np.testing.assert_allclose(a[3], [*x_train[:, :2].std(axis=0), 1.0], rtol=1e-6)
        np.testing.assert_array_equal(a[0][:, 2], 0.0)


class TestHarness:

    def test_epoch_batches_cover_every_example(self):
        idx = epoch_batches(N_TRAIN, 512, seed=3, epoch=0)
        assert idx.shape == (3, 512)
        assert set(idx.ravel().tolist()) == set(range(N_TRAIN))
        np.testing.assert_array_equal(idx, epoch_batches(N_TRAIN, 512, seed=3, epoch=0))
        assert not np.array_equal(idx, epoch_batches(N_TRAIN, 512, seed=3, epoch=1))
        assert not np.array_equal(idx, epoch_batches(N_TRAIN, 512, seed=4, epoch=0))

    def test_parse_method_list(self):
        assert methods_lib.parse_method_list("adam, sgd,adam") == ["adam", "sgd"]
        with pytest.raises(ValueError, match="^methods: unknown method"):
            methods_lib.parse_method_list("sgd,foo")

    def test_state_counters_found_inside_a_chain(self):
        from typing import NamedTuple

        class Counts(NamedTuple):
            gradient_count: int
            hvp_count: int

        state = ((), [{"a": Counts(7, 41)}])
        assert methods_lib.state_counters(state) == (7, 41)
        assert methods_lib.state_counters(((), ())) is None

    def test_non_finite_losses_become_null_and_nan(self, tmp_path):
        diverged = RunResult("sgd", 0, [2.3, float("nan")], [0, 11], [0, 0], [0.0, 0.1], 0.5,
                             0.1, float("inf"))
        doc = report.build_document({"seeds": 1}, {"sgd": [diverged]}, {"sgd": {"label": "SGD"}},
                                    {}, None)
        json.dumps(doc, allow_nan=False)  # strict JSON
        assert doc["methods"]["sgd"]["runs"][0]["train_loss"] == [2.3, None]
        assert doc["methods"]["sgd"]["summary"]["final_train_loss_mean"] is None
        assert "nan" in report.format_table(doc).splitlines()[2]
        path = report.plot_losses(doc, str(tmp_path / "f.png"))
        assert os.path.getsize(path) > 0

    def test_summary_mean_and_std_over_seeds(self):
        def run(seed, loss, acc):
            return RunResult("m", seed, [2.0, loss], [0, 10], [0, 5], [0.0, 1.0], 0.1, acc, 0.0)

        s = report.summarize([run(0, 0.5, 0.8), run(1, 1.5, 0.9)])
        assert s["final_train_loss_mean"] == pytest.approx(1.0)
        assert s["final_train_loss_std"] == pytest.approx(0.5)
        assert s["test_accuracy_mean"] == pytest.approx(0.85)
        assert s["test_accuracy_std"] == pytest.approx(0.05)
        assert s["backprops_mean"] == 15
        assert s["train_loss_curve_mean"] == [2.0, 1.0]


def test_piped_demo_prints_progress_lines_to_stderr(tmp_path):
    """`demo ... 2>progress.txt >table.txt`: stderr is not a terminal, so progress comes as plain
    lines (one per phase, at most one per 10 s otherwise), and stdout holds only the table."""
    import subprocess
    import sys

    progress, table = tmp_path / "progress.txt", tmp_path / "table.txt"
    with open(progress, "w") as err, open(table, "w") as out:
        code = subprocess.run(
            [sys.executable, "-m", "complexity_optax", "demo", "--quick", "--seeds", "1",
             "--epochs", "1", "--methods", "sgd,tr_sphere", "--output-dir", str(tmp_path / "o")],
            stdout=out, stderr=err, timeout=900).returncode
    assert code == 0, progress.read_text()
    lines = progress.read_text().splitlines()
    assert any(line.startswith("1/2 epochs (50%) sgd seed 0 loss=") for line in lines), lines
    assert any(line.startswith("2/2 epochs (100%) tr_sphere seed 0") for line in lines), lines
    assert lines[-1].startswith("done: 2/2 epochs in ")
    assert "epochs (" not in table.read_text() and "tr_sphere" in table.read_text()
