# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""The thresholded index: the fraction of eigenvalues below $-\tau$, with a bracketed bias.

Trained networks have a large cluster of Hessian eigenvalues at (numerically) zero, so the sign
count at $0$ is ill-conditioned: which side of $0$ the rounding puts them on decides the index.
The well-posed quantity is the fraction below $-\tau$ for an explicit $\tau > 0$,

$$
\alpha(\tau) = \frac{1}{N}\,\#\{i : \lambda_i < -\tau\} = \frac{1}{N}\,
\mathrm{tr}\,\mathbf{1}(A < -\tau),
$$

estimated by stochastic Lanczos quadrature. For each probe $q$, $m$ Lanczos steps fix the
moments of the spectral measure $\mu_q = \sum_i (u_i^\top q)^2 \delta_{\lambda_i}$ up to degree
$2m - 1$. The Gauss–Radau rule with a node prescribed at $x = -\tau$ (the tridiagonal extended by
one row whose last diagonal entry puts $x$ in its spectrum) is the canonical representation of
these moments through $x$, and the Chebyshev–Markov–Krein inequalities bound the distribution
function of *every* measure with those moments:

$$
\sum_{\tilde\theta_j < x} \tilde w_j \;\le\; \mu_q\big((-\infty, x)\big) \;\le\;
\sum_{\tilde\theta_j < x} \tilde w_j + \tilde w_x ,
$$

where $\tilde w_x$ is the weight of the prescribed node (the largest mass the moments allow at
$x$, the Christoffel function). So each probe's quadrature error is bracketed, not estimated:
the Gauss count's distance to the farther end is the bias bound, reported next to the
probe-to-probe standard error.
A wide bracket means that the moments cannot tell the mass just below $-\tau$ from the mass
just above it: the count is then *ill-conditioned* at this $\tau$ and $m$ (raise $m$ or $\tau$).

References:
  Golub & Meurant, *Matrices, Moments and Quadrature with Applications*, Princeton 2010, §6.2
  (Gauss–Radau rules from the Lanczos tridiagonal); Karlin & Studden, *Tchebycheff Systems*,
  Wiley 1966, ch. III (Chebyshev–Markov–Krein inequalities); Lin, Saad & Yang, *Approximating
  spectral densities of large matrices*, SIAM Review 58(1), 2016; Ubaru, Chen & Saad, *Fast
  estimation of tr(f(A)) via stochastic Lanczos quadrature*, SIAM J. Matrix Anal. Appl. 38(4),
  2017.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from complexity_optax._src.common import checks
from complexity_optax._src.common.types import MatVec
from complexity_optax.landscape.spectral import density as _density
from complexity_optax.landscape.spectral import hutchinson as _hutchinson
from complexity_optax.landscape.spectral import lanczos as _lanczos
from complexity_optax.landscape.spectral import linear_operator as _linop

DEFAULT_RELATIVE_TAU = 1e-3
"""The default $\\tau$ relative to the spectral norm: $\\tau = 10^{-3}\\,\\lVert A\\rVert$."""

ROUNDING_FACTOR = 10.0
"""$\\tau$ is never below this many input-dtype epsilons times $\\lVert A\\rVert$."""

DEFAULT_TOLERANCE = 0.01
"""The bias bound (bracket half-width) above which the count is flagged ill-conditioned."""


class SpectralIndex(NamedTuple):
    r"""The fraction of eigenvalues below $-\tau$, with its statistical and quadrature errors.

    Attributes:
      estimate: the mean over probes of each probe's Gauss-quadrature count below $-\tau$
        (inside its bracket).
      standard_error: the probe-to-probe standard error of `estimate`.
      bias_bound: the mean over probes of the distance from the Gauss count to the farther end
        of its bracket: the quadrature's error is at most this (in exact arithmetic) on top of
        the sampling error.
      lower: the mean lower end of the brackets.
      upper: the mean upper end of the brackets.
      tau: the threshold $\tau$ that was used.
      spectral_norm: $\max |\theta|$ over all Ritz values (a lower bound on $\lVert A\rVert$).
      near_zero_mass: the fraction of the spectrum in $[-\tau, \tau]$: the mean midpoint of
        each probe's bracket `[near_zero_lower, near_zero_upper]` (not the Gauss nodes that
        happen to fall in $[-\tau, \tau]$: where $\tau$ is below the node spacing near 0, the
        mass of the zero cluster sits on nodes just outside and that count reads 0).
      ill_conditioned: `bias_bound > tolerance`: the moments cannot place the mass near
        $-\tau$ on either side; the estimate is not to be trusted to better than its bracket.
      midpoint: the mean bracket midpoint (the estimate with the smallest worst case).
      near_zero_lower: the mean lower bound on the mass in $[-\tau, \tau]$,
        $\max(0, L(\tau) - U(-\tau))$ from the Gauss–Radau brackets $[L(x), U(x)]$ at
        $x = \pm\tau$.
      near_zero_upper: the mean upper bound, $\min(1, U(\tau) - L(-\tau))$.
    """

    estimate: jax.Array
    standard_error: jax.Array
    bias_bound: jax.Array
    lower: jax.Array
    upper: jax.Array
    tau: jax.Array
    spectral_norm: jax.Array
    near_zero_mass: jax.Array
    ill_conditioned: jax.Array
    midpoint: jax.Array
    near_zero_lower: Any = None
    near_zero_upper: Any = None


def radau_bracket(
    alphas: jax.Array, betas: jax.Array, residual_beta: jax.Array, x: jax.Array
) -> tuple[jax.Array, jax.Array]:
    r"""Bounds on one probe's spectral mass below `x` from its Lanczos tridiagonal.

    With $T$ the $m \times m$ tridiagonal and $\beta_m$ the residual beta, solve
    $(T - xI)\,\delta = \beta_m^2 e_m$ and extend $T$ by one row and column with off-diagonal
    $\beta_m$ and diagonal $x + \delta_m$: the extended matrix has $x$ as an eigenvalue, and its
    eigen-decomposition is the Gauss–Radau rule with a node at $x$. Returns
    `(lower, upper)` $= (\sum_{\tilde\theta_j < x} \tilde w_j,\ \text{lower} + \tilde w_x)$.
    With $\beta_m = 0$ (exhausted Krylov space, the quadrature is exact) the Radau node gets
    weight 0 and the bracket closes.

    Examples:
      >>> import jax.numpy as jnp
      >>> lo, hi = radau_bracket(jnp.array([0.0]), jnp.zeros(0), jnp.array(1.0), jnp.array(0.5))
      >>> round(float(lo), 4), round(float(hi), 4)  # mean 0, variance 1: Cantelli's bound
      (0.2, 1.0)
    """
    m = alphas.shape[0]
    dtype = alphas.dtype
    tridiagonal = _lanczos.tridiagonal_matrix(alphas, betas)
    e_m = jnp.zeros((m,), dtype).at[m - 1].set(1.0)
    shifted = tridiagonal - x * jnp.eye(m, dtype=dtype)
    delta = jnp.linalg.solve(shifted, residual_beta**2 * e_m)
    last = x + delta[m - 1]
    extended = jnp.zeros((m + 1, m + 1), dtype)
    extended = extended.at[:m, :m].set(tridiagonal)
    extended = extended.at[m - 1, m].set(residual_beta).at[m, m - 1].set(residual_beta)
    extended = extended.at[m, m].set(last)
    finite = jnp.all(jnp.isfinite(extended))
    nodes, vectors = jnp.linalg.eigh(jnp.where(finite, extended, 0.0))
    weights = vectors[0] ** 2
    radau = jnp.argmin(jnp.abs(nodes - x))
    is_radau = jnp.arange(m + 1) == radau
    lower = jnp.sum(jnp.where((nodes < x) & ~is_radau, weights, 0.0))
    upper = lower + weights[radau]
    return _linop.nan_unless(finite, (lower, upper))


def default_tau(spectral_norm: jax.Array, like: Any, relative_tau: float) -> jax.Array:
    r"""$\tau = \max(\text{relative\_tau},\ 10\,\varepsilon_{\text{in}})\,\lVert A\rVert$.

    $\varepsilon_{\text{in}}$ is the epsilon of the input dtype: eigenvalues within a few
    $\varepsilon\lVert A\rVert$ of zero have a sign decided by the product's rounding, so no
    threshold below that is meaningful (it is $0.078\,\lVert A\rVert$ for bfloat16 inputs).

    Examples:
      >>> import jax.numpy as jnp
      >>> round(float(default_tau(jnp.array(50.0), jnp.zeros(3), 1e-3)), 6)
      0.05
    """
    floor = ROUNDING_FACTOR * _linop.input_eps(_linop.template(like))
    return jnp.maximum(relative_tau, floor) * spectral_norm


def index_from_tridiagonals(
    tridiagonals: _lanczos.LanczosResult,
    like: Any,
    *,
    tau: Any = None,
    relative_tau: float = DEFAULT_RELATIVE_TAU,
    tolerance: float = DEFAULT_TOLERANCE,
) -> SpectralIndex:
    r"""`SpectralIndex` from stacked Lanczos tridiagonals (see `lanczos_tridiagonals`).

    `like` only supplies the input dtype for the default $\tau$ (see `default_tau`).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> a = jnp.diag(jnp.array([-2.0, -1.0, 0.0, 0.0, 1.0, 3.0]))
      >>> t = lanczos_tridiagonals(lambda v: a @ v, jnp.zeros(6), jax.random.key(0),
      ...                          num_probes=4, num_steps=5)
      >>> idx = index_from_tridiagonals(t, jnp.zeros(6))
      >>> round(float(idx.tau), 4), round(float(idx.bias_bound), 4)  # exact: 5 distinct λ
      (0.003, 0.0)
    """

    def index(tridiagonals, tau, relative_tau, tolerance):
        return _index(tridiagonals, like, tau, relative_tau, tolerance)

    return _linop.compiled_call(index, tridiagonals, tau, relative_tau, tolerance)


def _index(tridiagonals: _lanczos.LanczosResult, like: Any, tau: Any, relative_tau: Any,
           tolerance: Any) -> SpectralIndex:
    """`index_from_tridiagonals`'s body."""
    quadrature = _density._gauss_quadrature(tridiagonals)
    spectral_norm = jnp.max(jnp.abs(quadrature.nodes))
    if tau is None:
        tau = default_tau(spectral_norm, like, relative_tau)
    tau = jnp.asarray(tau, quadrature.nodes.dtype)
    x = -tau
    lower, upper = jax.vmap(radau_bracket, in_axes=(0, 0, 0, None))(
        tridiagonals.alphas, tridiagonals.betas, tridiagonals.residual_beta, x)
    per_probe = jnp.sum(jnp.where(quadrature.nodes < x, quadrature.weights, 0.0), axis=1)
    # The Gauss rule matches more moments than the bracket uses, so it lies inside it; its
    # distance to the farther end bounds its error, probe by probe.
    per_probe = jnp.clip(per_probe, lower, upper)
    mean = _hutchinson.mean_and_standard_error(per_probe)
    bias = jnp.mean(jnp.maximum(upper - per_probe, per_probe - lower))
    midpoint = 0.5 * (lower + upper)
    mid = jnp.mean(midpoint)
    # The mass in [−τ, τ] is μ((−∞, τ]) − μ((−∞, −τ)): the brackets at ±τ bound both terms
    # (the Radau weight at x covers an atom at x, so the upper end at τ bounds μ((−∞, τ])).
    lower_at_tau, upper_at_tau = jax.vmap(radau_bracket, in_axes=(0, 0, 0, None))(
        tridiagonals.alphas, tridiagonals.betas, tridiagonals.residual_beta, tau)
    near_low = jnp.clip(lower_at_tau - upper, 0.0, 1.0)
    near_high = jnp.clip(upper_at_tau - lower, near_low, 1.0)
    near = jnp.mean(0.5 * (near_low + near_high))
    finite = jnp.all(jnp.isfinite(quadrature.nodes)) & jnp.all(jnp.isfinite(midpoint))
    values = (mean.estimate, mean.standard_error, bias, jnp.mean(lower), jnp.mean(upper), tau,
              spectral_norm, near, mid, jnp.mean(near_low), jnp.mean(near_high))
    values = _linop.nan_unless(finite, values)
    estimate, se, bias, low, high, tau, norm, near, mid, near_low, near_high = values
    ill = ~(bias <= tolerance)  # NaN counts as ill-conditioned
    return SpectralIndex(estimate, se, bias, low, high, tau, norm, near, ill, mid, near_low,
                         near_high)


def spectral_index(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    tau: Any = None,
    relative_tau: float = DEFAULT_RELATIVE_TAU,
    num_probes: int = 8,
    num_steps: int = 100,
    tolerance: float = DEFAULT_TOLERANCE,
    batch_size: int | None = None,
) -> SpectralIndex:
    r"""The fraction of eigenvalues below $-\tau$, bracketed against the quadrature's bias.

    $\alpha(\tau) = \#\{\lambda_i < -\tau\}/N$ by SLQ with a Gauss–Radau node at $-\tau$ (see
    the module docstring): each probe gives a rigorous bracket of its own spectral mass below
    $-\tau$; the estimate is the mean Gauss-quadrature count (which lies inside each bracket),
    `standard_error` the spread over probes and `bias_bound` the mean distance to the
    farther end of the brackets. A 95% interval for $\alpha(\tau)$ is about
    `[lower − 2·standard_error, upper + 2·standard_error]`.

    The default threshold is relative to the spectral scale,
    $\tau = \max(10^{-3},\ 10\,\varepsilon_{\text{in}})\,\lVert A\rVert$ with
    $\lVert A\rVert$ the largest $|\text{Ritz value}|$ of the same run. Costs
    `num_probes × num_steps` matvecs; the bracket narrows as `num_steps` grows. A
    non-finite product gives NaN (and `ill_conditioned=True`).

    Args:
      matvec: a symmetric linear map `v -> A v` on pytrees shaped like `like`.
      like: a pytree of arrays (or `jax.ShapeDtypeStruct`) with the shapes and dtypes of `v`
        (`None` when `matvec` is a `LinearOperator`).
      key: a PRNG key.
      tau: an explicit threshold $\tau \ge 0$ (overrides `relative_tau`).
      relative_tau: $\tau / \lVert A\rVert$ when `tau` is not given.
      num_probes: random probes $P$.
      num_steps: Lanczos steps per probe $m$.
      tolerance: the bias bound above which `ill_conditioned` is set.
      batch_size: probes run together with `vmap` (`None`: one after the other).

    Returns:
      A `SpectralIndex`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> a = jnp.diag(jnp.concatenate([-jnp.ones(3), jnp.zeros(5), 2.0 * jnp.ones(2)]))
      >>> idx = spectral_index(lambda v: a @ v, jnp.zeros(10), jax.random.key(0),
      ...                      num_probes=64, num_steps=3)
      >>> bool(abs(idx.estimate - 0.3) < 4 * idx.standard_error), bool(idx.ill_conditioned)
      (True, False)

    References:
      Golub & Meurant, 2010, §6.2; Karlin & Studden, 1966, ch. III; Lin, Saad & Yang, SIAM
      Review 58(1), 2016; Dauphin et al., *Identifying and attacking the saddle point problem in
      high-dimensional non-convex optimization*, NeurIPS 2014 (the index of critical points).
    """
    like = _linop.resolve_like(matvec, like)
    if tau is not None:
        checks.check_positive("tau", tau, allow_zero=True)
    checks.check_positive("relative_tau", relative_tau, allow_zero=True)
    checks.check_in_interval("tolerance", tolerance, 0.0, 1.0)
    matvec_c, like_c = _density._checked_tridiagonals(matvec, like, num_probes, num_steps,
                                                      batch_size)

    def index(key, tau, relative_tau, tolerance):
        tridiagonals = _density._tridiagonals(matvec_c, like_c, key, num_probes, num_steps,
                                              batch_size)
        return _index(tridiagonals, like, tau, relative_tau, tolerance)

    return _linop.compiled_call(index, key, tau, relative_tau, tolerance)


def index_fraction(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    tau: Any = None,
    relative_tau: float = DEFAULT_RELATIVE_TAU,
    num_probes: int = 8,
    num_steps: int = 100,
    tolerance: float = DEFAULT_TOLERANCE,
    batch_size: int | None = None,
    threshold: Any = None,
) -> SpectralIndex:
    r"""The index fraction $\alpha(\tau) = \#\{\lambda_i < -\tau\}/N$: `spectral_index`.

    This name used to return the bare SLQ sign count below a cut (default 0) with a
    probe-to-probe standard error only; on trained networks that count is biased by the
    quadrature (0.142 ± 0.005 against a dense 0.291 on the demo's MLP) and its error bar
    does not show it. It is now the bracketed count of `spectral_index`, with the same
    arguments and result (`estimate` and `standard_error` keep their meaning; `bias_bound`,
    `lower`, `upper`, `tau` and `ill_conditioned` say how far the quadrature can be off).

    Args:
      matvec: a symmetric linear map `v -> A v` on pytrees shaped like `like`.
      like: a pytree of arrays (or `jax.ShapeDtypeStruct`) with the shapes and dtypes of `v`
        (`None` when `matvec` is a `LinearOperator`).
      key: a PRNG key.
      tau: an explicit threshold $\tau \ge 0$ (overrides `relative_tau`).
      relative_tau: $\tau / \lVert A\rVert$ when `tau` is not given.
      num_probes: random probes $P$.
      num_steps: Lanczos steps per probe $m$.
      tolerance: the bias bound above which `ill_conditioned` is set.
      batch_size: probes run together with `vmap` (`None`: one after the other).
      threshold: the old way to give the cut, a finite real $t \le 0$: the count below $t$,
        i.e. `tau = -t` (give `tau` or `threshold`, not both). A string is a `TypeError`; NaN,
        an infinity or $t > 0$ a `ValueError` naming `threshold`.

    Returns:
      A `SpectralIndex`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> a = jnp.diag(jnp.array([-2.0, -1.0, 1.0, 2.0, 3.0]))
      >>> est = index_fraction(lambda v: a @ v, jnp.zeros(5), jax.random.key(0),
      ...                      num_probes=64, num_steps=5)
      >>> bool(abs(est.estimate - 0.4) < 4 * est.standard_error), float(est.bias_bound)
      (True, 0.0)

    References:
      See `spectral_index`.
    """
    if threshold is not None:
        checks.check_real("threshold", threshold, dtype=None)
        if tau is not None:
            raise ValueError("give tau or threshold (the old name, tau = -threshold), not both")
        if float(threshold) > 0.0:
            raise ValueError(f"threshold must be <= 0 (the count below -tau), got {threshold}")
        tau = -float(threshold)
    return spectral_index(matvec, like, key, tau=tau, relative_tau=relative_tau,
                          num_probes=num_probes, num_steps=num_steps, tolerance=tolerance,
                          batch_size=batch_size)


lanczos_tridiagonals = _density.lanczos_tridiagonals

__all__ = [
    "DEFAULT_RELATIVE_TAU",
    "SpectralIndex",
    "default_tau",
    "index_fraction",
    "index_from_tridiagonals",
    "radau_bracket",
    "spectral_index",
]
