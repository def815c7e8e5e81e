# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The ONE place that builds every optimizer of the reproductions, from the public API.

Everything is assembled from the stable building blocks (`complexity_weight_decay`,
`two_step_annealing`, `project_onto_sphere`, `add_annealed_field`, `cosine_annealing`,
`matched_annealing`, `lr_matched_annealing`, the ellipsoids and `trust_region`, called with keyword
arguments) and optax, so that a change of a ready-made optimizer's signature cannot break the
experiments. First-order baselines are wrapped in `optax.inject_hyperparams` so that one
compiled epoch serves a whole learning-rate grid.

Examples:
  >>> import jax.numpy as jnp
  >>> from complexity_optax.demo.reproduce import optimizers
  >>> tx = optimizers.first_order("sgd", 0.5)
  >>> state = tx.init(jnp.zeros(2))
  >>> float(state.hyperparams["learning_rate"])
  0.5
"""

from __future__ import annotations

import inspect
from typing import Any

import jax
import optax

import complexity_optax as co

__all__ = [
    "FIRST_ORDER",
    "STRENGTHS",
    "TR_ELLIPSOIDS",
    "annealed_field",
    "annealed_field_sgd",
    "first_order",
    "strength_schedule",
    "trust_region",
    "weight_decay_sgd",
]

# torch.optim defaults (the authors' baselines) where they differ from optax's.
FIRST_ORDER = {
    "sgd": lambda: optax.inject_hyperparams(optax.sgd)(learning_rate=0.0),
    "momentum": lambda: optax.inject_hyperparams(optax.sgd)(learning_rate=0.0, momentum=0.9),
    "adagrad": lambda: optax.inject_hyperparams(optax.adagrad)(
        learning_rate=0.0, initial_accumulator_value=0.0, eps=1e-10),
    "rmsprop": lambda: optax.inject_hyperparams(optax.rmsprop)(
        learning_rate=0.0, decay=0.99, eps=1e-8),
    "adam": lambda: optax.inject_hyperparams(optax.adam)(learning_rate=0.0),
}


def first_order(name: str, learning_rate: float) -> optax.GradientTransformationExtraArgs:
    """SGD, momentum SGD (0.9), Adagrad, RMSprop (decay 0.99) or Adam at `learning_rate`.

    The learning rate is an injected hyper-parameter (a state leaf), so every learning rate
    shares one compiled training epoch.
    """
    if name not in FIRST_ORDER:
        raise ValueError(f"name must be one of {sorted(FIRST_ORDER)}, got {name!r}")
    inner = FIRST_ORDER[name]()

    def init_fn(params):
        state = inner.init(params)
        hyper = dict(state.hyperparams)
        hyper["learning_rate"] = jax.numpy.asarray(learning_rate, jax.numpy.float32)
        return state._replace(hyperparams=hyper)

    return optax.GradientTransformationExtraArgs(init_fn, inner.update)


# The ellipsoids of the trust-region experiments, as in the authors' code (trust_region.py):
# RMSProp with β = 0.8 and no ε after the root (G_0 = 1e-10), Adagrad with G_0 = ε = 1e-10.
TR_ELLIPSOIDS = {
    "identity": lambda: co.identity_ellipsoid(),
    "adagrad": lambda: co.adagrad_ellipsoid(eps=0.0, initial_accumulator=1e-10),
    "rmsprop": lambda: co.rmsprop_ellipsoid(decay=0.8, eps=0.0, initial_accumulator=1e-10),
}


def _call_with_known_kwargs(fn, **kwargs):
    """Calls `fn` with the keyword arguments it declares (a renamed or dropped option is left
    out rather than an error); a required leading `learning_rate` gets 1.0 (no scaling)."""
    parameters = inspect.signature(fn).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    known = {k: v for k, v in kwargs.items() if accepts_any or k in parameters}
    args = []
    first = next(iter(parameters.values()), None)
    if (first is not None and first.name == "learning_rate"
            and first.default is inspect.Parameter.empty and "learning_rate" not in known):
        args.append(1.0)
    return fn(*args, **known)


def trust_region(ellipsoid: str, *, initial_radius: float, max_radius: float, eta1: float,
                 eta2: float, increase: float, decrease_divisor: float,
                 max_cg_iters: int) -> optax.GradientTransformationExtraArgs:
    """`trust_region` with one of `TR_ELLIPSOIDS` and the authors' constants.

    `decrease_divisor` is the authors' `decrease_mult` (the radius is divided by it after a
    rejection); the library's `decrease` is its inverse.
    """
    return _call_with_known_kwargs(
        co.trust_region, ellipsoid=TR_ELLIPSOIDS[ellipsoid](), initial_radius=initial_radius,
        max_radius=max_radius, eta1=eta1, eta2=eta2, increase=increase,
        decrease=1.0 / decrease_divisor, max_cg_iters=max_cg_iters)


def annealed_field(init_scale: float, timescale: float, *, key: Any,
                   resample: bool = False) -> optax.GradientTransformationExtraArgs:
    r"""`add_annealed_field` with the absolute field $\gamma(t) h$,
    $\gamma(t) = \gamma_0 (1 - t/\tau)_+$ (linear anneal to 0 at step $\tau$).

    Works with both signatures the library has had: `(key, init_scale, timescale, ...)` and
    `(scale_schedule, *, key, relative_to, ...)` (then `relative_to=None`: absolute field).
    """
    parameters = inspect.signature(co.add_annealed_field).parameters
    if "init_scale" in parameters:
        return co.add_annealed_field(key, init_scale=init_scale, timescale=timescale,
                                     schedule="linear", resample=resample)
    schedule = optax.linear_schedule(init_scale, 0.0, max(1, int(round(timescale))))
    return _call_with_known_kwargs(co.add_annealed_field, scale=schedule, key=key,
                                   relative_to=None, resample=resample)


def annealed_field_sgd(learning_rate: float, *, key: Any, init_scale: float, timescale: float,
                       resample: bool = False, momentum: float | None = 0.9
                       ) -> optax.GradientTransformationExtraArgs:
    r"""AnnealSGD: the field $\gamma(t) h$ added to the gradient (`annealed_field`), then
    (momentum) SGD. `resample=True` draws a fresh $h$ at every step (the resampled-noise
    baseline).
    """
    return optax.chain(annealed_field(init_scale, timescale, key=key, resample=resample),
                       optax.sgd(learning_rate, momentum=momentum))


STRENGTHS = ("none", "constant", "matched", "cosine", "two_step", "lr_matched")


def strength_schedule(kind: str, init_strength: float, *, period: float,
                      learning_rate: optax.Schedule, memory: int = 10):
    """The λ of each weight-decay scheme of Richemond & Guo (λ of λ‖θ‖²).

    `none`: 0; `constant`: λ₀; `matched` and `two_step`: `matched_annealing` (EMA with
    memory K); `cosine`: `cosine_annealing` with period T; `lr_matched`:
    `lr_matched_annealing` to the learning-rate schedule.
    """
    if kind == "none":
        return 0.0
    if kind == "constant":
        return init_strength
    if kind in ("matched", "two_step"):
        return co.matched_annealing(init_strength, memory=memory, smoothing="ema")
    if kind == "cosine":
        return co.cosine_annealing(init_strength, period=period)
    if kind == "lr_matched":
        return co.lr_matched_annealing(init_strength, learning_rate)
    raise ValueError(f"kind must be one of {STRENGTHS}, got {kind!r}")


def weight_decay_sgd(kind: str, learning_rate: optax.Schedule, init_strength: float, *,
                     period: float, sphere_radius: float | None = None,
                     memory: int = 10) -> optax.GradientTransformationExtraArgs:
    r"""SGD on $L(\theta) + \lambda_i\lVert\theta\rVert^2$ with the scheme `kind`, optionally
    followed by the projection onto the sphere of radius `sphere_radius`.

    `two_step` is `two_step_annealing` (E step then M step, with the M-step gradient computed
    from `value_fn`); the others are `complexity_weight_decay` then `optax.sgd`.
    """
    strength = strength_schedule(kind, init_strength, period=period,
                                 learning_rate=learning_rate, memory=memory)
    if kind == "two_step":
        tx = co.two_step_annealing(learning_rate, strength)
    else:
        tx = optax.chain(co.complexity_weight_decay(strength), optax.sgd(learning_rate))
    if sphere_radius is not None:
        tx = optax.chain(tx, co.project_onto_sphere(sphere_radius))
    return tx
