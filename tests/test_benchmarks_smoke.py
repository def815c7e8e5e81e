# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Smoke tests: the benchmark scripts run end to end with --quick."""

import importlib.util
import math
import pathlib

import pytest

pytestmark = pytest.mark.integration  # runs the benchmark scripts end to end

_BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", _BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_transform_overhead_benchmark_quick(capsys):
    medians = _load("transform_overhead").main(["--quick", "--rounds", "3"])
    out = capsys.readouterr().out
    assert "ratio to sgd" in out and "target: ratio <= 1.05" in out
    assert set(medians) == {"optax.sgd", "complexity_sgd (matched, sphere)",
                            "complexity_sgd (cosine, sphere)", "anneal_sgd (default, relative field)",
                            "anneal_sgd (absolute field)"}
    assert all(0 < t < 1.0 for t in medians.values())  # seconds per step of a tiny MLP


def test_trust_region_benchmark_quick(capsys):
    rows = _load("trust_region").main(["--quick", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "devices:" in out and "ratio" in out
    assert len(rows) == 7
    assert all(math.isfinite(v) for v in rows.values())
    # Same iteration count as scipy (both stop at max_steps on Rosenbrock with 20 steps).
    rosen = next(name for name in rows if name.startswith("scipy trust-ncg / ours, Rosenbrock"))
    assert "iters 20 vs 20" in rosen
    # No dense Hessian: the compiled step holds a handful of parameter-sized buffers.
    memory = next(v for name, v in rows.items() if name.startswith("Rosenbrock"))
    assert memory <= 10


def test_trust_region_solve_cost_rows():
    """`--solve-cost`: one row per size, scipy's and our steps and HVPs, and the parts loop does
    the solve's work (its final gradient is the gradient at the start: each step moves the point by 1e-30 of
    its work, below float64 resolution, which XLA cannot know, so nothing is hoisted)."""
    import jax.numpy as jnp
    import numpy as np

    bench = _load("trust_region")
    lines = bench.solve_cost((100,), max_steps=5, repeats=1)
    assert len(lines) == 2 and "ours/parts" in lines[0]
    fields = lines[1].replace("|", " ").split()
    assert fields[0] == "100" and fields[2] == "5" and fields[6] == "5"  # steps: scipy, ours
    assert all(math.isfinite(float(v)) and float(v) > 0 for v in fields[-2:])
    x0 = jnp.tile(jnp.array([-1.2, 1.0], jnp.float64), 50)
    grad = bench._parts_loop(x0, steps=3, products=2)
    import jax
    np.testing.assert_allclose(grad, jax.grad(bench.rosenbrock)(x0), rtol=1e-6)


@pytest.mark.slow  # the same script and helpers as the quick run above, at two more sizes
def test_trust_region_benchmark_size_sweep(capsys):
    bench = _load("trust_region")
    # The MLP widths give about n parameters at every size of the sweep (h^2 + 44 h + 10).
    assert bench.mlp_widths(10**6) == (32, 978, 978, 10)
    for n in (10**3, 10**4, 10**5, 10**6):
        d_in, h, _, d_out = bench.mlp_widths(n)
        count = d_in * h + h + h * h + h + h * d_out + d_out
        assert abs(count - n) <= 0.03 * n
    assert bench.parse_sizes("1e3,2e4") == (1000, 20000)
    rows = bench.main(["--sizes", "300", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "TR/parts" in out and "peak/params" in out
    assert set(rows) == {"rosenbrock n=300", "mlp n=300"}
    assert all(math.isfinite(v) and v > 0 for v in rows.values())


def test_cnn_defaults_docs_table_is_generated_from_the_record():
    """docs/cnn-defaults.md's table is `markdown(record)` of the committed record, verbatim."""
    import json

    module = _load("cnn_defaults")
    root = _BENCHMARKS.parent
    record = json.loads((_BENCHMARKS / "results" / "cnn_defaults_cpu.json").read_text())
    page = (root / "docs" / "cnn-defaults.md").read_text(encoding="utf-8")
    assert module.markdown(record) in page
    assert record["seeds"] >= 3 and record["budget_backprops"] == 5 * record["sgd_steps"]
    for name, entry in record["methods"].items():
        runs = entry["runs"]
        assert len(runs) == record["seeds"]
        if name != "sgd":  # each ran to the budget (one step may overshoot it)
            assert all(r["backprops"] >= record["budget_backprops"] for r in runs), name


def test_cnn_defaults_runs_a_method_to_its_backprop_budget():
    module = _load("cnn_defaults")
    from complexity_optax import datasets

    data = datasets.load_image_data(num_samples=200, test_fraction=0.5)
    out = module.run_method("tr_identity", module.DEFAULTS["tr_identity"][1], data, seed=0,
                            budget=6, steps_cap=6)
    assert out["backprops"] >= 6 and out["steps"] < 6  # a TR step costs a gradient + HVPs
    assert 0.0 <= out["test_accuracy"] <= 1.0 and out["train_loss"] > 0


def test_convolution_layouts_rows_and_exactness(capsys):
    """Both programs of each row compute the same thing: the rewrite moves values and sums the
    same products, so they agree to float32 rounding (32 digits, one repeat, PyTorch's layout)."""
    rows = _load("convolution_layouts").main(["--repeats", "1", "--batch", "32",
                                              "--layouts", "NCHW"])
    assert [(r[0], r[1]) for r in rows] == [
        ("NCHW", name) for name in ("hvp alone", "hvp in loop", "sgd epoch")]
    assert all(r[2] > 0 and r[3] > 0 for r in rows)
    assert all(r[4] < 1e-4 for r in rows), rows
    assert "plain/canonical" in capsys.readouterr().out


def test_transform_overhead_docs_block_is_the_record():
    record = (_BENCHMARKS / "results" / "transform_overhead_cpu.txt").read_text()
    page = (_BENCHMARKS.parent / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert f"```text\n{record}```" in page
    assert "anneal_sgd (default, relative field)" in record


def test_every_text_block_of_the_benchmarks_page_is_a_record():
    """docs/benchmarks.md shows measurements only as records written by the scripts: each of its
    ```text blocks stands (white space aside) in a file of benchmarks/results/."""
    import re

    page = (_BENCHMARKS.parent / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```text\n(.*?)^```", page, re.MULTILINE | re.DOTALL)
    records = [re.sub(r"\s+", " ", p.read_text())
               for p in (_BENCHMARKS / "results").glob("*.txt")]
    assert len(blocks) >= 4
    for block in blocks:
        text = re.sub(r"\s+", " ", block).strip()
        assert any(text in record for record in records), block[:200]
