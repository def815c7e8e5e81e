# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Hutchinson's stochastic trace and diagonal estimators on matrix-vector products.

For a symmetric linear map `A` on pytrees and Rademacher probes `z` (entries ±1, independent),
`E[zᵀAz] = tr(A)` and `E[z ⊙ Az] = diag(A)`. Only `matvec` is ever called: `A` is never
materialised, and the user's pytree is never ravelled.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.draws import draw_like, rademacher
from complexity_optax._src.common.types import MatVec
from complexity_optax.landscape.spectral import linear_operator as _linop


class StochasticEstimate(NamedTuple):
    """A Monte-Carlo estimate and its standard error (sample std / √num_samples)."""

    estimate: jax.Array
    standard_error: jax.Array


def rademacher_like(key: jax.Array, like: Any) -> Any:
    """A pytree shaped like `like` with independent ±1 entries (in each leaf's dtype).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> z = rademacher_like(jax.random.key(0), {"a": jnp.zeros(3)})
      >>> bool(jnp.all(jnp.abs(z["a"]) == 1.0))
      True
    """
    return draw_like(key, like, sampler=rademacher)


def mean_and_standard_error(samples: jax.Array) -> StochasticEstimate:
    """Sample mean and standard error `std(samples, ddof=1) / √n` along axis 0.

    Examples:
      >>> import jax.numpy as jnp
      >>> mean_and_standard_error(jnp.array([1.0, 3.0]))
      StochasticEstimate(estimate=Array(2., dtype=float32), standard_error=Array(1., dtype=float32))
    """
    n = samples.shape[0]
    mean = jnp.mean(samples, axis=0)
    std = jnp.std(samples, axis=0, ddof=1) if n > 1 else jnp.full_like(mean, jnp.inf)
    return StochasticEstimate(mean, std / jnp.sqrt(jnp.asarray(n, mean.dtype)))


def hutchinson_trace(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    num_samples: int = 100,
    batch_size: int | None = None,
) -> StochasticEstimate:
    r"""Estimates `tr(A)` from `num_samples` Rademacher quadratic forms.

    $$
    \widehat{\mathrm{tr}}(A) = \frac{1}{m}\sum_{s=1}^{m} z_s^\top A z_s,\qquad
    \mathrm{Var}[z^\top A z] = 2\sum_{i \ne j} A_{ij}^2 \;\; (A \text{ symmetric}),
    $$

    the lowest variance among i.i.d. probe distributions with unit second moment (Hutchinson,
    1989). The standard error is the sample standard deviation of the `m` quadratic forms over
    `√m`. Costs `m` calls of `matvec`; jit-compatible.

    Args:
      matvec: a linear map `v -> A v` on pytrees shaped like `like` (e.g. an HVP closure).
      like: a pytree of arrays (or `jax.ShapeDtypeStruct`) giving the shapes and dtypes of `v`.
      key: a PRNG key.
      num_samples: number of probes `m` (at least 2, for the standard error).
      batch_size: probes evaluated together with `vmap` (`None`: one at a time, least memory).

    Returns:
      `StochasticEstimate(estimate, standard_error)`, two scalars.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> a = jnp.diag(jnp.arange(1.0, 5.0))
      >>> est = hutchinson_trace(lambda v: a @ v, jnp.zeros(4), jax.random.key(0), num_samples=8)
      >>> round(float(est.estimate), 4), float(est.standard_error)  # exact for a diagonal A
      (10.0, 0.0)

    References:
      Hutchinson, *A stochastic estimator of the trace of the influence matrix for Laplacian
      smoothing splines*, Communications in Statistics - Simulation and Computation, 1989.
    """
    matvec, like = _checked(matvec, like, num_samples, batch_size, minimum=2)
    return _linop.compiled_call(
        lambda key: _trace(matvec, like, key, num_samples, batch_size), key)


def _checked(matvec: MatVec, like: Any, num_samples: int, batch_size: int | None,
             minimum: int) -> tuple[MatVec, Any]:
    """The argument checks of the Hutchinson estimators; `(matvec, like)` in the compute dtype."""
    checks.check_int("num_samples", num_samples, minimum=minimum)
    if batch_size is not None:
        checks.check_int("batch_size", batch_size, minimum=1)
    return _linop.in_compute_dtype(matvec, like)


def _trace(matvec: MatVec, like: Any, key: jax.Array, num_samples: int,
           batch_size: int | None) -> StochasticEstimate:
    """`hutchinson_trace` after its checks."""

    def quadratic_form(probe_key):
        z = rademacher_like(probe_key, like)
        return optax.tree.vdot(z, matvec(z))

    samples = jax.lax.map(quadratic_form, jax.random.split(key, num_samples), batch_size=batch_size)
    return mean_and_standard_error(samples)


def hutchinson_diagonal(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    num_samples: int = 100,
    batch_size: int | None = None,
) -> Any:
    r"""Estimates `diag(A)` as a pytree, from `num_samples` Rademacher probes.

    $$
    \widehat{\mathrm{diag}}(A) = \frac{1}{m}\sum_{s=1}^{m} z_s \odot A z_s,\qquad
    \mathbb{E}[(z \odot Az)_i] = A_{ii},\quad
    \mathrm{Var}[(z \odot Az)_i] = \sum_{j \ne i} A_{ij}^2.
    $$

    (Bekas, Kokiopoulou & Saad, 2007.) Costs `m` calls of `matvec`; jit-compatible. The
    products are summed as they come (a `lax.scan`), so memory stays at one product (one batch
    of `batch_size` products with `vmap`) whatever `m`; on a CPU `batch_size=None` is
    never slower. For fewer matvecs at the same accuracy see `hutchpp_diagonal`.

    Args:
      matvec: a linear map `v -> A v` on pytrees shaped like `like`.
      like: a pytree of arrays (or `jax.ShapeDtypeStruct`) with the shapes and dtypes of `v`.
      key: a PRNG key.
      num_samples: number of probes `m`.
      batch_size: probes evaluated together with `vmap` (`None`: one at a time).

    Returns:
      A pytree shaped like `like`: the estimated diagonal.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> a = jnp.diag(jnp.array([1.0, -2.0, 3.0]))
      >>> hutchinson_diagonal(lambda v: a @ v, jnp.zeros(3), jax.random.key(0), num_samples=4)
      Array([ 1., -2.,  3.], dtype=float32)

    References:
      Bekas, Kokiopoulou & Saad, *An estimator for the diagonal of a matrix*, Applied Numerical
      Mathematics 57(11-12), 2007.
    """
    matvec, like = _checked(matvec, like, num_samples, batch_size, minimum=1)

    def diagonal(key):
        def product(probe_key):
            z = rademacher_like(probe_key, like)
            return optax.tree.mul(z, matvec(z))

        keys = jax.random.split(key, num_samples)
        return optax.tree.scale(1.0 / num_samples, _summed(product, keys, like, batch_size))

    return _linop.compiled_call(diagonal, key)


def _summed(product, keys: jax.Array, like: Any, batch_size: int | None) -> Any:
    """`Σ_s product(keys[s])` accumulated in a scan: memory of one (or one batch of) product.

    With `batch_size` the full batches are `vmap`-ed inside the scan and the remainder runs
    as one smaller batch, so no more than `batch_size` products are ever alive.
    """
    num = keys.shape[0]
    batch = 1 if batch_size is None else min(batch_size, num)
    full, rest = divmod(num, batch)

    def body(total, chunk):
        values = jax.vmap(product)(chunk) if batch > 1 else jax.tree.map(
            lambda x: x[None], product(chunk[0]))
        return optax.tree.add(total, jax.tree.map(lambda x: jnp.sum(x, axis=0), values)), None

    zeros = optax.tree.zeros_like(like)
    chunks = keys[: full * batch].reshape((full, batch) + keys.shape[1:])
    total, _ = jax.lax.scan(body, zeros, chunks)
    if rest:
        total, _ = body(total, keys[full * batch:])
    return total
