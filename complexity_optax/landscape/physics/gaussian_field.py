# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Bray-Dean theory of the critical points of isotropic Gaussian fields (Richemond & Guo §3).

**Setting.** A Gaussian field $\phi$ on $\mathbb{R}^N$ with
$\langle\phi(x)\phi(y)\rangle = N f(|x-y|^2/(2N))$; `f0`, `f1`, `f2` stand for $f(0) > 0$,
$f'(0) < 0$ and $f''(0) > 0$. A covariance of this kind for every $N$ is a mixture
$f(s) = \int e^{-ts}\,d\mu(t)$, so $f(0) f''(0) \ge f'(0)^2$ (Cauchy-Schwarz), with equality only
for the exponential $f(s) = f(0) e^{-ts}$. The functions below check these conditions.

**Moments at a point** (differentiate the covariance; $\varepsilon = \phi/N$, the mean eigenvalue
$\bar\lambda = \operatorname{tr} H / N$): the gradient is independent of $(\phi, H)$, and

$$
\langle\phi\,\partial_i\partial_j\phi\rangle = f'(0)\,\delta_{ij}, \qquad
\langle\partial_i\partial_j\phi\,\partial_k\partial_l\phi\rangle
 = \tfrac{f''(0)}{N}\,(\delta_{ik}\delta_{jl} + \delta_{il}\delta_{jk} + \delta_{ij}\delta_{kl}).
$$

So $H = \bar\lambda I + $ (a traceless GOE part whose spectrum is a semicircle of radius
$R = 2\sqrt{f''(0)}$), and $(\varepsilon, \bar\lambda)$ is Gaussian with covariance $C/N$,

$$
C = \begin{pmatrix} f(0) & f'(0) \\ f'(0) & (1 + 2/N)\, f''(0) \end{pmatrix}.
$$

**Kac-Rice.** The mean number of critical points at $(\varepsilon, \bar\lambda)$ is the density
of $(\varepsilon, \bar\lambda)$ times $E|\det H|$ given $\bar\lambda$, which to leading order is
$e^{N\Psi(\bar\lambda)}$ with the semicircle's log-potential
$\Psi(\bar\lambda) = \int \log|\lambda + \bar\lambda|\,\rho_{sc}(\lambda)\,d\lambda
= \bar\lambda^2/(4f''(0)) + \log\sqrt{f''(0)} - \tfrac12$ for $|\bar\lambda| \le R$. Hence the
complexity $\Sigma = \lim N^{-1}\log E\,\mathcal{N}(\varepsilon, \bar\lambda)$ is

$$
\Sigma(\varepsilon, \bar\lambda) = C_1 - \tfrac12 u^\top C^{-1} u + \frac{\bar\lambda^2}{4f''(0)}
 = C_1 - \frac{1}{2 f''(0) Q}\Big[\varepsilon^2 - 2\frac{f'(0)}{f''(0)}\varepsilon\bar\lambda
 + \frac{P}{2}\bar\lambda^2\Big],
$$

with $u = (\varepsilon, \bar\lambda)$, $P = f(0)/f''(0) + f'(0)^2/f''(0)^2$ and
$Q = f(0)/f''(0) - f'(0)^2/f''(0)^2$: the $\bar\lambda^2$ coefficient of $C^{-1}$, $f(0)/f''(0)$,
minus $Q/2$ from $\Psi$ is $P/2$. (At finite $N$ the same algebra with $C$ above gives
$P_N$ and $Q_N$, `complexity_constant_p`, `complexity_constant_q`.) This is the source paper's
eq. (14); its matrix form, eq. (16), has $f(0)$ where $f''(0)$ belongs in the off-diagonal
(`complexity_matrix` uses the derived one).

**Index at a fixed energy.** $\Sigma$ is maximal in $\bar\lambda$ at
$\bar\lambda^*(\varepsilon) = 2 f'(0)\,\varepsilon/(f''(0) P)$ (the paper's eq. 10), and the
index (fraction of *negative* eigenvalues) of a semicircle centred at $\bar\lambda$ is
$F(-\bar\lambda/R)$ with $F(x) = \tfrac12 + (\arcsin x + x\sqrt{1-x^2})/\pi$, so

$$
\alpha(\varepsilon) = F(\varepsilon/\varepsilon_c), \qquad
\varepsilon_c = \frac{P\, f''(0)^{3/2}}{|f'(0)|}.
$$

Minima ($\alpha = 0$) lie at $\varepsilon \le -\varepsilon_c$, maxima at
$\varepsilon \ge \varepsilon_c$. The scale $2|f'(0)|/\sqrt{f''(0)}$ used before answers the
converse question (the most likely *energy* at a fixed mean eigenvalue,
$\varepsilon^*(\bar\lambda) = (f'(0)/f''(0))\bar\lambda$); the two agree only when
$f(0) f''(0) = f'(0)^2$ (exponential covariance, $Q = 0$).

References:
  Bray and Dean, *Statistics of critical points of Gaussian fields on large-dimensional
  spaces*, PRL 98, 150201 (2007); Richemond and Guo, *Combining learning rate decay and weight
  decay with complexity gradient descent - Part I*, arXiv:1902.02881 (2019), §3.
"""

from __future__ import annotations

import functools
import warnings

import jax.numpy as jnp
import numpy as np

from complexity_optax._src.common import checks

__all__ = [
    "alpha_from_mean_eigenvalue",
    "complexity_constant_p",
    "complexity_constant_q",
    "complexity_gradient",
    "complexity_matrix",
    "complexity_quadratic",
    "critical_energy_scale",
    "index_at_energy_density",
    "mean_eigenvalue_at_energy_density",
    "p_n",
    "positive_fraction_at_energy_density",
    "q_n",
    "seed_alpha",
    "semicircle_cdf",
    "semicircle_density",
]


# ------------------------------------------------------------------------------ validation
def _float(x):
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


def _check(name: str, x, *, sign: int = 0, nonzero: bool = False, allow_inf: bool = False,
           point: bool = False) -> np.ndarray | None:
    """Raises a `TypeError`/`ValueError` naming `name` unless every concrete value is valid.

    The one validation path, `checks.check_real`: not a number is a `TypeError`; NaN, ±∞ (unless
    `allow_inf`), the wrong sign, and a finite value outside the compute dtype's range (`1e39`,
    or `1e-39` where 0 is invalid) a `ValueError`. A `point` (where the formula is evaluated,
    ±∞ allowed) skips the range check: a huge value there rounds to ±∞, whose limit is right.
    Returns the float64 values, `None` when traced.
    """
    return checks.check_real(name, x, sign=sign, nonzero=nonzero, allow_inf=allow_inf or point,
                             dtype=None if point else "auto")


def _check_finite_result(result, names: str, what: str):
    """`result`, after checking that it is finite when it is concrete (all inputs concrete).

    Valid, representable arguments can still give a value beyond the dtype's range (`f0/f2`
    above float32's largest): that is a `ValueError` naming the arguments, not an `inf`.
    """
    if checks.is_traced(result):
        return result
    values = np.asarray(result)
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"{names}: {what} overflows {values.dtype.name} (the arguments are outside its "
            f"representable range), got {float(values[~np.isfinite(values)].flat[0])!r}")
    return result


def _cauchy_schwarz_slack(f0, f1, f2):
    """Rounding allowance of f0·f2 ≥ f1²: a few ulps of the computation dtype, relative."""
    eps = jnp.finfo(jnp.result_type(f0, f1, f2)).eps
    return 16.0 * eps * f0 * f2


def _check_covariance(f0, f1, f2) -> None:
    """f(0) > 0, f'(0) < 0, f''(0) > 0 (finite) and f(0) f''(0) ≥ f'(0)² where concrete."""
    v0 = _check("f0", f0, sign=1)
    v1 = _check("f1", f1, sign=-1)
    v2 = _check("f2", f2, sign=1)
    if v0 is None or v1 is None or v2 is None:
        return
    # In NumPy: under jit with concrete f's (a traced ε), jnp would give tracers here.
    dtype = np.result_type(*(checks.float_dtype(f) for f in (f0, f1, f2)))
    slack = 16.0 * float(jnp.finfo(dtype).eps) * v0 * v2
    gap = v0 * v2 - v1 * v1
    if np.any(gap < -slack):
        raise ValueError(
            "f2: an isotropic covariance needs f(0) f''(0) >= f'(0)^2 (Cauchy-Schwarz), got "
            f"f0*f2 - f1**2 = {float(np.min(gap)):.6g}")


def _covariance_ok(f0, f1, f2):
    """The same conditions as a boolean array (for traced inputs: NaN where they fail)."""
    finite = jnp.isfinite(f0) & jnp.isfinite(f1) & jnp.isfinite(f2)
    cs = f0 * f2 - f1 * f1 >= -_cauchy_schwarz_slack(f0, f1, f2)
    return finite & (f0 > 0) & (f1 < 0) & (f2 > 0) & cs


def _covariance(f0, f1, f2):
    _check_covariance(f0, f1, f2)
    f0, f1, f2 = _float(f0), _float(f1), _float(f2)
    return f0, f1, f2, _covariance_ok(f0, f1, f2)


def _check_n(n) -> None:
    if n is not None:
        checks.check_int("n", n, minimum=2)


def _wigner_cdf_unit(x):
    """F(x) = ½ + (1/π)[arcsin x + x√(1−x²)], x clipped to [−1, 1]."""
    x = jnp.clip(_float(x), -1.0, 1.0)
    return 0.5 + (jnp.arcsin(x) + x * jnp.sqrt(jnp.maximum(1.0 - x * x, 0.0))) / jnp.pi


def _radius(radius):
    _check("radius", radius, sign=1)
    r = _float(radius)
    return r, jnp.isfinite(r) & (r > 0)


def _point(name: str, x):
    """A point where a formula is evaluated: any real, ±∞ included (NaN or not a number raise)."""
    _check(name, x, point=True)
    return _float(x)


def _semicircle_cdf(x, r, ok):
    return jnp.where(ok, _wigner_cdf_unit(x / jnp.where(ok, r, 1.0)), jnp.nan)


# ------------------------------------------------------------------------------- semicircle
def semicircle_density(x, radius):
    r"""Wigner semicircle density of radius $R$: $\rho(x) = \frac{2}{\pi R^2}\sqrt{R^2 - x^2}$.

    Zero outside $[-R, R]$. A GOE matrix with off-diagonal variance $\sigma^2/N$ has
    $R = 2\sigma$; the Hessian of a Bray-Dean field has $R = 2\sqrt{f''(0)}$.

    Args:
      x: points (array-like; ±∞ gives 0, NaN is a `ValueError` naming `x`).
      radius: $R > 0$, finite (array-like, broadcast against `x`); anything else, or a value
        outside the compute dtype's normal range (float32: `1e39`, `1e-39`), is a `ValueError`
        naming `radius` (NaN under `jit`, where it cannot be checked).

    Returns:
      $\rho(x)$, with the broadcast shape of `x` and `radius`. Computed as
      $\frac{2}{\pi R}\sqrt{(1 - t)(1 + t)}$, $t = x/R$, so that no $R^2$ underflows: every
      representable radius gives a finite density.

    Examples:
      >>> round(float(semicircle_density(0.0, 2.0)), 6)  # 1/π
      0.31831

    References:
      Wigner, *On the distribution of the roots of certain symmetric matrices*, Ann. Math. 1958.
    """
    r, ok = _radius(radius)
    x = _point("x", x)
    r = jnp.where(ok, r, 1.0)
    t = x / r  # ±∞ (overflow) beyond the support: density 0
    rho = 2.0 / (jnp.pi * r) * jnp.sqrt(jnp.maximum((1.0 - t) * (1.0 + t), 0.0))
    return jnp.where(ok, rho, jnp.nan)


def semicircle_cdf(x, radius):
    r"""Cumulative distribution of the semicircle of radius $R$: $P(\lambda \le x) = F(x/R)$.

    $F(t) = \tfrac12 + (\arcsin t + t\sqrt{1-t^2})/\pi$ for $|t| \le 1$, 0 below, 1 above.

    Args:
      x: points (array-like; ±∞ allowed, NaN is a `ValueError` naming `x`).
      radius: $R > 0$, finite and in the compute dtype's normal range (a `ValueError` naming
        `radius` otherwise).

    Returns:
      $P(\lambda \le x)$: 0 below $-R$, ½ at 0, 1 above $R$.

    Examples:
      >>> float(semicircle_cdf(0.0, 2.0)), float(semicircle_cdf(3.0, 2.0))
      (0.5, 1.0)

    References:
      Wigner, Ann. Math. 1958.
    """
    r, ok = _radius(radius)
    return _semicircle_cdf(_point("x", x), r, ok)


def alpha_from_mean_eigenvalue(mean_eig, radius):
    r"""Index $\alpha(\bar\lambda)$: the fraction of negative eigenvalues of a shifted semicircle.

    $\alpha = P(\bar\lambda + \lambda_{sc} < 0) = F(-\bar\lambda/R)
    = \frac1\pi[\arccos(\bar\lambda/R) - (\bar\lambda/R)\sqrt{1 - \bar\lambda^2/R^2}]$
    (the source paper's eq. 9 with $R = 2\sqrt{f''(0)}$): 1 for $\bar\lambda \le -R$, ½ at 0,
    0 for $\bar\lambda \ge R$.

    Args:
      mean_eig: the mean eigenvalue $\bar\lambda$ (array-like; ±∞ allowed, not NaN).
      radius: the semicircle's radius $R > 0$ (as in `semicircle_cdf`).

    Returns:
      $\alpha$ in $[0, 1]$.

    Examples:
      >>> float(alpha_from_mean_eigenvalue(0.0, 2.0)), float(alpha_from_mean_eigenvalue(2.0, 2.0))
      (0.5, 0.0)

    References:
      Bray and Dean, PRL 98, 150201 (2007); Richemond and Guo, arXiv:1902.02881, eq. (9).
    """
    r, ok = _radius(radius)
    return _semicircle_cdf(-_point("mean_eig", mean_eig), r, ok)


# -------------------------------------------------------------------- quadratic complexity
def complexity_constant_p(f0, f1, f2, n=None):
    r"""The Bray-Dean constant $P_N = (1 - 2/N) f(0)/f''(0) + f'(0)^2/f''(0)^2$.

    $P/2$ is the $\bar\lambda^2$ coefficient of the quadratic complexity (see the module
    docstring: the Gaussian weight of $(\varepsilon, \bar\lambda)$ gives $f(0)/f''(0)$, the
    Kac-Rice determinant removes $Q_N/2$). `n=None` gives the limit $P$.

    Args:
      f0: $f(0) > 0$.
      f1: $f'(0) < 0$.
      f2: $f''(0) > 0$, with $f(0) f''(0) \ge f'(0)^2$.
      n: the dimension $N \ge 2$, or `None` for $N \to \infty$.

    The arguments must be finite and in the compute dtype's range, and so must $P_N$ (a
    `ValueError` otherwise).

    Returns:
      $P_N$ (positive).

    Examples:
      >>> (float(complexity_constant_p(1.0, -1.0, 1.0)),
      ...  float(complexity_constant_p(1.0, -1.0, 1.0, n=4)))
      (2.0, 1.5)

    References:
      Bray and Dean, PRL 98, 150201 (2007); Richemond and Guo, arXiv:1902.02881, §3.2.
    """
    f0, f1, f2, ok = _covariance(f0, f1, f2)
    _check_n(n)
    shrink = 1.0 if n is None else 1.0 - 2.0 / n
    p = jnp.where(ok, shrink * f0 / f2 + (f1 / f2) ** 2, jnp.nan)
    return _check_finite_result(p, "f0, f1, f2", "P_N = (1 - 2/N) f0/f2 + (f1/f2)^2")


def complexity_constant_q(f0, f1, f2, n=None):
    r"""The Bray-Dean constant $Q_N = (1 + 2/N) f(0)/f''(0) - f'(0)^2/f''(0)^2$.

    $f''(0)\,Q$ is $N$ times the variance of $\varepsilon$ given $\bar\lambda$, so the
    complexity's scale is $C_2 = 1/(f''(0) Q)$. $Q = 0$ exactly for the exponential covariance
    (then $\varepsilon$ is fixed by $\bar\lambda$). `n=None` gives the limit $Q$.

    Args:
      f0: $f(0) > 0$.
      f1: $f'(0) < 0$.
      f2: $f''(0) > 0$, with $f(0) f''(0) \ge f'(0)^2$.
      n: the dimension $N \ge 2$, or `None` for $N \to \infty$.

    Returns:
      $Q_N \ge 0$.

    Examples:
      >>> (float(complexity_constant_q(2.0, -1.0, 1.0)),
      ...  float(complexity_constant_q(2.0, -1.0, 1.0, n=4)))
      (1.0, 2.0)

    References:
      Bray and Dean, PRL 98, 150201 (2007); Richemond and Guo, arXiv:1902.02881, §3.2.
    """
    f0, f1, f2, ok = _covariance(f0, f1, f2)
    _check_n(n)
    grow = 1.0 if n is None else 1.0 + 2.0 / n
    # f1²/f2² ≤ f0/f2 (Cauchy-Schwarz): no term overflows unless f0/f2 does.
    q = jnp.maximum(grow * f0 / f2 - (f1 / f2) ** 2, 0.0)  # ≥ 0 up to rounding
    q = jnp.where(ok, q, jnp.nan)
    return _check_finite_result(q, "f0, f1, f2", "Q_N = (1 + 2/N) f0/f2 - (f1/f2)^2")


def complexity_matrix(f0, f1, f2, n=None):
    r"""The $2\times2$ matrix $M$ of the quadratic complexity
    $\Sigma = C_1 - \tfrac12 C_2 u^\top M u$.

    Derived in the module docstring ($u = (\varepsilon, \bar\lambda)$, $C_2 = 1/(f''(0) Q)$):

    $$
    M = \begin{pmatrix} 1 & -f'(0)/f''(0) \\ -f'(0)/f''(0) & P/2 \end{pmatrix},
    \qquad u^\top M u = \varepsilon^2 - 2\frac{f'(0)}{f''(0)}\varepsilon\bar\lambda
     + \frac P2 \bar\lambda^2 .
    $$

    **Finite $N$** (`n=N`). With the finite-$N$ covariance
    $C_N = \begin{pmatrix} f(0) & f'(0) \\ f'(0) & (1 + 2/N) f''(0)\end{pmatrix}$ the same algebra
    ($\det C_N = f''(0)^2 Q_N$; the $\bar\lambda^2$ coefficient $f(0)/f''(0) - Q_N/2 = P_N/2$)
    gives, with $C_2 = 1/(f''(0) Q_N)$,

    $$
    M_N = \begin{pmatrix} 1 + 2/N & -f'(0)/f''(0) \\ -f'(0)/f''(0) & P_N/2 \end{pmatrix},
    $$

    so that $\tfrac12 C_2\, u^\top M_N u = \tfrac12 u^\top C_N^{-1} u - \bar\lambda^2/(4 f''(0))$
    exactly; `n=None` is the limit $N \to \infty$ above.

    This is the source paper's eq. (14). Its eq. (16) prints $-f'(0)/f(0)$ off the diagonal, a
    typo: for $f(s) = 1/(1+s)$ at $u = (0.3, -0.4)$ it would give $\Sigma - C_1 = +0.090$
    where the derivation gives $-0.030$. (Before this version the function took
    `(f0, f1, P)` and reproduced eq. 16; it now takes the covariance derivatives and computes
    $P$ itself.) The quadratic form holds for $|\bar\lambda| \le 2\sqrt{f''(0)}$, inside the
    semicircle.

    Args:
      f0: $f(0) > 0$.
      f1: $f'(0) < 0$.
      f2: $f''(0) > 0$, with $f(0) f''(0) \ge f'(0)^2$.
      n: the dimension $N \ge 2$, or `None` for $N \to \infty$ (pair it with
        `complexity_constant_q(f0, f1, f2, n=N)` for $C_2$).

    Returns:
      $M$ as a `(2, 2)` array (with the broadcast batch shape of the arguments in front).

    Examples:
      >>> complexity_matrix(1.0, -1.0, 2.0).tolist()  # f(s) = 1/(1+s): P = 3/4
      [[1.0, 0.5], [0.5, 0.375]]
      >>> complexity_matrix(1.0, -1.0, 2.0, n=4).tolist()  # 1 + 2/4; P_4 = 1/4 + 1/4
      [[1.5, 0.5], [0.5, 0.25]]

    References:
      Richemond and Guo, arXiv:1902.02881, eqs. (14)-(16); Bray and Dean, PRL 98, 150201 (2007).
    """
    p = complexity_constant_p(f0, f1, f2, n=n)
    f0, f1, f2 = _float(f0), _float(f1), _float(f2)
    off = -f1 / f2
    one = jnp.ones_like(off)
    grow = 1.0 if n is None else 1.0 + 2.0 / n
    rows = [jnp.stack([grow * one, off], axis=-1), jnp.stack([off, p / 2.0 * one], axis=-1)]
    return jnp.stack(rows, axis=-2)


def complexity_quadratic(u, c1, c2, m):
    r"""Quadratic log-complexity $\Sigma(u) = C_1 - \tfrac12 C_2\, u^\top M u$,
    $u = (\varepsilon, \bar\lambda)$.

    Args:
      u: array of shape `(..., 2)`, the pairs (energy density $\varepsilon$, mean eigenvalue
        $\bar\lambda$).
      c1: the constant $C_1$.
      c2: the constant $C_2$ (Bray-Dean: $1/(f''(0) Q)$, `complexity_constant_q`).
      m: the symmetric `(2, 2)` matrix of `complexity_matrix`.

    Every argument must be real, finite and in the compute dtype's range: a NaN, an infinity or
    `1e39` (float32) is a `ValueError` naming it, a string a `TypeError`.

    Returns:
      $\Sigma(u)$, shape `(...)`.

    Examples:
      >>> import jax.numpy as jnp
      >>> float(complexity_quadratic(jnp.array([1.0, 2.0]), 1.0, 2.0, jnp.eye(2)))
      -4.0

    References:
      Richemond and Guo, arXiv:1902.02881, eq. (15); Bray and Dean, PRL 98, 150201 (2007).
    """
    for name, value in (("u", u), ("c1", c1), ("c2", c2), ("m", m)):
        _check(name, value)
    u, m = _float(u), _float(m)
    return _float(c1) - 0.5 * _float(c2) * jnp.einsum("...i,ij,...j->...", u, m, u)


def complexity_gradient(u, c2, m):
    r"""Exact gradient of `complexity_quadratic` in $u$: $\nabla\Sigma(u) = -C_2 M u$
    ($M$ symmetric).

    The source paper's eq. (18) writes $\nabla\Sigma = -Mu$ "up to constants", i.e. this with
    $C_2 = 1$.

    Args:
      u: array of shape `(..., 2)`.
      c2: the constant $C_2$.
      m: symmetric `(2, 2)` matrix.

    Every argument must be real, finite and in the compute dtype's range (as in
    `complexity_quadratic`).

    Returns:
      $\nabla\Sigma(u)$, shape `(..., 2)`.

    Examples:
      >>> import jax.numpy as jnp
      >>> complexity_gradient(jnp.array([1.0, 2.0]), 2.0, jnp.eye(2)).tolist()
      [-2.0, -4.0]

    References:
      Richemond and Guo, arXiv:1902.02881, eq. (18).
    """
    for name, value in (("u", u), ("c2", c2), ("m", m)):
        _check(name, value)
    u, m = _float(u), _float(m)
    return -_float(c2) * jnp.einsum("ij,...j->...i", m, u)


# -------------------------------------------------------------------- index at an energy
def critical_energy_scale(f0, f1, f2):
    r"""Critical energy density $\varepsilon_c = P f''(0)^{3/2}/|f'(0)|$ of the index-energy
    relation.

    The most likely index of the critical points at energy density $\varepsilon$ is
    $\alpha(\varepsilon) = F(\varepsilon/\varepsilon_c)$ (`index_at_energy_density`): maximising
    the complexity over $\bar\lambda$ at fixed $\varepsilon$ gives
    $\bar\lambda^* = 2f'(0)\varepsilon/(f''(0)P)$, and $\alpha = F(-\bar\lambda^*/R)$ with
    $R = 2\sqrt{f''(0)}$ (derivation in the module docstring). Earlier versions returned
    $2|f'(0)|/\sqrt{f''(0)}$, the scale of the converse relation (most likely energy at a fixed
    mean eigenvalue); for $f(s) = 1/(1+s)$ that is $1.414$ instead of $2.121$. The two coincide
    for the exponential covariance only.

    Args:
      f0: $f(0) > 0$.
      f1: $f'(0) < 0$.
      f2: $f''(0) > 0$, with $f(0) f''(0) \ge f'(0)^2$.

    Returns:
      $\varepsilon_c > 0$.

    Examples:
      >>> float(critical_energy_scale(1.0, -1.0, 1.0))  # f(s) = exp(−s)
      2.0
      >>> round(float(critical_energy_scale(1.0, -1.0, 2.0)), 4)  # f(s) = 1/(1+s)
      2.1213

    References:
      Bray and Dean, PRL 98, 150201 (2007); Richemond and Guo, arXiv:1902.02881, eqs. (10)-(11).
    """
    p = complexity_constant_p(f0, f1, f2)
    f1, f2 = _float(f1), _float(f2)
    eps_c = p * f2 * jnp.sqrt(f2) / jnp.abs(f1)
    return _check_finite_result(eps_c, "f0, f1, f2", "eps_c = P f2^(3/2) / |f1|")


def mean_eigenvalue_at_energy_density(eps, f0, f1, f2):
    r"""Most likely mean Hessian eigenvalue at energy density $\varepsilon$:
    $\bar\lambda^* = \frac{2f'(0)}{f''(0)P}\varepsilon$.

    The maximiser over $\bar\lambda$ of the quadratic complexity at fixed $\varepsilon$ (the
    source paper's eq. 10). It lies inside the semicircle, $|\bar\lambda^*| \le 2\sqrt{f''(0)}$,
    exactly when $|\varepsilon| \le \varepsilon_c$; beyond, the most likely critical points are
    all minima (or all maxima) and the quadratic form is only an approximation.

    Args:
      eps: energy density $\varepsilon = \phi/N$ (array-like, finite: $\bar\lambda^*$ is
        linear in it, with no finite limit).
      f0: $f(0) > 0$.
      f1: $f'(0) < 0$.
      f2: $f''(0) > 0$, with $f(0) f''(0) \ge f'(0)^2$.

    Returns:
      $\bar\lambda^*(\varepsilon)$, positive for $\varepsilon < 0$ (low energy: convex).

    Examples:
      >>> float(mean_eigenvalue_at_energy_density(-1.0, 1.0, -1.0, 1.0))  # exp(−s): P = 2
      1.0

    References:
      Richemond and Guo, arXiv:1902.02881, eq. (10); Bray and Dean, PRL 98, 150201 (2007).
    """
    _check("eps", eps)
    p = complexity_constant_p(f0, f1, f2)
    f1, f2 = _float(f1), _float(f2)
    lam = 2.0 * f1 * _float(eps) / (f2 * p)
    return _check_finite_result(lam, "eps, f0, f1, f2", "2 f1 eps / (f2 P)")


def _eps_c(eps_c):
    _check("eps_c", eps_c, nonzero=True, allow_inf=True)
    e = jnp.abs(_float(eps_c))
    return e, (e > 0) & ~jnp.isnan(e)


def index_at_energy_density(eps, eps_c):
    r"""Most likely index $\alpha(\varepsilon) = F(\varepsilon/\varepsilon_c)$ at energy density
    $\varepsilon$.

    $F(x) = \tfrac12 + (\arcsin x + x\sqrt{1-x^2})/\pi$ clipped to $[0, 1]$: $\alpha(-\varepsilon_c)
    = 0$ (minima), $\alpha(0) = \tfrac12$, $\alpha(\varepsilon_c) = 1$, increasing, and
    $\alpha \propto (1 + \varepsilon/\varepsilon_c)^{3/2}$ near $-\varepsilon_c$. Pass
    $\varepsilon_c$ from `critical_energy_scale` (derivation in the module docstring); its
    absolute value is used, so the source paper's negative $\varepsilon_c$ gives the same curve.

    Args:
      eps: energy density $\varepsilon = \phi/N$ (array-like; ±∞ allowed, not NaN).
      eps_c: $\varepsilon_c$, non-zero and not NaN ($\pm\infty$ gives ½ everywhere); a finite
        value outside the compute dtype's normal range (float32: `1e39`, `1e-39`) is a
        `ValueError` naming it.

    Returns:
      $\alpha(\varepsilon)$ in $[0, 1]$.

    Examples:
      >>> [float(index_at_energy_density(e, 2.0)) for e in (-2.0, 0.0, 2.0)]
      [0.0, 0.5, 1.0]

    References:
      Bray and Dean, PRL 98, 150201 (2007); Richemond and Guo, arXiv:1902.02881, eq. (11).
    """
    e, ok = _eps_c(eps_c)
    return _semicircle_cdf(_point("eps", eps), e, ok)


def positive_fraction_at_energy_density(eps, eps_c):
    r"""Fraction of *positive* Hessian eigenvalues at energy density $\varepsilon$:
    $1 - \alpha(\varepsilon)$.

    The source paper's eq. (11) read with $|\varepsilon_c|$,
    $\frac1\pi\arccos\frac{\varepsilon}{\varepsilon_c} - \frac{\varepsilon}{\pi\varepsilon_c}
    \sqrt{1 - (\varepsilon/\varepsilon_c)^2}$: the mirror image of `index_at_energy_density`
    (the index of $-\phi$), 1 at $\varepsilon = -\varepsilon_c$ and 0 at $\varepsilon_c$. Kept
    to compare with the paper's figure; use `index_at_energy_density` for the index.

    Args:
      eps: energy density (array-like; ±∞ allowed, not NaN).
      eps_c: $\varepsilon_c$, as in `index_at_energy_density` (its absolute value is used).

    Returns:
      $1 - \alpha(\varepsilon)$ in $[0, 1]$.

    Examples:
      >>> (float(positive_fraction_at_energy_density(-2.0, 2.0)),
      ...  float(positive_fraction_at_energy_density(2.0, 2.0)))
      (1.0, 0.0)

    References:
      Richemond and Guo, arXiv:1902.02881, eq. (11).
    """
    e, ok = _eps_c(eps_c)
    return _semicircle_cdf(-_point("eps", eps), e, ok)


# ------------------------------------------------------------------- deprecated aliases
def _deprecated_alias(old: str, new):
    message = (f"landscape.{old} is deprecated and will be removed in the next release; use "
               f"landscape.{new.__name__} (same arguments, same values)")

    @functools.wraps(new)
    def alias(*args, **kwargs):
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        return new(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old
    alias.__doc__ = (f"Deprecated alias of `{new.__name__}` (warns with a `DeprecationWarning`; "
                     "removed in the next release).")
    del alias.__wrapped__  # the doctests of the new name run once, under the new name
    return alias


p_n = _deprecated_alias("p_n", complexity_constant_p)
q_n = _deprecated_alias("q_n", complexity_constant_q)
seed_alpha = _deprecated_alias("seed_alpha", positive_fraction_at_energy_density)
