# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""One status vocabulary for the three full-batch solvers, and `throw=` eagerly and under jit.

Each solver runs on the 2-d Rosenbrock function from (-1.2, 1): with `max_steps=2` it cannot
converge (it needs ~20 steps), so the status is MAX_STEPS and `throw=True` must raise, with
the eager message (steps, f, ||g||) or, under `jax.jit`, the status message; with enough steps
it converges and `throw=True` returns the solution (1, 1).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import complexity_optax as co
from complexity_optax._src.common import status as S


def _rosen(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


_X0 = jnp.array([-1.2, 1.0])
SOLVERS = {
    "minimize_trust_region": co.minimize_trust_region,
    "minimize_cubic": co.minimize_cubic,
    "minimize_saddle_free_newton": co.minimize_saddle_free_newton,
}


def test_one_enumeration_with_one_message_per_code():
    assert co.TrustRegionStatus is co.SolverStatus
    assert set(S.STATUS_MESSAGES) == set(co.SolverStatus)
    assert len(set(S.STATUS_MESSAGES.values())) == len(co.SolverStatus)
    for code in co.SolverStatus:  # "converged" exactly for the successful codes
        assert S.STATUS_MESSAGES[code].startswith("converged") == (code in S.SUCCESSFUL_STATUSES)
    np.testing.assert_array_equal(S.is_successful(jnp.arange(8)),
                                  [c in S.SUCCESSFUL_STATUSES for c in range(8)])
    assert S.status_message(99) == "unknown status 99"


@pytest.mark.parametrize("name", list(SOLVERS))
def test_results_carry_status_message_and_converged(name):
    res = SOLVERS[name](_rosen, _X0, max_steps=2)
    assert int(res.status) == co.SolverStatus.MAX_STEPS
    assert res.message == "stopped: max_steps reached"
    assert not bool(res.converged)
    res = SOLVERS[name](_rosen, _X0, gtol=1e-4)
    assert bool(res.converged) and res.message.startswith("converged")
    np.testing.assert_allclose(res.params, [1.0, 1.0], atol=1e-3)


@pytest.mark.parametrize("name", list(SOLVERS))
def test_throw_raises_eagerly_with_the_numbers(name):
    with pytest.raises(RuntimeError, match=rf"{name}: stopped: max_steps reached \(after 2 steps"):
        SOLVERS[name](_rosen, _X0, max_steps=2, throw=True)
    res = SOLVERS[name](_rosen, _X0, gtol=1e-4, throw=True)  # successful: no raise
    np.testing.assert_allclose(res.params, [1.0, 1.0], atol=1e-3)


@pytest.mark.parametrize("use_equinox", [True, False], ids=["equinox", "debug_callback"])
@pytest.mark.parametrize("name", list(SOLVERS))
def test_throw_raises_under_jit(name, use_equinox, monkeypatch):
    if use_equinox:
        pytest.importorskip("equinox")
    monkeypatch.setattr(S, "_HAS_EQUINOX", use_equinox)
    solve = SOLVERS[name]
    failing = jax.jit(lambda x0: solve(_rosen, x0, max_steps=2, throw=True))
    with pytest.raises(RuntimeError, match="max_steps reached"):
        jax.block_until_ready(failing(_X0))
    ok = jax.jit(lambda x0: solve(_rosen, x0, gtol=1e-4, throw=True))
    np.testing.assert_allclose(jax.block_until_ready(ok(_X0)).params, [1.0, 1.0], atol=1e-3)


@pytest.mark.parametrize("name", list(SOLVERS))
def test_throw_must_be_a_bool(name):
    with pytest.raises(TypeError, match="throw"):
        SOLVERS[name](_rosen, _X0, throw="yes")


@pytest.mark.parametrize("name", list(SOLVERS))
def test_one_loop_one_accounting(name):
    """The three solvers run the one outer loop (`common.solver_loop`): per attempt one
    linearisation (value, gradient, HVPs) and the final one at `params`, the final gradient in
    the result, and the same stops in the same order: a stationary start stops before any step,
    a NaN start is NONFINITE, `max_steps` attempts are MAX_STEPS."""
    res = SOLVERS[name](_rosen, _X0, max_steps=3)
    assert int(res.num_steps) == 3 and int(res.num_grads) == 4
    assert 0 <= int(res.num_accepted) <= 3
    # The returned gradient is the gradient at the returned point.
    np.testing.assert_allclose(res.grad, jax.grad(_rosen)(res.params), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(res.grad_norm, jnp.linalg.norm(res.grad), rtol=1e-6)
    res = SOLVERS[name](_rosen, jnp.ones(2))  # the minimiser: g = 0
    assert (int(res.status), int(res.num_steps), int(res.num_grads)) == (0, 0, 1)
    res = SOLVERS[name](_rosen, jnp.array([jnp.nan, 1.0]))
    assert int(res.status) == co.SolverStatus.NONFINITE and int(res.num_steps) == 0
