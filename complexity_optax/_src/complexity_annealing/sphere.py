# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The N-sphere: projection of the parameters onto ‖θ‖ = r, spherical init, tangent gradients.

Complexity gradient descent (Richemond & Guo, 2019) keeps the weights on a sphere ‖θ‖ = r and
projects back after every step. The paper's sphere, as in the spherical spin glass, has radius
√N (N = number of scalars): every weight then has unit scale, which is right for a spin glass but
not for a network whose initialiser (LeCun, He) gives weights of scale 1/√fan_in. The default here
is therefore `radius="init"`: the sphere through the parameters given to `init`, so that a
network keeps the norm its initialiser chose; `radius="sqrt_n"` gives the paper's √N and a float
gives any fixed radius.

Scopes. `scope="global"` treats the (masked) parameter tree as one vector of N scalars, with one
norm; `scope="per_leaf"` puts every leaf on its own sphere (radius its own initial norm, or
√(leaf size)).

Numerics. Norms and inner products are computed in at least float32, on vectors first divided by
their largest magnitude, so that they do not overflow (a finite point of entries above ~1.8e19
has a float32 squared norm of inf) or underflow; updates come back in the parameters' dtype. A zero
norm never gives NaN: the projection then leaves the point where it is (see each function).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common import tree as tree_lib

__all__ = [
    "SphereState",
    "project_onto_sphere",
    "sphere_init",
    "tangent_projection",
]

_SCOPES = ("global", "per_leaf")
_NAMED_RADII = ("init", "sqrt_n")

MaskOrFn = Any | Callable[[optax.Params], Any] | None


class SphereState(NamedTuple):
    """State of `project_onto_sphere`.

    Attributes:
      radius: with `radius="init"`, the norm of the parameters given to `init` (a float32
        scalar for `scope="global"`, one per leaf, in a tree like the params, for
        `"per_leaf"`); `None` (an empty node) for a fixed or √N radius.
    """

    radius: Any = None


def _validate_radius(radius: Any) -> None:
    if isinstance(radius, str):
        checks.check_choice("radius", radius, _NAMED_RADII)
    elif radius is not None and not checks.is_traced(radius):
        # inject_hyperparams rebuilds the transformation with a traced radius at every update.
        checks.check_positive("radius", radius)
        checks.check_scalar("radius", radius)


def _validate(radius: Any, scope: str) -> None:
    _validate_radius(radius)
    checks.check_choice("scope", scope, _SCOPES)


def _max_abs(tree: Any) -> jax.Array:
    """The largest |entry| of `tree` (0 for an empty tree), in the tree's compute dtype."""
    leaves = jax.tree.leaves(tree)
    if not leaves:
        return jnp.zeros([], jnp.float32)
    return jnp.max(jnp.stack([jnp.max(jnp.abs(x)) if x.size else jnp.zeros([], x.dtype)
                              for x in leaves]))


def _scaled(tree: Any) -> tuple[Any, jax.Array]:
    """`(tree / m, m)` with m the largest |entry| (m = 1 when it is 0 or not finite).

    Dividing by m before squaring keeps ‖tree/m‖² in [1, N]: no overflow for huge finite
    entries, no underflow for tiny ones.
    """
    m = _max_abs(tree)
    m = jnp.where((m > 0) & jnp.isfinite(m), m, jnp.ones_like(m))
    return jax.tree.map(lambda x: x / m.astype(x.dtype), tree), m


def safe_norm(tree: Any) -> jax.Array:
    """‖tree‖₂ without overflow or underflow (computed as m·‖tree/m‖, m = max |entry|).

    `tree` should already be in a compute dtype (float32 or float64).

    Examples:
      >>> import jax.numpy as jnp
      >>> x = [jnp.array([3e20, 4e20], jnp.float32)]
      >>> print(f"{float(safe_norm(x)):.4g}", float(jnp.sqrt(jnp.sum(x[0] ** 2))))  # naive: inf
      5e+20 inf
    """
    scaled, m = _scaled(tree)
    return m * optax.tree.norm(scaled)


def _scale_to_radius(points: Any, radius: Any) -> Any:
    """Returns r·x/‖x‖ for the whole tree `points` (already in compute dtype); x if ‖x‖ = 0.

    `radius` is a number, a (traced) scalar array, or `"sqrt_n"`.
    """
    n = tree_lib.tree_dimension(points)
    if n == 0:
        return points
    direction, m = _scaled(points)
    norm = optax.tree.norm(direction)  # ‖x/m‖ in [1, √N] unless x = 0
    dtype = norm.dtype
    r = jnp.sqrt(jnp.asarray(n, dtype)) if _is_sqrt_n(radius) else jnp.asarray(radius, dtype)
    safe = norm > 0
    factor = jnp.where(safe, r / jnp.where(safe, norm, 1.0), 1.0)  # x = 0: x/m·1 = x
    # Written as (x/m)·factor on the original leaves (not on ``direction``): the same expression
    # whatever else is fused around it, so jitted callers get bit-identical updates.
    return jax.tree.map(lambda x: (x / m.astype(x.dtype)) * factor.astype(x.dtype), points)


def _is_sqrt_n(radius: Any) -> bool:
    return radius is None or (isinstance(radius, str) and radius == "sqrt_n")


def _project_tree(points: Any, radius: Any, scope: str, radii_tree: bool = False) -> Any:
    """Projects `points` onto the sphere(s) given by `scope`; zero-norm parts are kept as is.

    For `"per_leaf"`, `radius` is one radius for every leaf (a number or `"sqrt_n"`), or,
    with `radii_tree`, a tree of per-leaf radii like `points`.
    """
    if scope == "global":
        return _scale_to_radius(points, radius)
    if radii_tree:
        return jax.tree.map(_scale_to_radius, points, radius)
    return jax.tree.map(lambda x: _scale_to_radius(x, radius), points)


def _project_updates(updates: Any, params: Any, radius: Any, scope: str,
                     radii_tree: bool = False) -> Any:
    """Returns u' with θ + u' = r(θ + u)/‖θ + u‖, in the params' dtype."""
    upcast = tree_lib.upcast
    new_points = jax.tree.map(lambda p, u: p + u, upcast(params), upcast(updates))
    projected = _project_tree(new_points, radius, scope, radii_tree)
    return jax.tree.map(
        lambda q, p: (q - p.astype(q.dtype)).astype(jnp.asarray(p).dtype), projected, params
    )


def _initial_radius(params: Any, scope: str) -> Any:
    """The norm(s) of `params` (float32 at least): one scalar, or one per leaf."""
    params = tree_lib.upcast(params)
    if scope == "global":
        return safe_norm(params)
    return jax.tree.map(lambda x: safe_norm([x]), params)


def project_onto_sphere(
    radius: float | str | None = "init",
    *,
    scope: str = "global",
    mask: MaskOrFn = None,
) -> optax.GradientTransformationExtraArgs:
    r"""Projects the new parameters onto a sphere: meant as the LAST link of a chain.

    Given the incoming updates $u$ and the parameters $\theta$, returns

    $$
    u' = r\,\frac{\theta + u}{\lVert\theta + u\rVert} - \theta,
    $$

    so that `optax.apply_updates(params, u')` lies on the sphere of radius $r$. The radius:

    * `"init"` (default): $r = \lVert\theta_0\rVert$, the norm of the parameters given to
      `init` (kept in the state). A network keeps the scale its initialiser chose; this is what
      trains real networks (the paper's $\sqrt N$ puts every weight at unit scale, which for a
      LeCun-initialised CNN is ~10× too large and leaves it at chance).
    * `"sqrt_n"`: $r = \sqrt N$, the sphere of the spherical spin glass and of Richemond & Guo,
      with $N$ the number of scalars in scope (use it with `sphere_init`).
    * a float $r > 0$: a fixed radius.

    With `scope="global"` the whole masked tree is one vector; with `"per_leaf"` each leaf has its
    own sphere (its own initial norm, its own $\sqrt{N_\text{leaf}}$, or the given float).

    Zero norm: if $\theta + u = 0$ (in scope), the update is returned unchanged, so the
    parameters stay at $\theta + u = 0$ and nothing becomes NaN. Norms are computed in at least
    float32 and scaled by the largest entry first, so huge finite points do not overflow.

    Masked-out leaves (`mask` False) pass through unchanged and count neither in $N$ nor in
    the norm.

    Args:
      radius: `"init"`, `"sqrt_n"` or a float $r > 0$ (`None` is the same as `"sqrt_n"`).
      scope: `"global"` (one sphere for the whole tree) or `"per_leaf"`.
      mask: optional pytree of booleans (or a callable `params -> mask`) as in `optax.masked`;
        only leaves marked `True` are projected.

    Returns:
      An `optax.GradientTransformationExtraArgs` (state `SphereState`) that needs `params`.

    Raises:
      ValueError: `radius` is not > 0 or not a known name, or `scope` is unknown (at
        construction); `params` is `None` (at update).

    Examples:
      >>> import jax.numpy as jnp, optax
      >>> from complexity_optax import project_onto_sphere
      >>> tx = optax.chain(optax.sgd(0.1), project_onto_sphere())  # radius = ‖θ₀‖ = 2
      >>> params = {"w": jnp.array([2.0, 0.0, 0.0, 0.0])}
      >>> state = tx.init(params)
      >>> updates, state = tx.update({"w": jnp.array([0.0, -5.0, 0.0, 0.0])}, state, params)
      >>> params = optax.apply_updates(params, updates)
      >>> print(round(float(optax.tree.norm(params)), 5))
      2.0

    References:
      Richemond & Guo, [Combining learning rate decay and weight decay with complexity gradient
      descent - Part I](https://arxiv.org/abs/1902.02881), 2019 (Algorithms 1-3).
    """
    _validate(radius, scope)
    from_init = isinstance(radius, str) and radius == "init"

    def init_fn(params):
        if from_init:
            return SphereState(radius=_initial_radius(params, scope))
        return SphereState()

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        if params is None:
            raise ValueError("params: project_onto_sphere needs params (pass them to update)")
        r = state.radius if from_init else radius
        return _project_updates(updates, params, r, scope, from_init), state

    tx = optax.GradientTransformationExtraArgs(init_fn, update_fn)
    if mask is not None:
        tx = optax.masked(tx, mask)
    return tx


def sphere_init(
    key: jax.Array,
    params: Any,
    *,
    radius: float | str | None = "sqrt_n",
    scope: str = "global",
) -> Any:
    r"""Draws parameters Gaussian i.i.d. and projects them onto the N-sphere.

    $$
    z \sim \mathcal N(0, I_N), \qquad \theta_0 = r\, z / \lVert z \rVert,
    $$

    with $r = \sqrt N$ by default (then every entry has standard deviation close to 1: the
    spherical spin glass). For a neural network, keep its own initialiser and project with
    `project_onto_sphere()` (radius `"init"`) instead. The result has the structure, shapes and
    dtypes of `params` (whose values are ignored; Python floats become float32 scalars). The draw
    is made in float32 (so one key gives the same point in every dtype), the norm in at least
    float32, then the result is cast to each leaf's dtype.

    Args:
      key: a `jax.random` key (or an int seed in the int64 range).
      params: a pytree of floating arrays (or Python floats) giving the structure, shapes and
        dtypes.
      radius: `"sqrt_n"` (default, $\sqrt N$; `None` is the same) or a float $r > 0$.
      scope: `"global"` (one sphere, $N$ = all scalars) or `"per_leaf"`.

    Returns:
      A pytree like `params` lying on the sphere(s).

    Raises:
      TypeError: a leaf is not floating point (or not an array or a float).
      ValueError: a bad `radius` or `scope`.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> from complexity_optax import sphere_init
      >>> params = sphere_init(jax.random.key(0), {"w": jnp.zeros((3, 3)), "b": jnp.zeros(7)})
      >>> print(round(float(optax.tree.norm(params)) ** 2, 3))  # N = 16
      16.0

    References:
      Richemond & Guo, [Combining learning rate decay and weight decay with complexity gradient
      descent - Part I](https://arxiv.org/abs/1902.02881), 2019.
    """
    if isinstance(radius, str) and radius == "init":
        raise ValueError("radius must be 'sqrt_n' or a float > 0 for sphere_init (the values of "
                         "params are ignored), got 'init'")
    _validate(radius, scope)
    key = checks.as_key(key, "key")

    def as_array(leaf):
        if isinstance(leaf, bool) or not isinstance(
                leaf, (float, int, jax.Array, jax.ShapeDtypeStruct)) and not hasattr(
                leaf, "dtype"):
            raise TypeError(
                f"params must have floating-point array leaves, got {type(leaf).__name__}")
        if isinstance(leaf, jax.ShapeDtypeStruct):
            return jnp.zeros(leaf.shape, leaf.dtype)
        return jnp.asarray(leaf)

    params = jax.tree.map(as_array, params)
    for leaf in jax.tree.leaves(params):
        if not jnp.issubdtype(leaf.dtype, jnp.floating):
            raise TypeError(f"params must have floating-point leaves, got {leaf.dtype}")
    draw = optax.tree.random_like(
        key,
        params,
        dtype=jnp.float32,  # whatever the leaf dtype: see complexity_optax._src.common.draws
    )
    projected = _project_tree(draw, radius, scope)
    return jax.tree.map(lambda q, p: q.astype(p.dtype), projected, params)


def tangent_projection(
    *, scope: str = "global", mask: MaskOrFn = None
) -> optax.GradientTransformationExtraArgs:
    r"""Removes the radial component of the updates: the Riemannian gradient on the sphere.

    $$
    g_\perp = g - \frac{g^\top\theta}{\lVert\theta\rVert^2}\,\theta,
    $$

    so that $g_\perp^\top\theta = 0$. With `scope="global"` the inner product and the norm
    run over the whole (masked) tree; with `"per_leaf"` over each leaf. If
    $\lVert\theta\rVert = 0$ the updates are returned unchanged. $\theta$ and $g$ are divided by
    their largest entries before the products, so huge finite values do not overflow. Put it
    before the learning-rate scaling and follow the step with `project_onto_sphere` (the
    retraction).

    Args:
      scope: `"global"` or `"per_leaf"`.
      mask: optional pytree of booleans (or callable) as in `optax.masked`.

    Returns:
      A stateless `optax.GradientTransformationExtraArgs` that needs `params`.

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
      Richemond & Guo, <https://arxiv.org/abs/1902.02881>, 2019.
    """
    checks.check_choice("scope", scope, _SCOPES)

    def _remove_radial(g: Any, theta: Any) -> Any:
        g_hat, g_scale = _scaled(tree_lib.upcast(g))
        t_hat, _ = _scaled(tree_lib.upcast(theta))
        sq = optax.tree.norm(t_hat, squared=True)  # in [1, N] unless θ = 0
        dot = optax.tree.vdot(g_hat, t_hat)
        safe = sq > 0
        coef = jnp.where(safe, dot / jnp.where(safe, sq, 1.0), 0.0)
        return jax.tree.map(
            lambda gi, ti, g0: (g_scale.astype(gi.dtype) * (gi - coef.astype(ti.dtype) * ti))
            .astype(jnp.asarray(g0).dtype),
            g_hat,
            t_hat,
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
