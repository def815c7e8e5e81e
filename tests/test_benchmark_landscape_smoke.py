# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Smoke test: ``benchmarks/landscape.py --quick`` runs and prints a complete table."""

import importlib.util
import math
import pathlib

import pytest

pytestmark = pytest.mark.integration  # runs the benchmark script end to end

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "landscape.py"


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("landscape_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_mode_prints_the_table(capsys):
    rows = _load_benchmark().main(["--quick"])
    out = capsys.readouterr().out
    assert [r["row"] for r in rows] == ["slq", "ggn", "fisher", "hessian-op", "p-spin"]
    slq = rows[0]
    assert slq["work"].startswith("16 HVPs (2x8)")
    assert math.isclose(slq["unit_ms"] * 16, slq["total_ms"], rel_tol=1e-9)
    for r in rows:
        assert r["total_ms"] > 0 and r["reference_ms"] > 0
        assert math.isclose(r["ratio"], r["unit_ms"] / r["reference_ms"], rel_tol=1e-9)
        assert r["row"] in out
    assert "ratio" in out.splitlines()[1]
    # SLQ holds its Krylov basis (8 rows here): at least that many parameter-sized buffers.
    assert slq["buffers"] >= 8 or math.isnan(slq["buffers"])
