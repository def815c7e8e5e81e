# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The ``landscape`` subcommand, run in-process in quick mode (integration)."""

import contextlib
import io
import json
import os

import numpy as np
import pytest

from complexity_optax.demo import cli
from complexity_optax.demo import landscape as landscape_lib


@pytest.fixture(scope="module")
def landscape_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("landscape"))
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main(["landscape", "--quick", "--json", "--no-progress", "--output-dir", out])
    return code, json.loads(stdout.getvalue()), stderr.getvalue(), out


@pytest.mark.integration
def test_quick_run_writes_figure_json_and_report(landscape_run):
    code, doc, err, out = landscape_run
    assert code == 0
    png = os.path.join(out, "landscape.png")
    assert os.path.getsize(png) > 20_000
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(os.path.join(out, "results.json")) as f:
        assert json.load(f)["barrier"] == doc["barrier"]
    assert "barrier, straight line" in err and "barrier, Bezier curve" in err
    assert doc["config"]["quick"] and doc["config"]["parameters"] == 4810
    print(f"\nquick landscape run: {doc['total_time']:.1f} s; barrier line "
          f"{doc['barrier']['line']:.4f}, curve {doc['barrier']['curve']:.4f}")


@pytest.mark.integration
def test_slices_paths_and_barriers_are_consistent(landscape_run):
    _, doc, _, _ = landscape_run
    c = doc["config"]
    paths, slices, planes = doc["paths"], doc["slices"], doc["planes"]
    # Both paths start and end at the two minima (exact parameters; the loss programs differ,
    # so compare to float32 rounding).
    same = dict(rel=1e-6)
    assert paths["line"][0] == doc["loss_a"] and paths["line"][-1] == doc["loss_b"]
    assert paths["curve"][0] == pytest.approx(doc["loss_a"], **same)
    assert paths["curve"][-1] == pytest.approx(doc["loss_b"], **same)
    # Every slice passes through minimum A at its centre (α = 0 exactly).
    for name in ("random", "eigen"):
        mid = c["points_1d"] // 2
        assert slices[name]["alphas"][mid] == 0.0
        assert slices[name]["losses"][mid] == pytest.approx(doc["loss_a"], **same)
        grid = np.asarray(planes[name]["losses"])
        assert grid.shape == (c["points_2d"], c["points_2d"])
        assert planes[name]["coordinates"][c["points_2d"] // 2] == 0.0
        assert grid[c["points_2d"] // 2, c["points_2d"] // 2] == pytest.approx(doc["loss_a"],
                                                                                  **same)
        if name == "random":
            assert grid.min() >= 0.99 * doc["loss_a"]  # a minimum of the plane (up to rounding)
        else:
            # The eigen plane spans only the quadratic region (the model rises by Δ ≪ loss_a at
            # its edges), where a quick run's small gradient still shows: the loss may dip below
            # loss_a, by less than the rise Δ itself.
            assert grid.min() >= doc["loss_a"] - doc["eigen_quadratic_rise"]
    # Two seeds, two minima: a barrier on the straight line; the trained curve lowers it.
    assert doc["barrier"]["line"] > 0.01
    assert doc["barrier"]["curve"] < 0.5 * doc["barrier"]["line"]
    assert doc["top_eigenvalues"][0] >= doc["top_eigenvalues"][1] > 0
    # The eigen slices span the region where the loss is quadratic: r = √(2Δ/λ₁), and the loss
    # at the slice's ends rises by Δ to within 25% (the docstring's claim), Δ ≤ 1.
    delta, lam = doc["eigen_quadratic_rise"], doc["top_eigenvalues"][0]
    assert doc["eigen_range_quadratic"] and 0 < delta <= 1.0
    assert doc["eigen_range"] == pytest.approx((2 * delta / lam) ** 0.5)
    ends = slices["eigen"]["losses"]
    rise = 0.5 * (ends[0] + ends[-1]) - doc["loss_a"]
    assert rise == pytest.approx(doc["eigen_measured_rise"], rel=1e-3, abs=1e-6)
    assert rise == pytest.approx(delta, rel=0.25)
    # Halfway out, the quadratic model's quarter of Δ.
    quarter = c["points_1d"] // 4
    mid = c["points_1d"] // 2
    alpha = slices["eigen"]["alphas"][mid + quarter]
    half = 0.5 * (slices["eigen"]["losses"][mid - quarter]
                  + slices["eigen"]["losses"][mid + quarter]) - doc["loss_a"]
    assert half == pytest.approx(0.5 * lam * alpha**2, rel=0.25)


def test_quadratic_range_closed_form():
    """On L(α) = ½λα² + cα⁴ the symmetric rise at r = √(2Δ/λ) is Δ(1 + 4cΔ/λ²): accepted once
    4cΔ/λ² ≤ 1/4, i.e. at the first Δ = 2⁻ʲ ≤ λ²/(16c); a pure quadratic keeps Δ = 1."""
    lam, c = 2.0, 50.0
    out = landscape_lib.quadratic_range(lambda a: 0.5 * lam * a**2 + c * a**4 + 3.0, lam)
    bound = lam**2 / (16 * c)
    j = int(np.ceil(-np.log2(bound)))
    assert out["quadratic_rise"] == pytest.approx(2.0**-j)
    assert out["radius"] == pytest.approx(np.sqrt(2 * 2.0**-j / lam))
    delta = out["quadratic_rise"]
    assert out["measured_rise"] == pytest.approx(delta * (1 + 4 * c * delta / lam**2), rel=1e-9)
    assert out["quadratic"]
    pure = landscape_lib.quadratic_range(lambda a: 0.5 * lam * a**2 + 1.0 * a, lam)
    assert pure["quadratic_rise"] == 1.0 and pure["radius"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="^curvature"):
        landscape_lib.quadratic_range(lambda a: a * a, 0.0)


@pytest.mark.integration
def test_figures_leave_a_notebooks_matplotlib_backend_alone(landscape_run, tmp_path):
    """The figure functions draw on a `matplotlib.figure.Figure` (no pyplot): a notebook that
    calls them keeps its backend (they used to force Agg, and inline plots stopped)."""
    import matplotlib

    _, doc, _, _ = landscape_run
    previous = matplotlib.get_backend()
    try:
        matplotlib.use("svg", force=True)
        path = landscape_lib.plot_landscape(doc, str(tmp_path / "again.png"))
        assert os.path.getsize(path) > 20_000
        assert matplotlib.get_backend().lower() == "svg"
    finally:
        matplotlib.use(previous, force=True)
