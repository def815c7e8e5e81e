# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The ``spin-glass`` and ``spectrum`` subcommands, run in-process in quick mode."""

import contextlib
import io
import json
import math
import os

import numpy as np
import pytest

from complexity_optax import landscape
from complexity_optax.demo import cli
from complexity_optax.demo import spectrum as spectrum_lib
from complexity_optax.demo import spin_glass as spin_glass_lib

pytestmark = pytest.mark.integration  # runs the CLI subcommands end to end


# ------------------------------------------------------------------------------- spin-glass
def _run_quick(subcommand, tmp_path_factory):
    """Runs ``subcommand --quick --json`` in-process: (exit code, JSON document, stderr, folder)."""
    out = str(tmp_path_factory.mktemp(subcommand))
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main([subcommand, "--quick", "--json", "--no-progress", "--output-dir", out])
    return code, json.loads(stdout.getvalue()), stderr.getvalue(), out


@pytest.fixture(scope="module")
def spin_glass_run(tmp_path_factory):
    return _run_quick("spin-glass", tmp_path_factory)


class TestSpinGlass:

    def test_exit_code_files_and_tables(self, spin_glass_run):
        code, doc, err, out = spin_glass_run
        assert code == 0
        png = os.path.join(out, "minima_energies.png")
        assert os.path.getsize(png) > 10_000
        with open(png, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        with open(os.path.join(out, "results.json")) as f:
            assert json.load(f)["methods"].keys() == doc["methods"].keys()
        assert "projected GD" in err and "distinct minima" in err and "ground state" in err

    def test_theory_lines_are_the_library_values(self, spin_glass_run):
        _, doc, _, _ = spin_glass_run
        assert doc["config"]["n"] == 50 and doc["config"]["p"] == 3
        assert doc["theory"]["threshold"] == pytest.approx(-2 * math.sqrt(2 / 3), abs=1e-6)
        assert doc["theory"]["ground_state"] == pytest.approx(-1.656998, abs=1e-5)

    def test_minima_energies_in_the_expected_band(self, spin_glass_run):
        _, doc, _, _ = spin_glass_run
        e_0 = landscape.ground_state_energy(3)
        for name, m in doc["methods"].items():
            runs = doc["config"]["instances"] * doc["config"]["starts"]
            assert m["runs"] == len(m["energies"]) == runs, name
            assert m["converged"] == runs, name
            assert -e_0 - 0.1 < m["mean"] < -1.3, name
            assert m["best"] <= m["mean"] <= m["worst"], name
            assert m["std"] == pytest.approx(np.std(m["energies"]), rel=1e-6)
            assert m["gap_to_threshold"] == pytest.approx(m["mean"] + 2 * math.sqrt(2 / 3))

    def test_field_trivialisation(self, spin_glass_run):
        _, doc, _, _ = spin_glass_run
        regimes = doc["field_regimes"]
        assert [r["h2"] for r in regimes.values()] == pytest.approx([0.0, 1.5, 12.0])
        assert regimes["strong"]["clusters_per_instance"] == [1]
        assert regimes["strong"]["mean_overlap"] > 0.99
        assert regimes["none"]["clusters_per_instance"][0] > 1
        assert regimes["none"]["mean_overlap"] < regimes["strong"]["mean_overlap"]

    def test_regimes_figure_and_embedding(self, spin_glass_run):
        _, doc, err, out = spin_glass_run
        png = os.path.join(out, "field_regimes.png")
        assert doc["regimes_figure"] == os.path.abspath(png)
        assert os.path.getsize(png) > 10_000
        with open(png, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        starts = doc["config"]["starts"]
        regimes = doc["field_regimes"]
        assert [r["paper_regime"] for r in regimes.values()] == [
            "exponential", "polynomial", "trivial"]
        for name, r in regimes.items():
            emb = r["embedding"]
            xy = np.asarray(emb["coordinates"], dtype=np.float64)
            assert xy.shape == (starts, 2), name  # one 2-D point per minimum (start)
            assert np.all(np.isfinite(xy)), name
            np.testing.assert_allclose(xy.mean(axis=0), 0.0, atol=1e-9)  # MDS is centred
            e = np.asarray(emb["energies_per_spin"])
            assert e.shape == (starts,) and np.all(np.isfinite(e)), name
            # The quick run has one instance: the embedded one holds every minimum.
            assert e.min() == pytest.approx(r["energy_min"]) and e.max() == pytest.approx(
                r["energy_max"]), name
            assert e.mean() == pytest.approx(r["energy_mean"]), name
            assert emb["clusters"] == r["clusters_per_instance"][0], name
            assert sorted(set(emb["cluster_of_start"])) == list(range(emb["clusters"])), name
            assert 0.0 < emb["explained"] <= 1.0 + 1e-12, name
            clusters = r["clusters_per_instance"][0]
            line = (f"distinct minima {clusters} of {starts} starts, mean overlap "
                    f"{r['mean_overlap']:.3f}, H/N in [{r['energy_min']:.4f}, "
                    f"{r['energy_max']:.4f}]")
            assert line in err, name
        assert "exponential (no field):" in err and "trivial (strong field):" in err

    def test_trivial_regime_is_one_point(self, spin_glass_run):
        # Measured in the quick run (N = 50, 16 starts): the strong field leaves one minimum
        # (mean overlap 1.000), so its embedding collapses to one point; no field gives 11.
        _, doc, _, _ = spin_glass_run
        trivial = doc["field_regimes"]["strong"]["embedding"]
        assert trivial["clusters"] == 1
        assert np.abs(np.asarray(trivial["coordinates"])).max() < 1e-2
        spread = np.asarray(doc["field_regimes"]["none"]["embedding"]["coordinates"])
        assert np.ptp(spread, axis=0).max() > 0.3  # overlaps ~0.1: distances ~0.9 apart

    def test_classical_mds_recovers_a_triangle(self):
        # A 3-4-5 right triangle: the embedded pairwise distances are the given ones.
        d = np.array([[0.0, 3.0, 4.0], [3.0, 0.0, 5.0], [4.0, 5.0, 0.0]])
        xy = spin_glass_lib.classical_mds(d, dims=2)
        assert xy.shape == (3, 2)
        embedded = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=-1)
        np.testing.assert_allclose(embedded, d, atol=1e-6)
        np.testing.assert_allclose(xy.mean(axis=0), 0.0, atol=1e-12)
        # Closed form: trace B = Σ_a ‖x_a − x̄‖² = (1/M) Σ_{a<b} d_ab² = (9 + 16 + 25)/3.
        assert np.sum(xy**2) == pytest.approx(50 / 3, rel=1e-9)

    def test_classical_mds_of_overlap_distances(self):
        # Orthogonal ±1 configurations: d_ab = 1 for a ≠ b, an equilateral triangle of side 1.
        sigmas = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, -1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0]])
        d = spin_glass_lib.overlap_distances(sigmas)
        np.testing.assert_allclose(d, 1.0 - np.eye(3))
        xy = spin_glass_lib.classical_mds(d)
        embedded = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=-1)
        np.testing.assert_allclose(embedded, 1.0 - np.eye(3), atol=1e-6)
        assert spin_glass_lib.mds_explained(d) == pytest.approx(1.0)
        # Four equidistant points span R^3 with equal eigenvalues: 2-D keeps 2/3, 1-D 1/3.
        simplex = 1.0 - np.eye(4)
        assert spin_glass_lib.mds_explained(simplex, dims=2) == pytest.approx(2 / 3)
        assert spin_glass_lib.mds_explained(simplex, dims=1) == pytest.approx(1 / 3)

    @pytest.mark.parametrize(
        ("distances", "dims", "name"),
        [(np.zeros((2, 3)), 2, "distances"), (np.zeros((3, 3)), 4, "dims"),
         (np.zeros((3, 3)), 0, "dims")],
    )
    def test_classical_mds_rejects_bad_arguments(self, distances, dims, name):
        with pytest.raises(ValueError, match=f"^{name}"):
            spin_glass_lib.classical_mds(distances, dims=dims)

    def test_cluster_labels_follow_cluster_minima(self):
        a = np.array([1.0, 1.0, 1.0, 1.0])
        b = np.array([1.0, -1.0, 1.0, -1.0])
        labels = spin_glass_lib.cluster_labels(np.stack([a, b, a + 1e-3, b, a]))
        assert labels.tolist() == [0, 1, 0, 1, 0]


def test_cluster_minima_counts_and_overlap():
    n = 4
    a = np.array([1.0, 1.0, 1.0, 1.0])
    b = np.array([1.0, -1.0, 1.0, -1.0])
    near_a = a + np.array([1e-3, -1e-3, 0.0, 0.0])
    clusters, overlap = spin_glass_lib.cluster_minima(np.stack([a, b, near_a]))
    assert clusters == 2
    q = np.array([a @ b, a @ near_a, b @ near_a]) / n
    assert overlap == pytest.approx(q.mean())


# --------------------------------------------------------------------------------- spectrum
@pytest.fixture(scope="module")
def spectrum_run(tmp_path_factory):
    return _run_quick("spectrum", tmp_path_factory)


class TestSpectrum:

    def test_exit_code_files_and_report(self, spectrum_run):
        code, doc, err, out = spectrum_run
        assert code == 0
        png = os.path.join(out, "hessian_spectrum.png")
        assert os.path.getsize(png) > 10_000
        assert os.path.exists(os.path.join(out, "results.json"))
        assert "index fraction" in err and "diagonal share" in err and "semicircle" in err
        assert doc["config"]["method"] == "adam" and doc["config"]["parameters"] == 4810

    def test_training_reduced_the_loss(self, spectrum_run):
        _, doc, _, _ = spectrum_run
        losses = doc["train_loss"]
        assert len(losses) == spectrum_lib.QUICK["epochs"] + 1
        assert losses[-1] < 0.1 * losses[0]
        assert doc["loss"] == pytest.approx(losses[-1], rel=1e-3)

    def test_density_integrates_to_one(self, spectrum_run):
        _, doc, _, _ = spectrum_run
        grid = np.asarray(doc["density"]["grid"])
        rho = np.asarray(doc["density"]["density"])
        assert np.all(rho >= 0)
        assert np.sum(rho) * (grid[1] - grid[0]) == pytest.approx(1.0, abs=0.02)
        weights = np.asarray(doc["density"]["weights"])
        assert weights.shape == (spectrum_lib.QUICK["probes"], spectrum_lib.QUICK["lanczos_steps"])
        np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-4)

    def test_index_top_and_mean_eigenvalues(self, spectrum_run):
        _, doc, _, _ = spectrum_run
        assert 0.0 <= doc["index_fraction"] <= 1.0
        top = doc["top_eigenvalues"]
        assert len(top) == spectrum_lib.TOP_K and top == sorted(top, reverse=True)
        assert top[0] >= doc["mean_eigenvalue"]
        # The largest Ritz value is the largest SLQ node (both are the Hessian's top eigenvalue).
        assert top[0] == pytest.approx(np.max(doc["density"]["nodes"]), rel=0.05)
        # Hutchinson's tr(H)/N and the SLQ first moment estimate the same number.
        assert doc["slq_mean"] == pytest.approx(doc["mean_eigenvalue"], rel=0.3)
        assert 0.0 < doc["diagonal_share"] <= 1.0

    def test_prints_tau_and_near_zero_mass(self, spectrum_run):
        _, doc, err, _ = spectrum_run
        assert "threshold τ" in err and "near-zero mass" in err
        # τ = 1e-3 of the spectral norm, whose estimate is the largest |SLQ node|.
        norm = np.max(np.abs(doc["density"]["nodes"]))
        assert doc["index_tau"] == pytest.approx(1e-3 * norm, rel=1e-4)
        assert 0.0 <= doc["near_zero_mass"] <= 1.0
        low, high = doc["index_bracket"]
        assert low <= doc["index_fraction"] <= high
        # The bound runs from the Gauss count to the farther end of each probe's bracket.
        assert (high - low) / 2 - 1e-6 <= doc["index_bias_bound"] <= high - low + 1e-6
        assert f"{doc['index_tau']:.3g}" in err
        # The near-zero mass is the midpoint of its Gauss–Radau bracket (the report prints both).
        near_low, near_high = doc["near_zero_bracket"]
        assert 0.0 <= near_low <= doc["near_zero_mass"] <= near_high <= 1.0
        assert f"{near_low:.4f}" in err and f"{near_high:.4f}" in err
        # The figure's title shows the index with its τ and, when set, the warning.
        title = spectrum_lib.index_title(doc)
        assert f"τ = {doc['index_tau']:.2g}" in title and f"{doc['index_fraction']:.3f}" in title
        assert ("ILL-CONDITIONED" in title) == doc["index_ill_conditioned"]
        assert ("WARNING" in err) == doc["index_ill_conditioned"]

    def test_semicircle_has_the_slq_mean_and_variance(self, spectrum_run):
        _, doc, _, _ = spectrum_run
        sc = doc["semicircle"]
        variance = doc["slq_second_moment"] - doc["slq_mean"] ** 2
        assert sc["radius"] == pytest.approx(2 * math.sqrt(variance), rel=1e-5)
        assert sc["caption"].startswith("SLQ puts")
        assert ("not a semicircle" in sc["caption"]) == (
            not sc["semicircle_like"] and sc["outliers_beyond_edge"] > 0
        )


def _stats_from_eigenvalues(eigenvalues, top):
    """What ``compare_with_semicircle`` reads, for a known spectrum (dense quadrature)."""
    eigenvalues = np.asarray(eigenvalues, np.float64)
    grid = np.linspace(eigenvalues.min() - 0.5, eigenvalues.max() + 0.5, 4001)
    sigma = 0.05
    rho = np.exp(-0.5 * ((grid[:, None] - eigenvalues) / sigma) ** 2).mean(axis=1)
    rho /= sigma * math.sqrt(2 * math.pi)
    return dict(grid=grid, density=rho, nodes=eigenvalues[None], weights=np.full(
        (1, eigenvalues.size), 1.0 / eigenvalues.size), m1=eigenvalues.mean(),
        m2=np.mean(eigenvalues**2), top=np.asarray(top))


def test_index_title_carries_tau_bracket_and_flag():
    doc = {"index_fraction": 0.135, "index_tau": 0.00213, "index_relative_tau": 1e-3,
           "index_bracket": [0.1, 0.2], "index_ill_conditioned": True}
    title = spectrum_lib.index_title(doc)
    assert "0.135" in title and "τ = 0.0021" in title and "[0.100, 0.200]" in title
    assert "ILL-CONDITIONED" in title
    assert "ILL" not in spectrum_lib.index_title({**doc, "index_ill_conditioned": False})


def test_compare_with_semicircle_recognises_a_semicircle_and_a_spike():
    # Quantiles of the unit-radius semicircle: a GOE-like spectrum.
    u = (np.arange(2000) + 0.5) / 2000
    x = np.linspace(-1, 1, 20001)
    cdf = np.asarray(landscape.semicircle_cdf(x, 1.0))
    goe = np.interp(u, cdf, x)
    result = spectrum_lib.compare_with_semicircle(_stats_from_eigenvalues(goe, goe[::-1][:5]))
    assert result["radius"] == pytest.approx(1.0, rel=0.01)
    assert result["semicircle_like"] and result["outliers_beyond_edge"] == 0
    assert "close to a semicircle" in result["caption"]
    # A spike at 0 plus three outliers: the trained-network shape.
    spike = np.concatenate([np.zeros(1997), [5.0, 8.0, 12.0]])
    result = spectrum_lib.compare_with_semicircle(_stats_from_eigenvalues(spike, [12.0, 8.0, 5.0]))
    assert not result["semicircle_like"] and result["outliers_beyond_edge"] == 3
    assert result["mass_near_zero"] == pytest.approx(1997 / 2000)
    assert "bulk concentrated near 0 plus a few large outliers" in result["caption"]


# ------------------------------------------------------------------------------ bad options
@pytest.mark.parametrize(
    "argv, message",
    [
        (["spin-glass", "--n", "1"], "--n"),
        (["spin-glass", "--p", "1"], "--p"),
        (["spin-glass", "--starts", "1"], "--starts"),
        (["spin-glass", "--instances", "0"], "--instances"),
        (["spin-glass", "--n", "many"], "--n"),
        (["spin-glass", "--n", "2000"], "n**p"),
        (["spectrum", "--method", "nope"], "--method"),
        (["spectrum", "--epochs", "0"], "--epochs"),
        (["spectrum", "--lanczos-steps", "2"], "--lanczos-steps"),
        (["spectrum", "--probes", "x"], "--probes"),
    ],
)
def test_bad_options_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
