# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Complexity gradient descent (Richemond & Guo 2019, Algorithms 1-3) as one optax chain.

It is only an `optax.chain` of this package's pieces; the docstring gives the chain, so that it
can be rebuilt by hand and changed. The annealing of λ is not a bundle of options: it is the
`strength` value itself, a float, an optax schedule of the step count (`cosine_annealing`,
`power_law_annealing`, `lr_matched_annealing`, any optax schedule) or a stateful schedule such as
`matched_annealing(λ₀, memory=...)`, exactly as `complexity_weight_decay` takes it.
"""

from __future__ import annotations

import optax

from complexity_optax._src.common import sgd
from complexity_optax._src.complexity_annealing import strength as strength_lib
from complexity_optax._src.complexity_annealing.sphere import project_onto_sphere
from complexity_optax._src.complexity_annealing.two_step import two_step_annealing
from complexity_optax._src.complexity_annealing.weight_decay import complexity_weight_decay

__all__ = ["complexity_sgd"]


def complexity_sgd(
    learning_rate: optax.ScalarOrSchedule,
    *,
    strength: strength_lib.Strength,
    two_step: bool = False,
    momentum: float | None = None,
    sphere: bool = True,
    radius: float | str | None = None,
    scope: str = "global",
    mask: strength_lib.Mask = None,
) -> optax.GradientTransformationExtraArgs:
    r"""Complexity gradient descent: SGD on $f_i(\theta) = L(\theta) + \lambda_i\lVert\theta
    \rVert^2$ with an annealed $\lambda_i$, projected back onto a sphere.

    $$
    \theta_{i+1} = \Pi_r\!\left(\theta_i - \eta_i\,(\nabla L(\theta_i) + 2\lambda_i\theta_i)
    \right), \qquad \Pi_r(x) = r\,x/\lVert x\rVert .
    $$

    The chain (Algorithms 1-2) is

    ```py
    optax.chain(complexity_weight_decay(strength, mask=mask),
                [optax.trace(momentum)], optax.scale_by_learning_rate(learning_rate),
                [project_onto_sphere(radius, scope=scope, mask=mask)])    # sphere=True
    ```

    and with `two_step=True` (Algorithm 3, E step then M step, no momentum)
    `optax.chain(two_step_annealing(learning_rate, strength, mask=mask),
    [project_onto_sphere(...)])`; pass `value_fn=` (or `grad_fn=`) to `update` there for the
    exact M step.

    The annealing is the `strength` value, as in `complexity_weight_decay`:

    * `matched_annealing(λ₀, ...)` (Algorithm 1): λ follows the smoothed training loss.
      **Needs the loss**: call `update(grads, state, params, value=loss)`.
    * `cosine_annealing(λ₀, period)` (Algorithm 2), `power_law_annealing(λ₀, exponent)`,
      `lr_matched_annealing(λ₀, learning_rate)` or any optax schedule of the step count.
    * a float: a constant λ.

    The sphere's radius is by default the norm of the parameters given to `init`
    (`radius="init"`), which keeps a network at the scale its initialiser chose;
    `radius="sqrt_n"` is the paper's $\sqrt N$ (with `sphere_init`: the spin-glass setting, where
    every weight has unit scale, too large for a LeCun-initialised network). `mask` selects the
    leaves that are penalised *and* projected (e.g. leave out biases and normalisation scales);
    the others take plain SGD steps.

    Every argument but the learning rate is keyword-only (as `optax.sgd(lr, momentum=...)`):
    `complexity_sgd(0.3, 0.9)` is a `TypeError`, not a silent penalty of 0.9. Under
    `optax.inject_hyperparams` the floats (learning rate, a float strength, momentum, a float
    radius) are injected and a schedule `strength` is evaluated by the wrapper; nothing needs
    `static_args` (except a callable `mask`, which optax would take for a schedule).

    Args:
      learning_rate: $\eta > 0$ or an optax schedule.
      strength: $\lambda \ge 0$ (the penalty is $\lambda\lVert\theta\rVert^2$, the optax weight
        decay is $2\lambda$), an optax schedule or a stateful schedule (`matched_annealing`).
      two_step: use two-step annealing (Algorithm 3) instead of the weight-decay chain.
      momentum: heavy-ball momentum in [0, 1) (`optax.trace`), or `None`.
      sphere: project onto the sphere after each step.
      radius: with `sphere=True`: `"init"` (the default, also `None`), `"sqrt_n"` or a float.
      scope: `"global"` (one sphere) or `"per_leaf"` (one sphere per leaf).
      mask: `None`, a pytree of bools or a callable `params -> mask` (as `optax.masked`).

    Returns:
      An `optax.GradientTransformationExtraArgs`; `update` needs `params`.

    Raises:
      ValueError: `momentum` with `two_step=True`, `radius` with `sphere=False`, or a bad value
        of any hyperparameter (the message starts with its name).
      TypeError: positional arguments after the learning rate, or a bool argument of the wrong
        kind.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> import complexity_optax as co
      >>> loss_fn = lambda p: jnp.sum((p - 1.0) ** 2)
      >>> params = jnp.full(8, 0.5)                     # ‖θ₀‖ = √2
      >>> tx = co.complexity_sgd(0.1, strength=co.matched_annealing(1e-3))
      >>> state = tx.init(params)
      >>> loss, grads = jax.value_and_grad(loss_fn)(params)
      >>> updates, state = tx.update(grads, state, params, value=loss)
      >>> params = optax.apply_updates(params, updates)
      >>> print(round(float(jnp.linalg.norm(params)) ** 2, 4))   # stays on ‖θ‖ = ‖θ₀‖
      2.0

    References:
      Richemond & Guo, [Combining learning rate decay and weight decay with complexity gradient
      descent - Part I](https://arxiv.org/abs/1902.02881), 2019 (Algorithms 1-3, eq. 17).
    """
    from complexity_optax._src.common import checks

    checks.check_positive("learning_rate", learning_rate)
    learning_rate = checks.scalar_schedule("learning_rate", learning_rate)
    for name, flag in (("two_step", two_step), ("sphere", sphere)):
        checks.check_bool(name, flag)
    sgd.check_momentum(momentum)
    for name, value in (("learning_rate", learning_rate), ("momentum", momentum)):
        checks.check_scalar(name, value)
    if two_step and momentum is not None:
        raise ValueError("momentum is not supported with two_step=True (a complete step)")
    if radius is not None and not sphere:
        raise ValueError(f"radius is only used with sphere=True, got radius={radius!r}")
    projection = []
    if sphere:
        projection = [project_onto_sphere("init" if radius is None else radius, scope=scope,
                                          mask=mask)]
    else:
        checks.check_choice("scope", scope, ("global", "per_leaf"))
    if two_step:
        return optax.chain(two_step_annealing(learning_rate, strength, mask=mask), *projection)
    return optax.chain(
        complexity_weight_decay(strength, mask=mask),
        *sgd.sgd_scaling(learning_rate, momentum),
        *projection,
    )
