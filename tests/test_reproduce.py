# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The ``reproduce`` subcommand: architectures, verdict logic, training accounting, quick runs."""

import contextlib
import io
import json
import math
import os

import jax
import numpy as np
import pytest
from flax import nnx

from complexity_optax.demo import cli, reproduce
from complexity_optax.demo.reproduce import architectures, optimizers, training, verdicts


# --------------------------------------------------------------------------- architectures
def _count_abstract(name):
    """Parameter count from shapes only (nnx.eval_shape: no arrays are allocated)."""
    model = nnx.eval_shape(lambda: architectures.NETWORKS[name](nnx.Rngs(0)))
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(nnx.state(model, nnx.Param)))


@pytest.mark.parametrize("name, count", [
    ("fc", 101_770),            # 784·128 + 128 + 128·10 + 10 (the number)
    ("conv", 431_080),          # 520 + 25,050 + 400,500 + 5,010
    ("lenet", 431_080),
    ("autoencoder", 2_837_314),  # 784-1000-500-250-30-250-500-1000-784
    ("mnistfc", 1_863_690),     # 784-1024-1024-10
])
def test_parameter_counts(name, count):
    assert _count_abstract(name) == count
    assert architectures.PARAM_COUNTS[name] == count
    assert architectures.expected_param_count(name) == count


def test_convnet_matches_flax_conv_and_pool():
    """The patch-matmul convolution and reshape pooling equal nnx.Conv + nnx.max_pool."""
    net = architectures.ConvNet(rngs=nnx.Rngs(0))
    x = jax.random.uniform(jax.random.key(1), (2, 28, 28, 1))
    ref = nnx.max_pool(jax.nn.relu(net.conv1(x)), window_shape=(2, 2), strides=(2, 2))
    ours = architectures._max_pool2(jax.nn.relu(architectures._conv(x, net.conv1)))
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    assert net(x).shape == (2, 10)


def test_init_network_rejects_unknown_name():
    with pytest.raises(ValueError, match="^name"):
        architectures.init_network("resnet", 0)


# ---------------------------------------------------------------------------- verdict logic
def test_compare_counts_seeds_and_median_ratio():
    v = verdicts.compare("A beats B", [60.0, 70.0, 90.0], [100.0, 100.0, 80.0])
    assert (v.held, v.seeds_held, v.seeds) == (True, 2, 3)
    assert v.ratio == pytest.approx(0.7)
    assert v.line().startswith("A beats B: yes, 2/3 seeds, ratio 0.70")


def test_compare_higher_is_better_ties_and_missing():
    # Ties within 1% are not wins; a seed where only B reached the target is a loss.
    v = verdicts.compare("acc", [90.0, 80.0, None], [89.5, 70.0, 50.0], lower_is_better=False)
    assert (v.held, v.seeds_held, v.seeds) == (False, 1, 3)
    # A reached it, B never did: a win without a ratio.
    v = verdicts.compare("bp", [10.0, 12.0], [None, None])
    assert (v.held, v.seeds_held, v.ratio) == (True, 2, None)
    v = verdicts.compare("bp", [None, float("nan")], [None, None])
    assert v.held is None and "n/a" in v.line()


def test_ratio_band_and_first_reaching():
    v = verdicts.ratio_band("comparable", [60.0, 100.0, 500.0], [100.0, 100.0, 100.0])
    assert (v.held, v.seeds_held, v.ratio) == (True, 2, pytest.approx(1.0))
    assert verdicts.first_reaching([0, 5, 9], [3.0, float("nan"), 0.2], 0.5) == 9
    assert verdicts.first_reaching([0, 5], [3.0, 2.0], 0.5) is None
    assert verdicts.mean_std([1.0, 3.0, None]) == (2.0, 1.0, 2)


# ------------------------------------------------------------------------ training accounting
@pytest.fixture(scope="module")
def tiny_task():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(64, 28, 28, 1)).astype(np.float32)
    y = x.reshape(64, -1)[:, :10].argmax(1).astype(np.int32)  # a linear rule: learnable
    return training.make_task("fc", "ce", x, y, x[:32], y[:32], eval_size=32)


def test_first_order_backprops_and_lr_sharing(tiny_task):
    spec = training.MethodSpec("sgd", lambda: optimizers.first_order("sgd", 0.05), batch_size=16,
                               key="sgd")
    run = training.train(tiny_task, spec, seed=0, epochs=2)
    assert run["backprops"] == [0, 4, 8] and run["epochs"] == [0.0, 1.0, 2.0]
    assert run["final_train_loss"] < run["train_loss"][0]
    # Same compiled epoch for another learning rate (injected hyper-parameter): no compile.
    spec0 = training.MethodSpec("sgd", lambda: optimizers.first_order("sgd", 0.0), batch_size=16,
                                key="sgd")
    frozen = training.train(tiny_task, spec0, seed=0, epochs=1)
    assert frozen["compile_s"] == 0.0
    assert frozen["train_loss"][1] == pytest.approx(frozen["train_loss"][0], abs=1e-6)


def test_trust_region_backprops_are_gradients_plus_hvps(tiny_task):
    spec = training.MethodSpec(
        "tr", lambda: optimizers.trust_region(
            "identity", initial_radius=0.05, max_radius=10.0, eta1=0.01, eta2=0.95,
            increase=1.1, decrease_divisor=1.5, max_cg_iters=3),
        batch_size=32, kind="trust_region")
    run = training.train(tiny_task, spec, seed=0, epochs=2)
    assert run["gradients"][-1] == 4 and run["tr_steps"] == 4
    assert 4 <= run["hvps"][-1] <= 12  # 1 to 3 HVPs per step
    assert run["backprops"][-1] == run["gradients"][-1] + run["hvps"][-1]
    assert all(math.isfinite(v) for v in run["train_loss"])


def test_write_json_is_atomic_and_markdown_has_verdicts(tmp_path):
    path = tmp_path / "r.json"
    reproduce.write_json({"a": 1.5}, str(path))
    assert json.loads(path.read_text()) == {"a": 1.5}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left
    doc = {"experiment": "x", "mode": "quick", "seeds": 1, "verdicts": [{"line": "c: yes"}],
           "tables": [{"title": "t", "columns": ["m", "v"], "rows": [["a", 0.5]]}]}
    text = reproduce.format_markdown(doc)
    assert "| a | 0.5 |" in text and "- c: yes" in text and "Quick mode" in text


# ------------------------------------------------------------------------------ quick runs
def _run(name, tmp_path_factory):
    out = str(tmp_path_factory.mktemp(name))
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main(["reproduce", name, "--quick", "--json", "--no-progress",
                         "--output-dir", out])
    return code, json.loads(stdout.getvalue()), out


def _finite_table_numbers(document):
    """Every 'mean ± std' cell of the tables parses to finite numbers."""
    count = 0
    for table in document["tables"]:
        for row in table["rows"]:
            for cell in row[1:]:
                if isinstance(cell, str) and "±" in cell:
                    mean, std = cell.split(" (")[0].split(" ± ")
                    assert math.isfinite(float(mean)), cell
                    # One seed (quick mode) has no spread: "–", never a zero.
                    assert std == "–" if document["seeds"] == 1 else math.isfinite(float(std))
                    count += 1
    return count


@pytest.mark.integration
@pytest.mark.parametrize("name", ["kohler2019", "chaudhari2015", "richemond2019"])
def test_quick_run_writes_table_figure_json_and_verdicts(name, tmp_path_factory):
    code, document, out = _run(name, tmp_path_factory)
    assert code == 0
    stem = os.path.join(out, f"reproduce_{name}_quick")
    with open(stem + ".json") as f:
        assert json.load(f)["verdicts"] == document["verdicts"]
    assert os.path.getsize(document["figures"][0]) > 10_000  # a real PNG
    assert _finite_table_numbers(document) >= 10
    lines = [v["line"] for v in document["verdicts"]]
    assert len(lines) >= 4
    assert all((": yes, " in l) or (": no, " in l) or (": n/a" in l) for l in lines)
    with open(stem + ".md") as f:
        text = f.read()
    assert "## Verdicts" in text and lines[0] in text and "Quick mode" in text
