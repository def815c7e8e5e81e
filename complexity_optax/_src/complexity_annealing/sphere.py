# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The N-sphere: projection of the parameters onto ‖θ‖ = r, spherical init, tangent gradients.

Complexity gradient descent (Richemond & Guo, 2019) keeps the weights on the sphere of radius √N
(N = number of scalars), as in the spherical spin glass: it draws θ Gaussian i.i.d., projects it
onto the sphere, takes a gradient step and projects back after every step.

Scopes. ``scope="global"`` treats the (masked) parameter tree as one vector of N scalars, with one
norm; ``scope="per_leaf"`` puts every leaf on its own sphere, of radius √(leaf size) by default.

Numerics. Norms and inner products are computed in at least float32 (so bfloat16 parameters are
accumulated in float32; float64 stays float64); updates come back in the parameters' dtype. A zero
norm never gives NaN: the projection then leaves the point where it is (see each function).
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common import tree as tree_lib

_SCOPES = ("global", "per_leaf")

MaskOrFn = Any | Callable[[optax.Params], Any] | None


def _validate(radius: float | None, scope: str) -> None:
    # inject_hyperparams rebuilds the transformation with a traced radius at every update.
    if radius is not None and not checks.is_traced(radius):
        checks.check_positive("radius", radius)
    checks.check_choice("scope", scope, _SCOPES)


_compute_dtype = tree_lib.compute_dtype
_upcast = tree_lib.upcast
_tree_num_scalars = tree_lib.tree_dimension


def _scale_to_radius(points: Any, radius: float | None) -> Any:
    """Returns r·x/‖x‖ for the whole tree ``points`` (already in compute dtype); x if ‖x‖ = 0."""
    n = _tree_num_scalars(points)
    if n == 0:
        return points
    norm = optax.tree.norm(points)
    r = jnp.sqrt(jnp.asarray(n, norm.dtype)) if radius is None else jnp.asarray(radius, norm.dtype)
    safe = norm > 0
    factor = jnp.where(safe, r / jnp.where(safe, norm, 1.0), 1.0)
    return jax.tree.map(lambda x: (x * factor.astype(x.dtype)), points)


def _project_tree(points: Any, radius: float | None, scope: str) -> Any:
    """Projects ``points`` onto the sphere(s) given by ``scope``; zero-norm parts are kept as is."""
    if scope == "global":
        return _scale_to_radius(points, radius)
    return jax.tree.map(lambda x: _scale_to_radius(x, radius), points)


def _project_updates(updates: Any, params: Any, radius: float | None, scope: str) -> Any:
    """Returns u' with θ + u' = r(θ + u)/‖θ + u‖, in the params' dtype."""
    new_points = jax.tree.map(lambda p, u: p + u, _upcast(params), _upcast(updates))
    projected = _project_tree(new_points, radius, scope)
    return jax.tree.map(
        lambda q, p: (q - p.astype(q.dtype)).astype(jnp.asarray(p).dtype), projected, params
    )


def project_onto_sphere(
    radius: float | None = None,
    *,
    scope: str = "global",
    mask: MaskOrFn = None,
) -> optax.GradientTransformationExtraArgs:
    r"""Projects the new parameters onto the N-sphere: meant as the LAST link of a chain.

    Given the incoming updates :math:`u` and the parameters :math:`\theta`, returns

    .. math::
        u' = r\,\frac{\theta + u}{\lVert\theta + u\rVert} - \theta,

    so that ``optax.apply_updates(params, u')`` lies on the sphere of radius :math:`r`. By default
    :math:`r = \sqrt{N}`, with :math:`N` the number of scalars in scope: the whole masked tree for
    ``scope="global"``, the leaf for ``scope="per_leaf"`` (each leaf on its own sphere).

    Zero norm: if :math:`\theta + u = 0` (in scope), the update is returned unchanged, so the
    parameters stay at :math:`\theta + u = 0` and nothing becomes NaN.

    Masked-out leaves (``mask`` False) pass through unchanged and count neither in :math:`N` nor in
    the norm. Norms are computed in at least float32; updates are returned in the params' dtype.

    Args:
      radius: the sphere's radius :math:`r > 0`; ``None`` (default) means :math:`\sqrt{N}`.
      scope: ``"global"`` (one sphere for the whole tree) or ``"per_leaf"``.
      mask: optional pytree of booleans (or a callable ``params -> mask``) as in ``optax.masked``;
        only leaves marked ``True`` are projected.

    Returns:
      A stateless ``optax.GradientTransformationExtraArgs`` that needs ``params``.

    Raises:
      ValueError: ``radius`` is not > 0 or ``scope`` is unknown (at construction); ``params`` is
        ``None`` (at update).

    Examples:
      >>> import jax.numpy as jnp, optax
      >>> from complexity_optax import project_onto_sphere
      >>> tx = optax.chain(optax.sgd(0.1), project_onto_sphere())
      >>> params = {"w": jnp.array([1.0, 0.0, 0.0, 0.0])}
      >>> state = tx.init(params)
      >>> updates, state = tx.update({"w": jnp.array([0.0, -1.0, 0.0, 0.0])}, state, params)
      >>> params = optax.apply_updates(params, updates)
      >>> print(round(float(optax.tree.norm(params)), 5))  # sqrt(4)
      2.0

    References:
      Richemond & Guo, `Combining learning rate decay and weight decay with complexity gradient
      descent - Part I <https://arxiv.org/abs/1902.02881>`_, 2019 (Algorithms 1-3).
    """
    _validate(radius, scope)

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        if params is None:
            raise ValueError("params: project_onto_sphere needs params (pass them to update)")
        return _project_updates(updates, params, radius, scope), state

    tx = optax.GradientTransformationExtraArgs(optax.init_empty_state, update_fn)
    if mask is not None:
        tx = optax.masked(tx, mask)
    return tx


def sphere_init(
    key: jax.Array,
    params: Any,
    *,
    radius: float | None = None,
    scope: str = "global",
) -> Any:
    r"""Draws parameters Gaussian i.i.d. and projects them onto the N-sphere.

    .. math::
        z \sim \mathcal N(0, I_N), \qquad \theta_0 = r\, z / \lVert z \rVert,

    with :math:`r = \sqrt N` by default (then every entry has standard deviation close to 1). The
    result has the structure, shapes and dtypes of ``params`` (whose values are ignored). The draw
    is made in float32 (so one key gives the same point in every dtype), the norm in at least
    float32, then the result is cast to each leaf's dtype.

    Args:
      key: a ``jax.random`` key.
      params: a pytree of floating arrays giving the structure, shapes and dtypes.
      radius: the sphere's radius :math:`r > 0`; ``None`` (default) means :math:`\sqrt{N}`.
      scope: ``"global"`` (one sphere, :math:`N` = all scalars) or ``"per_leaf"``.

    Returns:
      A pytree like ``params`` lying on the sphere(s).

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> from complexity_optax import sphere_init
      >>> params = sphere_init(jax.random.key(0), {"w": jnp.zeros((3, 3)), "b": jnp.zeros(7)})
      >>> print(round(float(optax.tree.norm(params)) ** 2, 3))  # N = 16
      16.0

    References:
      Richemond & Guo, `Combining learning rate decay and weight decay with complexity gradient
      descent - Part I <https://arxiv.org/abs/1902.02881>`_, 2019.
    """
    _validate(radius, scope)
    for leaf in jax.tree.leaves(params):
        if not jnp.issubdtype(jnp.asarray(leaf).dtype, jnp.floating):
            dtype = jnp.asarray(leaf).dtype
            raise TypeError(f"params must have floating-point leaves, got {dtype}")
    draw = optax.tree.random_like(
        key,
        params,
        dtype=jnp.float32,  # whatever the leaf dtype: see complexity_optax._src.common.draws
    )
    projected = _project_tree(draw, radius, scope)
    return jax.tree.map(lambda q, p: q.astype(jnp.asarray(p).dtype), projected, params)


def tangent_projection(
    *, scope: str = "global", mask: MaskOrFn = None
) -> optax.GradientTransformationExtraArgs:
    r"""Removes the radial component of the updates: the Riemannian gradient on the sphere.

    .. math::
        g_\perp = g - \frac{g^\top\theta}{\lVert\theta\rVert^2}\,\theta,

    so that :math:`g_\perp^\top\theta = 0`. With ``scope="global"`` the inner product and the norm
    run over the whole (masked) tree; with ``"per_leaf"`` over each leaf. If
    :math:`\lVert\theta\rVert = 0` the updates are returned unchanged. Put it before the
    learning-rate scaling and follow the step with :func:`project_onto_sphere` (the retraction).

    Args:
      scope: ``"global"`` or ``"per_leaf"``.
      mask: optional pytree of booleans (or callable) as in ``optax.masked``.

    Returns:
      A stateless ``optax.GradientTransformationExtraArgs`` that needs ``params``.

    Examples:
      >>> import jax.numpy as jnp, optax
      >>> from complexity_optax import tangent_projection
      >>> tx = tangent_projection()
      >>> theta = jnp.array([1.0, 0.0])
      >>> g, _ = tx.update(jnp.array([3.0, 4.0]), tx.init(theta), theta)
      >>> print(g)
      [0. 4.]

    References:
      Absil, Mahony & Sepulchre, *Optimization Algorithms on Matrix Manifolds*, 2008 (§3.6);
      Richemond & Guo, https://arxiv.org/abs/1902.02881, 2019.
    """
    checks.check_choice("scope", scope, _SCOPES)

    def _remove_radial(g: Any, theta: Any) -> Any:
        g32, t32 = _upcast(g), _upcast(theta)
        sq = optax.tree.norm(t32, squared=True)
        dot = optax.tree.vdot(g32, t32)
        safe = sq > 0
        coef = jnp.where(safe, dot / jnp.where(safe, sq, 1.0), 0.0)
        return jax.tree.map(
            lambda gi, ti, g0: (gi - coef.astype(ti.dtype) * ti).astype(jnp.asarray(g0).dtype),
            g32,
            t32,
            g,
        )

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        if params is None:
            raise ValueError("params: tangent_projection needs params (pass them to update)")
        if scope == "global":
            return _remove_radial(updates, params), state
        return jax.tree.map(_remove_radial, updates, params), state

    tx = optax.GradientTransformationExtraArgs(optax.init_empty_state, update_fn)
    if mask is not None:
        tx = optax.masked(tx, mask)
    return tx
