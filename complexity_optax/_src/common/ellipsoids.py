# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Diagonal trust-region shapes (ellipsoids) built from adaptive-gradient second moments.

An ellipsoid is the norm $\|s\|_A = \sqrt{\sum_i A_i s_i^2}$ of a positive diagonal
`A` that adapts to the gradients seen so far. Use per step:

    state = ellipsoid.update(grad, state)   # first fold in the new gradient,
    A = ellipsoid.diagonal(state)           # then read the diagonal for the solve.

`A` is `None` for the sphere (`identity_ellipsoid`): the identity, which
`steihaug_cg` takes as `preconditioner=None`, so no parameter-sized tree of ones is kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.tree import all_finite
from complexity_optax._src.common.types import PyTree


class Ellipsoid(NamedTuple):
    """A diagonal trust-region shape.

    Attributes:
      init: `params -> state`.
      update: `(grad, state) -> state`; a gradient with a non-finite entry leaves the state
        unchanged.
      diagonal: `state -> A`, the positive diagonal, a pytree with the structure and shapes of
        the parameters, or `None` meaning the identity `A = I` (the sphere: no diagonal is
        stored; `steihaug_cg(..., preconditioner=None)` is the Euclidean solve).
      name: a short name (`"identity"`, `"rmsprop"`, `"adam"`, `"adagrad"` or custom).
    """

    init: Callable[[PyTree], PyTree]
    update: Callable[[PyTree, PyTree], PyTree]
    diagonal: Callable[[PyTree], PyTree]
    name: str


class SecondMomentEllipsoidState(NamedTuple):
    """State of the RMSProp, Adam and Adagrad ellipsoids.

    Attributes:
      count: number of (finite) gradients folded in, int32.
      moment: the EMA (RMSProp, Adam) or the sum (Adagrad) of squared gradients.
    """

    count: jax.Array
    moment: PyTree


def _keep_if_not_finite(grad: PyTree, new: PyTree, old: PyTree) -> PyTree:
    return optax.tree.where(all_finite(grad), new, old)


def _sqrt_plus_eps(moment: PyTree, eps: float) -> PyTree:
    return jax.tree.map(lambda m: (jnp.sqrt(m) + eps).astype(m.dtype), moment)


def _clamp_to_normal_range(x: jax.Array) -> jax.Array:
    """Clamps to [smallest normal, largest finite] of `x`'s dtype: strictly positive, finite."""
    info = jnp.finfo(x.dtype)
    return jnp.clip(x, jnp.asarray(info.tiny, x.dtype), jnp.asarray(info.max, x.dtype))


def identity_ellipsoid() -> Ellipsoid:
    """The sphere: $A = I$, the Euclidean trust region.

    Its state is `optax.EmptyState()` and its `diagonal` is `None`, meaning the identity
    (no parameter-sized buffer of ones is stored).

    Examples:
      >>> import jax.numpy as jnp
      >>> from complexity_optax import identity_ellipsoid
      >>> ell = identity_ellipsoid()
      >>> state = ell.update(jnp.array([3.0, 4.0]), ell.init(jnp.zeros(2)))
      >>> ell.diagonal(state) is None
      True

    References:
      Conn, Gould & Toint, "Trust-Region Methods", SIAM 2000, Sec. 7.7 (scaled norms).
    """
    return _identity_ellipsoid()


@functools.cache
def _identity_ellipsoid() -> Ellipsoid:
    return Ellipsoid(
        init=lambda params: optax.EmptyState(),
        update=lambda grad, state: state,
        diagonal=lambda state: None,
        name="identity",
    )


def rmsprop_ellipsoid(
    decay: float = 0.9,
    eps: float = 1e-8,
    bias_correction: bool = False,
    initial_accumulator: float = 0.0,
) -> Ellipsoid:
    r"""RMSProp ellipsoid: $A = \sqrt{v_t} + \epsilon$ with an EMA of squared gradients.

    $$
    v_t = \beta v_{t-1} + (1-\beta) g_t^2,\quad v_0 = \text{initial\_accumulator},\qquad
    A_t = \max\bigl(\sqrt{\hat v_t} + \epsilon,\ a_{\min}\bigr),
    $$

    with $\hat v_t = v_t$ or, with `bias_correction`, $v_t / (1-\beta^t)$.
    $\epsilon$ is added after the square root (as in optax's `scale_by_rms`); it is the
    smallest possible diagonal, so $\sqrt{\epsilon}$-type floors of the paper become
    $\epsilon$ here.

    The authors' code has no $\epsilon$ after the root: it starts from
    $v_0 = 10^{-10}$ and uses $A = \sqrt{v_t}$ with $\beta = 0.8$, which is
    exactly `rmsprop_ellipsoid(decay=0.8, eps=0.0, initial_accumulator=1e-10)`. Its floor
    $\sqrt{\beta^t v_0}$ decays geometrically and would underflow to 0 in float32 after a
    few hundred steps of zero gradient (a dead unit), so the diagonal is clamped to
    $[a_{\min}, a_{\max}]$, the smallest normal and the largest finite number of its dtype:
    it stays strictly positive and finite (a no-op whenever $\epsilon \ge a_{\min}$).
    RMSProp ellipsoids are uniformly equivalent norms (bounded above and below) when gradients
    are bounded, which keeps the trust-region convergence theory.

    Args:
      decay: the EMA rate $\beta \in [0, 1)$.
      eps: $\epsilon \ge 0$, added to the square root; 0 only with a positive
        `initial_accumulator`.
      bias_correction: divide by $1-\beta^t$ (Adam's correction).
      initial_accumulator: $v_0 \ge 0$ (the authors use $10^{-10}$).

    Examples:
      >>> import jax.numpy as jnp
      >>> from complexity_optax import rmsprop_ellipsoid
      >>> ell = rmsprop_ellipsoid(decay=0.5, eps=0.0, initial_accumulator=2.0)
      >>> state = ell.update(jnp.array([0.0, -4.0]), ell.init(jnp.zeros(2)))
      >>> ell.diagonal(state)                     # sqrt(0.5 * 2 + 0.5 g^2)
      Array([1., 3.], dtype=float32)

    References:
      Kohler, Adolphs & Lucchi, "Adaptive norms for deep learning with regularized Newton
      methods", arXiv:1905.09201; Tieleman & Hinton, RMSProp lecture 6.5, 2012.
    """
    checks.check_in_interval("decay", decay, 0.0, 1.0, high_inclusive=False)
    checks.check_positive("eps", eps, allow_zero=True)
    checks.check_positive("initial_accumulator", initial_accumulator, allow_zero=True)
    checks.check_bool("bias_correction", bias_correction)
    eps_value, acc_value = checks.concrete_float(eps), checks.concrete_float(initial_accumulator)
    if eps_value == 0.0 and acc_value == 0.0:
        raise ValueError(
            "eps must be positive when initial_accumulator is 0 (otherwise the diagonal starts at "
            "0); got eps=0 and initial_accumulator=0"
        )
    return _cached(
        _second_moment_ema, "rmsprop", decay, eps, bias_correction, initial_accumulator
    )


def adam_ellipsoid(decay: float = 0.999, eps: float = 1e-8) -> Ellipsoid:
    r"""Adam ellipsoid: the bias-corrected RMSProp ellipsoid.

    $$
    v_t = \beta v_{t-1} + (1-\beta) g_t^2,\qquad A_t = \sqrt{v_t / (1-\beta^t)} + \epsilon.
    $$

    Args:
      decay: Adam's $\beta_2 \in [0, 1)$.
      eps: $\epsilon > 0$, added after the square root (as in `optax.adam`); 0 is
        rejected (Adam has no initial accumulator, so a zero gradient entry would give 0).

    Examples:
      >>> import jax.numpy as jnp
      >>> from complexity_optax import adam_ellipsoid
      >>> ell = adam_ellipsoid(decay=0.5, eps=1e-30)
      >>> state = ell.update(jnp.array([2.0, -4.0]), ell.init(jnp.zeros(2)))
      >>> ell.diagonal(state)                     # |g| after one bias-corrected step
      Array([2., 4.], dtype=float32)

    References:
      Kohler, Adolphs & Lucchi, arXiv:1905.09201; Kingma & Ba, "Adam", ICLR 2015.
    """
    checks.check_in_interval("decay", decay, 0.0, 1.0, high_inclusive=False)
    checks.check_positive("eps", eps)  # eps = 0: an exactly-zero gradient entry gives A = 0
    return _cached(_second_moment_ema, "adam", decay, eps, True, 0.0)


def adagrad_ellipsoid(eps: float = 1e-8, initial_accumulator: float = 0.0) -> Ellipsoid:
    r"""Adagrad ellipsoid: $A = \sqrt{G_t} + \epsilon$ with the sum of squared gradients.

    $$
    G_t = G_{t-1} + g_t^2,\quad G_0 = \text{initial\_accumulator},\qquad
    A_t = \sqrt{G_t} + \epsilon.
    $$

    $G_t$ grows without bound, so the ellipsoid is not uniformly equivalent to the sphere
    and the paper's convergence guarantee does not cover it.

    Args:
      eps: $\epsilon \ge 0$, added after the square root; 0 only with a positive
        `initial_accumulator`.
      initial_accumulator: $G_0 \ge 0$.

    Examples:
      >>> import jax.numpy as jnp
      >>> from complexity_optax import adagrad_ellipsoid
      >>> ell = adagrad_ellipsoid(eps=1e-30)
      >>> state = ell.init(jnp.zeros(2))
      >>> state = ell.update(jnp.array([3.0, 0.0]), state)
      >>> state = ell.update(jnp.array([4.0, 1.0]), state)
      >>> ell.diagonal(state)
      Array([5., 1.], dtype=float32)

    References:
      Kohler, Adolphs & Lucchi, arXiv:1905.09201; Duchi, Hazan & Singer, "Adaptive subgradient
      methods", JMLR 2011.
    """
    checks.check_positive("eps", eps, allow_zero=True)
    checks.check_positive("initial_accumulator", initial_accumulator, allow_zero=True)
    if checks.concrete_float(eps) == 0.0 and checks.concrete_float(initial_accumulator) == 0.0:
        raise ValueError(
            "eps must be positive when initial_accumulator is 0 (a unit whose gradient is exactly "
            "zero would get A = 0 and freeze the run); got eps=0 and initial_accumulator=0")
    return _cached(_adagrad, eps, initial_accumulator)


def _cached(builder: Callable[..., Ellipsoid], *key: Any) -> Ellipsoid:
    """Builds equal ellipsoids once, so that jitted solvers keyed on them do not recompile."""
    try:
        return _cached_build(builder, *key)
    except TypeError:  # unhashable hyperparameters (arrays): build afresh.
        return builder(*key)


@functools.lru_cache(maxsize=256)
def _cached_build(builder: Callable[..., Ellipsoid], *key: Any) -> Ellipsoid:
    return builder(*key)


def _second_moment_ema(
    name: str, decay: float, eps: float, bias_correction: bool, initial_accumulator: float
) -> Ellipsoid:
    def init(params: PyTree) -> SecondMomentEllipsoidState:
        return SecondMomentEllipsoidState(
            jnp.zeros((), jnp.int32), optax.tree.full_like(params, initial_accumulator)
        )

    def update(grad: PyTree, state: SecondMomentEllipsoidState) -> SecondMomentEllipsoidState:
        moment = optax.tree.update_moment_per_elem_norm(grad, state.moment, decay, 2)
        new = SecondMomentEllipsoidState(
            optax.safe_increment(state.count), optax.tree.cast_like(moment, state.moment)
        )
        return _keep_if_not_finite(grad, new, state)

    def diagonal(state: SecondMomentEllipsoidState) -> PyTree:
        moment = state.moment
        if bias_correction:
            count = jnp.maximum(state.count, 1)
            moment = optax.tree.cast_like(
                optax.tree.bias_correction(moment, decay, count), state.moment
            )
        return jax.tree.map(_clamp_to_normal_range, _sqrt_plus_eps(moment, eps))

    return Ellipsoid(init=init, update=update, diagonal=diagonal, name=name)


def _adagrad(eps: float, initial_accumulator: float) -> Ellipsoid:
    def init(params: PyTree) -> SecondMomentEllipsoidState:
        return SecondMomentEllipsoidState(
            jnp.zeros((), jnp.int32), optax.tree.full_like(params, initial_accumulator)
        )

    def update(grad: PyTree, state: SecondMomentEllipsoidState) -> SecondMomentEllipsoidState:
        moment = jax.tree.map(lambda m, g: (m + g * g).astype(m.dtype), state.moment, grad)
        new = SecondMomentEllipsoidState(optax.safe_increment(state.count), moment)
        return _keep_if_not_finite(grad, new, state)

    def diagonal(state: SecondMomentEllipsoidState) -> PyTree:
        return _sqrt_plus_eps(state.moment, eps)

    return Ellipsoid(init=init, update=update, diagonal=diagonal, name="adagrad")


_BY_NAME: dict[str, Callable[[], Ellipsoid]] = {
    "identity": identity_ellipsoid,
    "rmsprop": rmsprop_ellipsoid,
    "adam": adam_ellipsoid,
    "adagrad": adagrad_ellipsoid,
}


def get_ellipsoid(spec: Ellipsoid | str) -> Ellipsoid:
    """Returns an `Ellipsoid` from an instance or a name with default hyperparameters.

    Args:
      spec: an `Ellipsoid` (returned as is) or one of `"identity"`, `"rmsprop"`,
        `"adam"`, `"adagrad"`.

    Examples:
      >>> from complexity_optax import get_ellipsoid
      >>> get_ellipsoid("adagrad").name
      'adagrad'

    References:
      Kohler, Adolphs & Lucchi, arXiv:1905.09201.
    """
    if isinstance(spec, Ellipsoid):
        return spec
    if isinstance(spec, str) and spec in _BY_NAME:
        return _BY_NAME[spec]()
    raise ValueError(
        f"ellipsoid must be an Ellipsoid or one of {tuple(_BY_NAME)}, got {spec!r}"
    )
