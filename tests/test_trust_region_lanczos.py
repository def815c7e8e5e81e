# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The Lanczos (GLTR-style) subproblem solver against a dense float64 exact solution."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import complexity_optax as co


def _exact_decrease(h, g, radius):
    """Dense exact trust-region subproblem: eigendecomposition + bisection on the secular
    equation, with the hard case (Moré & Sorensen 1983), in float64."""
    lam, v = np.linalg.eigh(h)
    c = v.T @ g
    norm = lambda mu: np.linalg.norm(c / (lam + mu))
    lo = max(0.0, -lam[0])
    if lam[0] > 0 and norm(0.0) <= radius:
        s = -v @ (c / lam)
    else:
        d = lam + lo
        y = np.where(d > 1e-12, -c / np.where(d > 1e-12, d, 1.0), 0.0)
        if np.linalg.norm(y) < radius:  # hard case
            y[0] += np.sqrt(radius**2 - np.linalg.norm(y) ** 2)
            s = v @ y
        else:
            a, b = lo, lo + np.linalg.norm(c) / radius + 1.0
            for _ in range(200):
                m = 0.5 * (a + b)
                a, b = (m, b) if norm(m) > radius else (a, m)
            s = -v @ (c / (lam + b))
    return -(g @ s + 0.5 * s @ h @ s)


_LANCZOS = jax.jit(lambda h, g, r: co.lanczos_subproblem(lambda v: h @ v, g, r, max_iters=40,
                                                         rtol=1e-8))
_STEIHAUG = jax.jit(lambda h, g, r: co.steihaug_cg(lambda v: h @ v, g, r, max_iters=40,
                                                   rtol=1e-8))


def test_keeps_95_percent_of_the_exact_decrease_on_random_indefinite_problems():
    rng = np.random.default_rng(0)
    lanczos, steihaug = [], []
    with jax.enable_x64(True):
        for _ in range(12):
            a = rng.normal(size=(30, 30))
            h, g, r = (a + a.T) / 2, rng.normal(size=30), 10 ** rng.uniform(-1, 1)
            exact = _exact_decrease(h, g, r)
            res = _LANCZOS(h, g, r)
            s = np.asarray(res.step)
            assert np.linalg.norm(s) <= r * (1 + 1e-8)
            direct = -(g @ s + 0.5 * s @ h @ s)
            assert float(res.model_decrease) == pytest.approx(direct, rel=1e-8)
            lanczos.append(direct / exact)
            steihaug.append(float(_STEIHAUG(h, g, r).model_decrease) / exact)
    print(f"fraction of the exact decrease: Lanczos min {min(lanczos):.3f} median "
          f"{np.median(lanczos):.4f}; Steihaug median {np.median(steihaug):.3f}")
    assert min(lanczos) >= 0.95 and np.median(lanczos) > np.median(steihaug)


def test_hard_case():
    """g (almost) orthogonal to the lowest eigenvector of an indefinite H."""
    rng = np.random.default_rng(1)
    q = np.linalg.qr(rng.normal(size=(20, 20)))[0]
    h = q @ np.diag(np.linspace(-2.0, 3.0, 20)) @ q.T
    g = q @ np.r_[1e-8, rng.normal(size=19)]
    with jax.enable_x64(True):
        exact = _exact_decrease(h, g, 5.0)
        res = _LANCZOS(h, g, 5.0)
        steihaug = float(_STEIHAUG(h, g, 5.0).model_decrease) / exact
    print(f"hard case: Lanczos {float(res.model_decrease) / exact:.4f}, Steihaug {steihaug:.3f}")
    assert float(res.model_decrease) / exact >= 0.95 and bool(res.hit_boundary)
    assert float(np.linalg.norm(np.asarray(res.step))) == pytest.approx(5.0, rel=1e-6)


def test_preconditioned_pytree_and_zero_gradient():
    g = {"a": jnp.array([1.0, -1.0]), "b": jnp.array([0.5])}
    m = {"a": jnp.array([4.0, 1.0]), "b": jnp.array([2.0])}
    h = {"a": jnp.array([2.0, -1.0]), "b": jnp.array([3.0])}
    hvp = lambda v: jax.tree.map(lambda x, y: x * y, h, v)
    res = co.lanczos_subproblem(hvp, g, 0.7, preconditioner=m, max_iters=3)
    m_norm = jnp.sqrt(sum(jnp.sum(mi * si**2) for mi, si in zip(jax.tree.leaves(m),
                                                                 jax.tree.leaves(res.step))))
    assert float(m_norm) == pytest.approx(0.7, rel=1e-5) and bool(res.hit_boundary)
    zero = co.lanczos_subproblem(hvp, jax.tree.map(jnp.zeros_like, g), 1.0)
    assert int(zero.iterations) == 0 and float(zero.model_decrease) == 0.0


def test_as_the_subproblem_of_both_entry_points():
    rosen = lambda x: jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    res = co.minimize_trust_region(rosen, jnp.array([-1.2, 1.0, -1.2, 1.0]),
                                   subproblem="lanczos", max_cg_iters=4, gtol=1e-4)
    assert bool(res.converged)
    tx = co.trust_region(ellipsoid="identity", initial_radius=1.0, subproblem="lanczos",
                         max_cg_iters=4)
    x = jnp.array([-1.2, 1.0, -1.2, 1.0])
    updates, state = tx.update(x, tx.init(x), x, value_fn=rosen)
    assert float(rosen(x + updates)) < float(rosen(x)) and int(state.accepted_count) == 1


@pytest.mark.parametrize("name", ["radius", "rtol", "theta"])
def test_issue13_bad_scalars_name_the_parameter(name):
    hvp, g = (lambda v: 2.0 * v), jnp.ones(4)
    kwargs = {"radius": 1.0, name: "abc"}
    with pytest.raises(TypeError, match=f"^{name} must"):
        co.lanczos_subproblem(hvp, g, kwargs.pop("radius"), **kwargs)
    kwargs = {"radius": 1.0, name: float("nan")}
    with pytest.raises(ValueError, match=f"^{name} must"):
        co.lanczos_subproblem(hvp, g, kwargs.pop("radius"), **kwargs)
    if name != "radius":
        with pytest.raises(ValueError, match=f"^{name} must be >= 0"):
            co.lanczos_subproblem(hvp, g, 1.0, **{name: -1.0})
    # Traced values are not checked: under jit the valid call gives the Newton step -g/2.
    res = jax.jit(lambda r: co.lanczos_subproblem(hvp, g, r, rtol=1e-6))(10.0)
    np.testing.assert_allclose(res.step, -0.5 * g, rtol=1e-6)
