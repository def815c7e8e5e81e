# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""optimistix client: the transformations as `optx.OptaxMinimiser` solvers.

`OptaxMinimiser` calls `update(grads, state, y, value=f, grad=grads, value_fn=...)`, so even the
methods that need the loss (matched annealing) or the loss function (the trust region) run
unchanged. The problem is a least-squares fit whose minimiser x* lies on the sphere through the
start (‖x*‖ = ‖x₀‖), so the spherical methods can reach it too; each solve is compared with
`optax.sgd` on the same step budget.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax
import pytest

optx = pytest.importorskip("optimistix")

import complexity_optax as co  # noqa: E402

N = 6
A = jnp.asarray(np.linalg.qr(np.random.default_rng(0).normal(size=(12, N)))[0]) * jnp.linspace(
    1.0, 2.0, N)  # singular values 1..2: condition number 2
X0 = jnp.asarray(np.random.default_rng(1).normal(size=N), jnp.float32)
_direction = np.random.default_rng(2).normal(size=N)
X_STAR = jnp.asarray(_direction / np.linalg.norm(_direction) * np.linalg.norm(X0), jnp.float32)
B = A @ X_STAR
MAX_STEPS = 400


def fn(y, args):
    del args
    return 0.5 * jnp.sum((A @ y["x"] - B) ** 2)


SOLVERS = {
    "sgd": lambda: optax.sgd(0.3),
    "complexity_sgd_matched": lambda: co.complexity_sgd(0.3, strength=co.matched_annealing(1e-3)),
    "complexity_sgd_cosine": lambda: co.complexity_sgd(
        0.3, strength=co.cosine_annealing(1e-3, 200), momentum=0.5),
    "anneal_sgd": lambda: co.anneal_sgd(
        0.3, field_scale=optax.linear_schedule(0.5, 0.0, 100), key=0),
    "trust_region": lambda: co.trust_region(ellipsoid="identity", initial_radius=1.0),
}


def solve(name):
    solver = optx.OptaxMinimiser(SOLVERS[name](), rtol=1e-7, atol=1e-7)
    sol = optx.minimise(fn, solver, {"x": X0}, max_steps=MAX_STEPS, throw=False)
    return sol.value["x"], int(sol.stats["num_steps"])


@pytest.mark.parametrize("name", [n for n in SOLVERS if n != "sgd"])
def test_optax_minimiser_reaches_the_minimum(name):
    x_sgd, steps_sgd = solve("sgd")
    x, steps = solve(name)
    err, err_sgd = float(jnp.linalg.norm(x - X_STAR)), float(jnp.linalg.norm(x_sgd - X_STAR))
    print(f"\noptimistix OptaxMinimiser: {name} |x - x*| = {err:.2e} in {steps} steps | "
          f"sgd {err_sgd:.2e} in {steps_sgd} steps")
    assert err_sgd < 1e-3
    assert err < 1e-3
    if name.startswith("complexity"):  # on the sphere through x0 all along
        assert float(jnp.linalg.norm(x)) == pytest.approx(float(jnp.linalg.norm(X0)), rel=1e-5)
