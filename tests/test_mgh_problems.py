# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""14 Moré-Garbow-Hillstrom problems and a cond-1e6 quadratic: converged, steps vs scipy trust-ncg.

All problems run through ONE compiled solve: ``lax.switch`` on the problem index, every problem
padded to n = 12 (the padding coordinates have zero gradient and curvature, so the CG iterates
and the step counts are those of the unpadded problem).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from mgh_padded import padded_problems
from scipy.optimize import minimize

import complexity_optax as co
from complexity_optax.testing.mgh_problems import PROBLEMS

N = 12
_D = np.logspace(0, 6, N)


def _quadratic_cond_1e6(x):
    return 0.5 * jnp.sum(jnp.asarray(_D, x.dtype) * (x - 1.0) ** 2)


_SET = padded_problems(N, extra=(("quadratic_cond_1e6", _quadratic_cond_1e6, N, np.zeros(N)),))
_CASES, _NAMES, _BRANCHES, _switched, _x0 = _SET


_F = jax.jit(_switched)
_G = jax.jit(jax.grad(_switched))
_HP = jax.jit(lambda x, v, k: jax.jvp(lambda y: jax.grad(_switched)(y, k), (x,), (v,))[1])


@functools.cache
def _scipy(i):
    """scipy trust-ncg on the same (padded, jitted, float64) functions."""
    _, _, n, x0 = _CASES[i]
    pad = lambda x: np.concatenate([x, np.zeros(N - n)])
    with jax.enable_x64(True):
        k = jnp.asarray(i)
        return minimize(lambda x: float(_F(pad(x), k)), x0, method="trust-ncg",
                        jac=lambda x: np.asarray(_G(pad(x), k))[:n],
                        hessp=lambda x, v: np.asarray(_HP(pad(x), pad(v), k))[:n],
                        options={"gtol": 1e-5, "maxiter": 5000})


#: The ellipsoid runs: the badly scaled problems of the issue, the cond-1e6 quadratic and
#: Rosenbrock (a smaller switch, so a second cheap compile).
_ELLIPSOID_NAMES = ("brown_badly_scaled", "penalty_1", "variably_dimensioned",
                    "quadratic_cond_1e6", "rosenbrock", "powell_badly_scaled")
_ELLIPSOID_INDEX = [_NAMES.index(name) for name in _ELLIPSOID_NAMES]


def _switched_subset(x, j):
    return jax.lax.switch(j, [_BRANCHES[i] for i in _ELLIPSOID_INDEX], x)


@functools.cache
def _ours(ellipsoid):
    with jax.enable_x64(True):
        if ellipsoid == "identity":
            return [co.minimize_trust_region(_switched, jnp.asarray(_x0(i)), jnp.asarray(i),
                                             gtol=1e-5, max_steps=5000)
                    for i in range(len(_CASES))]
        return [co.minimize_trust_region(_switched_subset, jnp.asarray(_x0(i)), jnp.asarray(j),
                                         ellipsoid=ellipsoid, gtol=1e-5, max_steps=5000)
                for j, i in enumerate(_ELLIPSOID_INDEX)]


def test_problem_set_size():
    assert len(PROBLEMS) >= 12


_GTOL = 1e-5
_H = jax.jit(jax.hessian(_switched))


def _curvature(i, x):
    """Extreme eigenvalues of the dense float64 Hessian of problem `i` at the padded point `x`."""
    n = _CASES[i][2]
    with jax.enable_x64(True):
        hess = np.asarray(_H(jnp.asarray(x, jnp.float64), jnp.asarray(i)))[:n, :n]
    eig = np.linalg.eigvalsh(hess)
    return eig[0], eig[-1]


def _value_gap(i, x):
    """How far apart two points that both stop at ||g|| <= gtol may have f in this basin.

    Near a local minimum f* with Hessian H >= mu I, a point with gradient g has
    f - f* <= ||g||^2 / (2 mu) (the quadratic model; the Polyak-Lojasiewicz bound). Two points that
    both stop at ||g|| <= gtol in the same basin therefore differ in f by at most gtol^2 / (2 mu),
    with mu the smallest Hessian eigenvalue at the solution (float64, dense). A factor 2 covers
    the cubic term of a non-quadratic f over that distance. The bound depends on the problem and the
    stopping rule only: where the problem is badly conditioned (Powell's badly scaled: mu = 1.9e-5,
    so 5.3e-6) two correct solvers, or one solver on two CPUs, stop at visibly different values.
    """
    mu, _ = _curvature(i, x)
    return 2 * _GTOL**2 / (2 * max(mu, np.finfo(np.float64).tiny))


def _well_conditioned(i, x):
    """Step-for-step comparisons only where rounding cannot change the path: cond(H*) <= 1e8."""
    mu, top = _curvature(i, x)
    return mu > 0 and top / mu <= 1e8


def _check_stops_at_gtol(i, res):
    """The solver's own stopping rule, with the gradient recomputed in float64 at its point."""
    assert bool(res.converged), int(res.status)
    with jax.enable_x64(True):
        grad = np.asarray(_G(jnp.asarray(res.params, jnp.float64), jnp.asarray(i)))
    assert np.linalg.norm(grad) <= _GTOL * (1 + 1e-6)


@pytest.mark.parametrize("i", range(len(_CASES)), ids=_NAMES)
def test_sphere_matches_scipy_trust_ncg(i):
    ref, res = _scipy(i), _ours("identity")[i]
    print(f"{_NAMES[i]}: scipy nit={ref.nit} f={ref.fun:.3e}; ours steps={int(res.num_steps)} "
          f"f={float(res.value):.3e} hvps={int(res.num_hvps)}")
    assert ref.success
    assert int(res.status) == co.TrustRegionStatus.CONVERGED
    _check_stops_at_gtol(i, res)
    x = np.asarray(res.params)
    # Same basin, both stopped by gtol: f within the gap that gtol allows there (plus f's rounding).
    tol = _value_gap(i, x) + 1e-12 * max(abs(ref.fun), 1.0)
    assert abs(float(res.value) - ref.fun) <= tol, (float(res.value), ref.fun, tol)
    # Step for step where the problem is well conditioned (rounding cannot change the path).
    if _well_conditioned(i, x):
        assert abs(int(res.num_steps) - ref.nit) <= max(2, 0.05 * ref.nit)


def test_value_gap_is_what_separated_two_cpus():
    """Powell's badly scaled problem stopped at f = 4.311e-6 on one CPU and 3.778e-6 (scipy) on
    another (AVX-512): both at ||g|| <= 1e-5 from f* = 0. The gtol-derived gap admits that and no
    more than a few times it; on a well-conditioned problem it is far below the solutions' spread."""
    i = _NAMES.index("powell_badly_scaled")
    gap = _value_gap(i, np.asarray(_ours("identity")[i].params))
    assert 4.311e-6 - 3.778e-6 <= gap <= 1e-5
    j = _NAMES.index("rosenbrock")
    assert _value_gap(j, np.asarray(_ours("identity")[j].params)) < 1e-9


@pytest.mark.parametrize("j", range(len(_ELLIPSOID_NAMES)), ids=_ELLIPSOID_NAMES)
def test_rmsprop_ellipsoid_defaults_converge(j):
    """The badly scaled ones (Brown: 2010 scipy steps; Penalty I; variably dimensioned) included:
    the scaled radius (parameter units) makes the defaults scale-free."""
    i = _ELLIPSOID_INDEX[j]
    ref, res = _scipy(i), _ours("rmsprop")[j]
    print(f"{_NAMES[i]}: scipy nit={ref.nit}; rmsprop ellipsoid steps={int(res.num_steps)} "
          f"hvps={int(res.num_hvps)}")
    _check_stops_at_gtol(i, res)
    # A different path stops at gtol at a different point of the same basin.
    tol = _value_gap(i, np.asarray(res.params)) + 1e-12 * max(abs(ref.fun), 1.0)
    assert float(res.value) <= ref.fun + tol, (float(res.value), ref.fun, tol)
    assert int(res.num_steps) <= 3 * ref.nit + 20
