# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Smoke test: the trust-region benchmark script runs end to end with --quick."""

import importlib.util
import math
import pathlib

_SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "trust_region.py"


def test_trust_region_benchmark_quick(capsys):
    spec = importlib.util.spec_from_file_location("_bench_trust_region", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.main(["--quick", "--repeats", "1"])
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
