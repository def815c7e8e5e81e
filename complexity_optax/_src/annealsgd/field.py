# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""AnnealSGD's external field: a fixed Gaussian direction h added to the gradient, annealed to 0.

The loss is tilted by a linear term, f(θ) + γ(t)·⟨h, θ⟩, with h drawn once and kept fixed, and the
strength γ(t) annealed from γ(0) to 0 by any optax schedule: training starts in the relaxed
(polynomial/trivial) regime of the spherical spin glass in a field and ends on the original
landscape. The gradient becomes g + γ(t)·c·h, where c sets the field's scale: 1 (the paper's
absolute field, ‖h‖ ≈ √N), ‖g‖/‖h‖ (a field γ times as strong as the gradient) or ‖θ‖/‖h‖ (γ
times the weight norm). The resampled variant draws a fresh h at every step (annealed noise).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common import tree as tree_lib
from complexity_optax._src.common.draws import draw_like
from complexity_optax._src.complexity_annealing.sphere import safe_norm

__all__ = ["AnnealedFieldState", "add_annealed_field", "field_alignment"]

RELATIVE_TO = (None, "grad", "params")
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class AnnealedFieldState(NamedTuple):
    r"""State of `add_annealed_field`.

    Attributes:
      count: number of updates done so far (int32); a schedule γ is evaluated at `count`.
      field: the field h, a pytree like the params (in their dtypes), entries N(0, 1). In resample
        mode, the draw used by the last update (the initial draw before any update).
      key: the random key; split at every update in resample mode, unused otherwise.
      field_norm: $\lVert h\rVert$ (float32 or float64), computed once with the field, so a
        relative field costs one pass over the gradient for $\lVert g\rVert$ and one for
        $g + \gamma c h$ (fused with what follows it), not a pass over $h$ every step.
    """

    count: jax.Array
    field: optax.Updates
    key: jax.Array
    field_norm: jax.Array


def check_scale(scale: Any, name: str = "scale") -> None:
    """Raises unless `scale` is a schedule, a traced value or a float in [0, float32 max]."""
    if callable(scale) or checks.is_traced(scale):
        checks.check_scalar(name, scale)
        return  # a schedule, or a value traced by inject_hyperparams
    checks.check_positive(name, scale, allow_zero=True)
    checks.check_scalar(name, scale)
    x = checks.concrete_float(scale)
    if x is not None and x > _FLOAT32_MAX:
        raise ValueError(f"{name} must be representable in float32 (<= {_FLOAT32_MAX:.4g}), got "
                         f"{scale!r}")


def _add_scaled(g: jax.Array, gamma: jax.Array, h: jax.Array) -> jax.Array:
    """g + γ·h computed in at least float32, returned in g's dtype."""
    dtype = tree_lib.compute_dtype(jnp.result_type(g))
    out = g.astype(dtype) + gamma.astype(dtype) * h.astype(dtype)
    return out.astype(jnp.result_type(g))


def _norm(tree: Any) -> jax.Array:
    """`tree_lib.tree_norm` over the leaves with at least one element: size-0 leaves (an empty
    layer) add nothing to a norm, and a tree of only size-0 leaves has norm 0 (the field is then
    a no-op: nothing to add it to)."""
    return tree_lib.tree_norm([x for x in jax.tree.leaves(tree) if jnp.size(x)])


def _ratio(numerator: jax.Array, denominator: jax.Array) -> jax.Array:
    safe = denominator > 0
    return jnp.where(safe, numerator / jnp.where(safe, denominator, 1.0), 0.0)


def add_annealed_field(
    scale: optax.ScalarOrSchedule,
    *,
    key: Any,
    relative_to: str | None = "grad",
    resample: bool = False,
) -> optax.GradientTransformationExtraArgs:
    r"""Adds an annealed external field to the updates (AnnealSGD). Put it before the LR scaling.

    $$
    g_t \leftarrow g_t + \gamma(t)\, c_t\, h, \qquad h \sim \mathcal N(0, I_N),
    $$

    the gradient of the tilted loss $f(\theta) + \gamma(t)\,c_t\langle h, \theta\rangle$. The
    field $h$ is drawn once at `init` from `key` (one N(0, 1) entry per scalar, so
    $\lVert h\rVert \approx \sqrt N$) and kept in the state with the step count $t$. The strength
    $\gamma(t)$ is `scale`: a float (a constant field) or any optax schedule of the step count,
    e.g. `optax.linear_schedule(γ₀, 0.0, τ)` (linear to 0 at step τ, the default shape of the
    paper's anneal), `optax.exponential_decay(γ₀, τ, 1/e)` or `optax.cosine_decay_schedule(γ₀, τ)`.
    The scale $c_t$ is set by `relative_to`:

    * `"grad"` (default): $c_t = \lVert g_t\rVert / \lVert h\rVert$, so the field is $\gamma$ times
      as strong as the incoming gradient whatever the model's size and scale ($\gamma = 1$: as
      strong as the gradient itself);
    * `"params"`: $c_t = \lVert\theta_t\rVert / \lVert h\rVert$ ($\gamma$ times the weight norm;
      needs `params`);
    * `None`: $c_t = 1$, the absolute field of Chaudhari & Soatto ($\lVert\gamma h\rVert \approx
      \gamma\sqrt N$, which for a network depends on its size: tune $\gamma$ per model).

    Size-0 leaves (an empty layer) add nothing to the norms; a tree with no element at all gets
    a no-op field. A schedule must return a scalar (an error naming `scale` otherwise).

    With `resample=True` a fresh $h$ is drawn at every step from the key kept in the state
    (split at each step): the annealed-noise baseline. A non-finite $\gamma$ is treated as 0.

    Args:
      scale: $\gamma \ge 0$ (float, representable in float32) or an optax schedule.
      key: a `jax.random` key or an int seed in the int64 range (an int stays usable under
        `inject_hyperparams`).
      relative_to: `"grad"`, `"params"` or `None` (see above).
      resample: draw a new field at every step instead of keeping it fixed.

    Returns:
      An `optax.GradientTransformationExtraArgs` with state `AnnealedFieldState`.

    Raises:
      ValueError: `scale` < 0, not finite or above the float32 range; unknown `relative_to`.
      TypeError: `key` is not a key or an int; `resample` is not a bool.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> from complexity_optax import add_annealed_field
      >>> field = add_annealed_field(optax.linear_schedule(1.0, 0.0, 100), key=0, relative_to=None)
      >>> tx = optax.chain(field, optax.sgd(0.1))
      >>> params = jnp.zeros(3)
      >>> state = tx.init(params)
      >>> updates, state = tx.update(jnp.zeros(3), state, params)  # -0.1 * γ(0) * h
      >>> print(bool(jnp.allclose(updates, -0.1 * state[0].field)))
      True

    References:
      Chaudhari & Soatto, [On the energy landscape of deep networks](
      https://arxiv.org/abs/1511.06485), 2017 (AnnealSGD); Neelakantan et al., [Adding gradient
      noise improves learning for very deep networks](https://arxiv.org/abs/1511.06807), 2015
      (resampled noise).
    """
    check_scale(scale)
    scale = checks.scalar_schedule("scale", scale)
    key = checks.as_key(key, "key")
    checks.check_choice("relative_to", relative_to, RELATIVE_TO)
    checks.check_bool("resample", resample)

    def init_fn(params):
        field = draw_like(key, params, name="params")
        # A copy of the key: a jitted step that donates its state must not delete the caller's key.
        return AnnealedFieldState(count=jnp.zeros([], jnp.int32), field=field, key=jnp.copy(key),
                                  field_norm=_norm(field))

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        if relative_to == "params" and params is None:
            raise ValueError("params: add_annealed_field(relative_to='params') needs params "
                             "(pass them to update)")
        if resample:
            new_key, draw_key = jax.random.split(state.key)
            field = optax.tree.cast_like(draw_like(draw_key, updates, name="updates"),
                                         state.field)
            field_norm = _norm(field).astype(state.field_norm.dtype)
        else:
            new_key, field, field_norm = state.key, state.field, state.field_norm
        gamma = scale(state.count) if callable(scale) else scale
        gamma = jnp.reshape(jnp.asarray(gamma, jnp.float32), ())
        gamma = jnp.where(jnp.isfinite(gamma), gamma, 0.0)
        if relative_to is not None:
            reference = updates if relative_to == "grad" else params
            factor = _ratio(_norm(reference), field_norm)
            gamma = gamma * jnp.where(jnp.isfinite(factor), factor, 0.0).astype(jnp.float32)
        new_updates = jax.tree.map(lambda g, h: _add_scaled(g, gamma, h), updates, field)
        count = optax.safe_increment(state.count)
        return new_updates, AnnealedFieldState(count=count, field=field, key=new_key,
                                               field_norm=field_norm)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def _find_field_state(state: Any) -> AnnealedFieldState:
    if isinstance(state, AnnealedFieldState):
        return state
    found = optax.tree.get_all_with_path(state, AnnealedFieldState.__name__)
    found = [s for _, s in found if isinstance(s, AnnealedFieldState)]
    if not found:
        raise ValueError("state: no AnnealedFieldState found (is add_annealed_field in the chain?)")
    if len(found) > 1:
        raise ValueError(
            f"state: {len(found)} AnnealedFieldStates found; pass the one you mean directly"
        )
    return found[0]


def field_alignment(params: Any, state: Any) -> jax.Array:
    r"""Alignment of the weights with the AnnealSGD field: $|h^\top\theta| / (\lVert h\rVert\,
    \lVert\theta\rVert)$.

    The cosine between the field and the weights, in $[0, 1]$ (0 if either norm is 0, NaN if the
    params are not finite), computed in at least float32 on vectors scaled by their largest
    entries (no overflow for huge finite weights). Chaudhari & Soatto (Fig. 4) track this overlap
    during training.

    Args:
      params: the parameters $\theta$: a pytree whose leaves match the field's leaves in
        order and shape (e.g. the params, or `nnx.state(model, nnx.Param)` with the
        `opt_state` of an `nnx.Optimizer`).
      state: the `AnnealedFieldState`, or any optax state tree that contains exactly one
        (it is found with `optax.tree.get_all_with_path` by the class name, so it may sit at any
        depth of `chain`/`inject_hyperparams`/`MultiSteps` states).

    Returns:
      A float scalar.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> from complexity_optax import add_annealed_field, field_alignment
      >>> tx = optax.chain(add_annealed_field(1.0, key=0), optax.sgd(0.1))
      >>> state = tx.init(jnp.zeros(4))
      >>> h = state[0].field
      >>> print(round(float(field_alignment(-3.0 * h, state)), 5))
      1.0

    References:
      Chaudhari & Soatto, [On the energy landscape of deep networks](
      https://arxiv.org/abs/1511.06485), 2017.
    """
    h_leaves = [_upcast(x) for x in jax.tree.leaves(_find_field_state(state).field)]
    t_leaves = [_upcast(x) for x in jax.tree.leaves(params)]
    if [x.shape for x in h_leaves] != [x.shape for x in t_leaves]:
        raise ValueError("params: leaves do not match the field's leaves (shapes or count differ)")
    # Leaf lists, not tree_map: the field and params may be wrapped differently (nnx Variables).
    finite = tree_lib.all_finite(t_leaves)
    h_hat = _unit(h_leaves)
    t_hat = _unit(t_leaves)
    cosine = jnp.abs(optax.tree.vdot(h_hat, t_hat))
    return jnp.where(finite, jnp.minimum(cosine, 1.0), jnp.nan)


def _unit(leaves: list) -> list:
    """`leaves / ‖leaves‖` (scaled first, so no overflow); zeros stay zeros."""
    norm = safe_norm(leaves)
    safe = norm > 0
    return [jnp.where(safe, x / jnp.where(safe, norm, 1.0).astype(x.dtype), 0.0) for x in leaves]


def _upcast(x: Any) -> jax.Array:
    return tree_lib.upcast(jnp.asarray(x))
