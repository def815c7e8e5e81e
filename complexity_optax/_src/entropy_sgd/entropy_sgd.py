# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Entropy-SGD (Chaudhari et al. 2017): gradient descent on the local entropy.

The local entropy of the loss $f$ at scope $\gamma$ is

$$
F(\theta; \gamma) = \log \int \exp\!\Big(-f(\theta') - \frac{\gamma}{2}\|\theta - \theta'\|^2\Big)
\, d\theta' ,
\qquad -\nabla_\theta F = \gamma\,(\theta - \langle\theta'\rangle),
$$

where $\langle\theta'\rangle$ is the mean of the Gibbs measure
$P(\theta') \propto \exp(-f(\theta') - \tfrac\gamma2\|\theta - \theta'\|^2)$. It is estimated by
$L$ steps of stochastic gradient Langevin dynamics (SGLD) started at $\theta' = \mu = \theta$:

$$
\theta' \leftarrow \theta' - \eta'\big[\nabla f(\theta') - \gamma(\theta - \theta')\big]
  + \sqrt{\eta'}\,\varepsilon\,\xi,\quad \xi \sim N(0, I),\qquad
\mu \leftarrow (1 - \alpha)\mu + \alpha\theta' ,
$$

and the outer step descends $\gamma(\theta - \mu)$. Minimising $F$ biases the search towards wide
valleys: for a quadratic $f = \tfrac12\theta^\top Q\theta$ the measure is Gaussian with mean
$\gamma(Q + \gamma I)^{-1}\theta$, so the step is $\gamma Q (Q + \gamma I)^{-1}\theta$: the
gradient $Q\theta$ with every curvature $q$ damped to $\gamma q/(q + \gamma)$; as
$\gamma \to \infty$ it is the gradient itself (SGD).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.draws import draw_like
from complexity_optax._src.common.kwargs import fn_kwargs
from complexity_optax._src.common.sgd import check_momentum, sgd_scaling
from complexity_optax._src.common.tree import all_finite, upcast

__all__ = ["EntropySGDState", "entropy_sgd", "scale_by_local_entropy", "scoping_schedule"]

# The paper's defaults (Chaudhari et al. 2017, Sec. 5 and App.): L = 20, eta' = 0.1,
# alpha = 0.75, thermal noise 1e-4, gamma_0 = 0.03 and scoping gamma_1 = 1e-3.
DEFAULT_SCOPING = 1e-3
_INT32_MAX = int(jnp.iinfo(jnp.int32).max)


class EntropySGDState(NamedTuple):
    r"""State of `scale_by_local_entropy`.

    Attributes:
      count: outer updates made (int32); the scope is $\gamma(\text{count})$.
      key: the PRNG key of the Langevin noise (split at every update).
      mean: $\mu = \langle\theta'\rangle$ of the last update (like the parameters).
      gamma: the scope $\gamma$ used by the last update (float32).
      gradient_count: gradients used (the one passed in plus $L - 1$ of `value_fn`), int32.
    """

    count: jax.Array
    key: jax.Array
    mean: Any
    gamma: jax.Array
    gradient_count: jax.Array


def scoping_schedule(gamma: float, scoping: float) -> optax.Schedule:
    r"""The paper's scope schedule $\gamma_t = \gamma_0 (1 + \gamma_1)^t$, as an optax schedule.

    Computed as $\gamma_0 \exp(t \log(1 + \gamma_1))$ in float32 and clipped to the largest
    float32, so it never overflows to infinity.

    Examples:
      >>> sched = scoping_schedule(0.03, 1e-3)
      >>> round(float(sched(1000)), 4)            # 0.03 * 1.001 ** 1000
      0.0815
    """
    checks.check_positive("gamma", gamma)
    checks.check_positive("scoping", scoping, allow_zero=True)
    log_rate = float(np.log1p(scoping))
    big = float(jnp.finfo(jnp.float32).max)

    def schedule(count):
        t = jnp.asarray(count, jnp.float32)
        return jnp.minimum(jnp.asarray(gamma, jnp.float32) * jnp.exp(t * log_rate), big)

    return schedule


def _as_key(key: Any) -> jax.Array:
    if isinstance(key, bool):
        raise TypeError(f"key must be a jax.random key or an int seed, got {key!r}")
    if isinstance(key, (int, np.integer)):
        return jax.random.key(int(key))
    if not isinstance(key, (jax.Array, np.ndarray)):
        raise TypeError(f"key must be a jax.random key or an int seed, got {type(key).__name__}")
    return key


def _gamma_schedule(gamma, scoping) -> Any:
    if callable(gamma):
        if scoping is not None:
            raise ValueError("scoping must be None when gamma is a schedule (put the growth in "
                             "the schedule)")
        return gamma
    checks.check_positive("gamma", gamma)
    scoping = DEFAULT_SCOPING if scoping is None else scoping
    checks.check_positive("scoping", scoping, allow_zero=True)
    if checks.concrete_float(scoping) == 0.0:
        return lambda count: jnp.asarray(gamma, jnp.float32)
    if checks.concrete_float(gamma) is None or checks.concrete_float(scoping) is None:
        # Traced (inject_hyperparams): the same formula on arrays.
        return lambda count: gamma * jnp.exp(
            jnp.asarray(count, jnp.float32) * jnp.log1p(scoping))
    return scoping_schedule(gamma, scoping)


def _validate_inner(inner_steps, inner_lr, noise, mean_decay) -> None:
    if not (getattr(inner_steps, "dtype", None) is not None and jnp.ndim(inner_steps) == 0
            and jnp.issubdtype(inner_steps.dtype, jnp.integer)):
        checks.check_int("inner_steps", inner_steps, minimum=1)
    checks.check_positive("inner_lr", inner_lr)
    checks.check_positive("noise", noise, allow_zero=True)
    checks.check_in_interval("mean_decay", mean_decay, 0.0, 1.0, low_inclusive=False)


def scale_by_local_entropy(
    *,
    key: Any,
    gamma: Any = 0.03,
    inner_steps: int = 20,
    inner_lr: float = 0.1,
    noise: float = 1e-4,
    scoping: float | None = None,
    mean_decay: float = 0.75,
) -> optax.GradientTransformationExtraArgs:
    r"""The negative local-entropy gradient $\gamma(\theta - \langle\theta'\rangle)$ as an update.

    Runs the $L$ = `inner_steps` SGLD steps of the module docstring inside one `update` (one
    `lax.fori_loop`) on the gradient of `value_fn` at the current batch, and returns
    $\gamma_t(\theta - \mu)$ (chain it before `optax.scale_by_learning_rate`, or use
    `entropy_sgd`). The first inner step uses the gradient passed as `updates` (it is the
    gradient at $\theta' = \theta$), so one update costs $L - 1$ further gradients.

    Mini-batches: the paper draws a new mini-batch at every inner step; here every inner step
    sees `value_fn` on the batch of this `update` (pass a `value_fn` that samples a batch
    from a key argument to reproduce the paper exactly).

    Non-finite values: a non-finite incoming gradient, or a non-finite $\mu$ (the SGLD diverges
    when $\eta'(\gamma + \lambda_{\max}(\nabla^2 f)) > 2$, e.g. after a long scoping), gives a
    zero update with the state unchanged except `count`, `key` and `gamma`.

    Args:
      key: a `jax.random` key (or an int seed) for the Langevin noise.
      gamma: the scope $\gamma_0 > 0$, or an optax schedule `count -> gamma` (then
        `scoping` must be `None`).
      inner_steps: $L \ge 1$.
      inner_lr: $\eta' > 0$.
      noise: the thermal noise $\varepsilon \ge 0$.
      scoping: $\gamma_1 \ge 0$ of $\gamma_t = \gamma_0 (1 + \gamma_1)^t$ (`scoping_schedule`);
        `None` is the paper's $10^{-3}$ for a float `gamma`.
      mean_decay: $\alpha \in (0, 1]$, the weight of the newest sample in $\mu$.

    Returns:
      A `GradientTransformationExtraArgs` with an `EntropySGDState`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import complexity_optax as co
      >>> loss = lambda p: 0.5 * jnp.sum(p ** 2)            # Q = I: <theta'> = gamma/(1+gamma) theta
      >>> tx = co.scale_by_local_entropy(key=jax.random.key(0), gamma=1.0, inner_steps=100,
      ...                                 noise=0.0, scoping=0.0)
      >>> p = jnp.array([2.0, -4.0])
      >>> u, state = tx.update(jax.grad(loss)(p), tx.init(p), p, value_fn=loss)
      >>> state.mean.round(3), u.round(3)                    # gamma (theta - <theta'>) = theta / 2
      (Array([ 1., -2.], dtype=float32), Array([ 1., -2.], dtype=float32))

    References:
      Chaudhari, Choromanska, Soatto, LeCun, Baldassi, Borgs, Chayes, Sagun & Zecchina,
      "Entropy-SGD: biasing gradient descent into wide valleys", ICLR 2017 (Algorithm 1).
    """
    key = _as_key(key)
    schedule = _gamma_schedule(gamma, scoping)
    _validate_inner(inner_steps, inner_lr, noise, mean_decay)
    inner_steps = int(inner_steps)

    def init_fn(params: optax.Params) -> EntropySGDState:
        return EntropySGDState(
            count=jnp.zeros([], jnp.int32),
            key=key,
            mean=jax.tree.map(jnp.asarray, params),
            gamma=jnp.asarray(schedule(0), jnp.float32),
            gradient_count=jnp.zeros([], jnp.int32),
        )

    def update_fn(updates, state, params=None, *, value_fn=None, **extra_args):
        if params is None:
            raise ValueError(checks.NO_PARAMS_MSG)
        if value_fn is None:
            raise ValueError("value_fn: entropy_sgd.update needs value_fn=, the loss on the batch")
        kwargs = fn_kwargs(value_fn, extra_args)
        grad_fn = jax.grad(lambda p: value_fn(p, **kwargs))
        theta = upcast(params)
        g0 = upcast(updates)
        gamma_t = jnp.asarray(schedule(state.count), jnp.float32)
        next_key, noise_key = jax.random.split(state.key)
        leaves = jax.tree.leaves(theta)
        g_dtype = leaves[0].dtype if leaves else jnp.float32
        gamma_c = gamma_t.astype(g_dtype)
        lr = jnp.asarray(inner_lr, g_dtype)
        noise_scale = jnp.sqrt(lr) * jnp.asarray(noise, g_dtype)
        alpha = jnp.asarray(mean_decay, g_dtype)

        def langevin(i, carry):
            x, mu = carry
            g = jax.lax.cond(i == 0, lambda: g0, lambda: upcast(grad_fn(
                optax.tree.cast_like(x, params))))
            xi = draw_like(jax.random.fold_in(noise_key, i), x)
            x = jax.tree.map(
                lambda x_, g_, t_, e_: x_ - lr * (g_ - gamma_c * (t_ - x_)) + noise_scale * e_,
                x, optax.tree.cast_like(g, x), theta, xi)
            mu = jax.tree.map(lambda m, x_: (1 - alpha) * m + alpha * x_, mu, x)
            return x, mu

        _, mu = jax.lax.fori_loop(0, inner_steps, langevin, (theta, theta))
        direction = jax.tree.map(lambda t_, m: gamma_c * (t_ - m), theta, mu)
        ok = all_finite(g0) & all_finite(mu) & all_finite(direction)
        new_updates = optax.tree.where(ok, direction, optax.tree.zeros_like(direction))
        new_state = EntropySGDState(
            count=optax.safe_increment(state.count),
            key=next_key,
            mean=optax.tree.where(ok, optax.tree.cast_like(mu, state.mean), state.mean),
            gamma=gamma_t,
            gradient_count=jnp.where(
                ok & (state.gradient_count <= _INT32_MAX - inner_steps),
                state.gradient_count + inner_steps,
                jnp.where(ok, _INT32_MAX, state.gradient_count)).astype(jnp.int32),
        )
        return optax.tree.cast_like(new_updates, updates), new_state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def entropy_sgd(
    learning_rate: optax.ScalarOrSchedule,
    *,
    key: Any,
    gamma: Any = 0.03,
    inner_steps: int = 20,
    inner_lr: float = 0.1,
    noise: float = 1e-4,
    scoping: float | None = None,
    mean_decay: float = 0.75,
    momentum: float | None = None,
) -> optax.GradientTransformationExtraArgs:
    r"""Entropy-SGD: (heavy-ball) SGD on the local entropy, $\theta \leftarrow \theta -
    \eta\,\gamma_t(\theta - \langle\theta'\rangle)$.

    ``optax.chain(scale_by_local_entropy(...), [optax.trace(momentum)],
    optax.scale_by_learning_rate(learning_rate))``: see `scale_by_local_entropy` for the inner
    Langevin loop, the scope schedule and the guards. The paper's outer loop uses Nesterov
    momentum 0.9; here `momentum` is heavy-ball (`optax.trace`), off by default. With
    $\gamma \to \infty$ (and $\eta'\gamma < 2$) the update tends to SGD's $-\eta\nabla f$.

    `update(updates, state, params, *, value_fn, **extra_args)`: `updates` is the gradient
    of `value_fn` at `params`; extra keyword arguments that `value_fn` names (`batch=`)
    are passed on to it.

    Args:
      learning_rate: the outer step $\eta$ (a float or an optax schedule).
      key: a `jax.random` key (or an int seed) for the Langevin noise.
      gamma: the scope $\gamma_0$ or a schedule (see `scale_by_local_entropy`).
      inner_steps: $L$.
      inner_lr: $\eta'$.
      noise: $\varepsilon$.
      scoping: $\gamma_1$ (default $10^{-3}$ for a float `gamma`).
      mean_decay: $\alpha$.
      momentum: heavy-ball momentum in $[0, 1)$, or `None`.

    Returns:
      A `GradientTransformationExtraArgs`.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> import complexity_optax as co
      >>> loss = lambda p: 0.5 * jnp.sum(p ** 2)
      >>> tx = co.entropy_sgd(0.5, key=jax.random.key(0), gamma=1.0, inner_steps=50)
      >>> p = jnp.array([2.0, -4.0])
      >>> for _ in range(3):
      ...   u, s = tx.update(jax.grad(loss)(p), s if _ else tx.init(p), p, value_fn=loss)
      ...   p = optax.apply_updates(p, u)
      >>> bool(loss(p) < 0.5 * 20.0 * 0.5)
      True

    References:
      Chaudhari et al., "Entropy-SGD: biasing gradient descent into wide valleys", ICLR 2017.
    """
    checks.check_positive("learning_rate", learning_rate)
    check_momentum(momentum)
    core = scale_by_local_entropy(key=key, gamma=gamma, inner_steps=inner_steps,
                                  inner_lr=inner_lr, noise=noise, scoping=scoping,
                                  mean_decay=mean_decay)
    return optax.chain(core, *sgd_scaling(learning_rate, momentum))
