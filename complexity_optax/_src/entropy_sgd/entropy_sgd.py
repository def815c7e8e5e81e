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

Stability. The inner SGLD is gradient descent on $f(\theta') + \tfrac\gamma2\|\theta - \theta'\|^2$,
whose curvature is at most $\gamma + \lambda_{\max}(\nabla^2 f)$: it diverges once
$\eta'(\gamma + \lambda_{\max}) > 2$. The paper's scoping $\gamma_t = \gamma_0(1 + \gamma_1)^t$
grows without bound, so with the paper's $\gamma_0 = 0.03$, $\gamma_1 = 10^{-3}$, $\eta' = 0.1$
every run of more than a few thousand outer updates used to reach that point
($\gamma = 4.9\cdot10^3$ at $t = 12\,000$). Two documented safeguards keep any run length stable:

* the scope is capped, $\gamma_t \le \gamma_{\max}$, by default
  $\gamma_{\max} = \max(\gamma_0, 1/(2\eta'))$, so that $\eta'\gamma_t \le \tfrac12$ (with the
  defaults $\gamma_{\max} = 5$, reached after $\log(5/0.03)/\log(1.001) \approx 5\,120$ updates;
  from there on $\gamma$ stays constant);
* the inner step is adapted to the curvature,
  $\eta'_k = \min\big(\eta',\ 1/(\gamma_t + \hat\lambda_k)\big)$, with $\hat\lambda$ estimated
  from the inner loop's own iterates by the secant
  $\|\nabla f(\theta'_k) - \nabla f(\theta'_{k-1})\| / \|\theta'_k - \theta'_{k-1}\|$ (a lower
  bound of $\lambda_{\max}(|\nabla^2 f|)$ on a quadratic, exact along the top eigenvector, which is
  the direction a diverging loop takes). The target $\eta'(\gamma + \hat\lambda) \le 1$ leaves a
  factor 2 for the underestimate below the divergence threshold 2. The noise follows the step,
  $\sqrt{\eta'_k}\,\varepsilon$, so the SGLD temperature is unchanged.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.convolutions import on_cpu_backend
from complexity_optax._src.common.draws import draw_like
from complexity_optax._src.common.kwargs import fn_kwargs
from complexity_optax._src.common.sgd import check_momentum, sgd_scaling
from complexity_optax._src.common.tree import all_finite, upcast

__all__ = [
    "EntropySGDState", "default_max_gamma", "entropy_sgd", "scale_by_local_entropy",
    "scoping_schedule",
]

# The paper's defaults (Chaudhari et al. 2017, Sec. 5 and App.): L = 20, eta' = 0.1,
# alpha = 0.75, thermal noise 1e-4, gamma_0 = 0.03 and scoping gamma_1 = 1e-3.
DEFAULT_SCOPING = 1e-3


class EntropySGDState(NamedTuple):
    r"""State of `scale_by_local_entropy`.

    Attributes:
      count: outer updates made (int32); the scope is $\gamma(\text{count})$.
      key: the PRNG key of the Langevin noise (split at every update).
      mean: $\mu = \langle\theta'\rangle$ of the last update (like the parameters).
      gamma: the scope $\gamma$ used by the last update (float32).
      gradient_count: gradients used (the one passed in plus $L - 1$ of `value_fn`), int32.
      curvature: $\hat\lambda$, the largest usable secant curvature of the last update's inner
        loop (float32; kept from before when that loop had none, e.g. $L = 1$); the next update
        starts its inner step size from it.
    """

    count: jax.Array
    key: jax.Array
    mean: Any
    gamma: jax.Array
    gradient_count: jax.Array
    curvature: jax.Array


def scoping_schedule(gamma: float, scoping: float,
                     max_gamma: float | None = None) -> optax.Schedule:
    r"""The paper's scope schedule $\gamma_t = \gamma_0 (1 + \gamma_1)^t$, as an optax schedule.

    Computed as $\gamma_0 \exp(t \log(1 + \gamma_1))$ in float32 and clipped to `max_gamma`
    (`None`: the largest float32, so it never overflows to infinity). `entropy_sgd` passes
    its cap $\gamma_{\max} = \max(\gamma_0, 1/(2\eta'))$ (see the module docstring).

    Examples:
      >>> sched = scoping_schedule(0.03, 1e-3)
      >>> round(float(sched(1000)), 4)            # 0.03 * 1.001 ** 1000
      0.0815
      >>> float(scoping_schedule(0.03, 1e-3, max_gamma=5.0)(20_000))
      5.0
    """
    checks.check_positive("gamma", gamma)
    checks.check_positive("scoping", scoping, allow_zero=True)
    if max_gamma is not None:
        checks.check_positive("max_gamma", max_gamma)
    for name, value in (("gamma", gamma), ("scoping", scoping), ("max_gamma", max_gamma)):
        checks.check_scalar(name, value)
    log_rate = float(np.log1p(scoping))
    big = float(jnp.finfo(jnp.float32).max) if max_gamma is None else max_gamma

    def schedule(count):
        t = jnp.asarray(count, jnp.float32)
        return jnp.minimum(jnp.asarray(gamma, jnp.float32) * jnp.exp(t * log_rate),
                           jnp.asarray(big, jnp.float32))

    return schedule


def default_max_gamma(gamma: Any, inner_lr: Any) -> Any:
    r"""The default scope cap $\gamma_{\max} = \max(\gamma_0, 1/(2\eta'))$:
    $\eta'\gamma \le \tfrac12$.

    It never lowers the starting scope $\gamma_0$ (a constant or an initial $\gamma_0$ above it
    is the user's explicit choice; the adaptive inner step keeps that loop stable).

    Examples:
      >>> float(default_max_gamma(0.03, 0.1))      # the paper's defaults
      5.0
    """
    return jnp.maximum(jnp.asarray(gamma, jnp.float32),
                       0.5 / jnp.asarray(inner_lr, jnp.float32))


def _gamma_schedule(gamma, scoping, max_gamma, inner_lr) -> Any:
    if max_gamma is not None:
        checks.check_positive("max_gamma", max_gamma)
    checks.check_scalar("max_gamma", max_gamma)
    gamma = checks.scalar_schedule("gamma", gamma)
    if callable(gamma):
        if scoping is not None:
            raise ValueError("scoping must be None when gamma is a schedule (put the growth in "
                             "the schedule)")
        if max_gamma is None:
            return gamma
        return lambda count: jnp.minimum(jnp.asarray(gamma(count), jnp.float32),
                                         jnp.asarray(max_gamma, jnp.float32))
    checks.check_positive("gamma", gamma)
    scoping = DEFAULT_SCOPING if scoping is None else scoping
    checks.check_positive("scoping", scoping, allow_zero=True)
    for name, value in (("gamma", gamma), ("scoping", scoping), ("max_gamma", max_gamma)):
        checks.check_scalar(name, value)
    if checks.concrete_float(scoping) == 0.0:
        if max_gamma is None:
            return lambda count: jnp.asarray(gamma, jnp.float32)
        return lambda count: jnp.minimum(jnp.asarray(gamma, jnp.float32),
                                         jnp.asarray(max_gamma, jnp.float32))
    concrete = all(checks.concrete_float(v) is not None for v in (gamma, scoping, inner_lr)) and (
        max_gamma is None or checks.concrete_float(max_gamma) is not None)
    if not concrete:
        # Traced (inject_hyperparams): the same formula and cap on arrays.
        def traced(count):
            cap = default_max_gamma(gamma, inner_lr) if max_gamma is None else max_gamma
            return jnp.minimum(
                gamma * jnp.exp(jnp.asarray(count, jnp.float32) * jnp.log1p(scoping)),
                jnp.asarray(cap, jnp.float32))
        return traced
    cap = float(default_max_gamma(gamma, inner_lr)) if max_gamma is None else float(max_gamma)
    return scoping_schedule(gamma, scoping, cap)


def _validate_inner(inner_steps, inner_lr, noise, mean_decay) -> None:
    checks.check_int_or_array("inner_steps", inner_steps, minimum=1)
    checks.check_positive("inner_lr", inner_lr)
    checks.check_positive("noise", noise, allow_zero=True)
    checks.check_in_interval("mean_decay", mean_decay, 0.0, 1.0, low_inclusive=False)
    for name, value in (("inner_lr", inner_lr), ("noise", noise), ("mean_decay", mean_decay)):
        checks.check_scalar(name, value)


def scale_by_local_entropy(
    *,
    key: Any,
    gamma: Any = 0.03,
    inner_steps: int = 20,
    inner_lr: float = 0.1,
    noise: float = 1e-4,
    scoping: float | None = None,
    mean_decay: float = 0.75,
    max_gamma: float | None = None,
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

    Stability (module docstring): the scope is capped at `max_gamma` and the inner step is
    $\eta'_k = \min(\eta', 1/(\gamma_t + \hat\lambda_k))$ with the secant curvature estimate
    $\hat\lambda$ of the inner iterates (secants are used when
    $\|\theta'_k - \theta'_{k-1}\| > \sqrt{\varepsilon_{\rm mach}}\,\|\theta'_k\|$, so that
    rounding of the gradients cannot fake a curvature; $\varepsilon_{\rm mach}$ of the parameters'
    dtype). The inner loop carries two more parameter-sized trees for it.

    Non-finite values: a non-finite incoming gradient, or a non-finite $\mu$ (e.g. a loss that
    overflows at the inner iterates), gives a zero update with the state unchanged except
    `count`, `key`, `gamma` and the curvature estimate (a finite secant is kept, so the next
    update takes a smaller inner step).

    Args:
      key: a `jax.random` key, or an int seed in the int64 range, for the Langevin noise.
      gamma: the scope $\gamma_0 > 0$, or an optax schedule `count -> gamma` (then
        `scoping` must be `None`).
      inner_steps: $L \ge 1$.
      inner_lr: $\eta' > 0$.
      noise: the thermal noise $\varepsilon \ge 0$.
      scoping: $\gamma_1 \ge 0$ of $\gamma_t = \gamma_0 (1 + \gamma_1)^t$ (`scoping_schedule`);
        `None` is the paper's $10^{-3}$ for a float `gamma`.
      mean_decay: $\alpha \in (0, 1]$, the weight of the newest sample in $\mu$.
      max_gamma: the cap $\gamma_{\max} > 0$ of the scope; `None` is
        $\max(\gamma_0, 1/(2\eta'))$ for a float `gamma` (`default_max_gamma`) and no cap for
        a schedule `gamma`.

    Returns:
      A `GradientTransformationExtraArgs` with an `EntropySGDState`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import complexity_optax as co
      >>> loss = lambda p: 0.5 * jnp.sum(p ** 2)           # Q = I: <theta'> = gamma/(1+gamma) theta
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
    key = checks.as_key(key, "key")
    _validate_inner(inner_steps, inner_lr, noise, mean_decay)
    schedule = _gamma_schedule(gamma, scoping, max_gamma, inner_lr)
    inner_steps = int(inner_steps)

    def init_fn(params: optax.Params) -> EntropySGDState:
        return EntropySGDState(
            count=jnp.zeros([], jnp.int32),
            key=key,
            mean=jax.tree.map(jnp.asarray, params),
            gamma=jnp.asarray(schedule(0), jnp.float32),
            gradient_count=jnp.zeros([], jnp.int32),
            curvature=jnp.zeros([], jnp.float32),
        )

    def update_fn(updates, state, params=None, *, value_fn=None, **extra_args):
        if params is None:
            raise ValueError(checks.NO_PARAMS_MSG)
        if value_fn is None:
            raise ValueError("value_fn: entropy_sgd.update needs value_fn=, the loss on the batch")
        kwargs = fn_kwargs(value_fn, extra_args)
        grad_fn = on_cpu_backend(jax.grad(lambda p: value_fn(p, **kwargs)))  # in a loop body
        theta = upcast(params)
        g0 = upcast(updates)
        gamma_t = jnp.asarray(schedule(state.count), jnp.float32)
        next_key, noise_key = jax.random.split(state.key)
        leaves = jax.tree.leaves(theta)
        g_dtype = leaves[0].dtype if leaves else jnp.float32
        gamma_c = gamma_t.astype(g_dtype)
        lr = jnp.asarray(inner_lr, g_dtype)
        noise_c = jnp.asarray(noise, g_dtype)
        alpha = jnp.asarray(mean_decay, g_dtype)
        # Secants below sqrt(eps)·‖θ'‖ of the parameters' own dtype (where the gradients are
        # computed) are not trusted: rounding of ∇f would dominate them.
        p_leaves = [jnp.asarray(x) for x in jax.tree.leaves(params)]
        p_eps = max((float(jnp.finfo(x.dtype).eps) for x in p_leaves
                     if jnp.issubdtype(x.dtype, jnp.inexact)),
                    default=float(jnp.finfo(g_dtype).eps))
        secant_floor = jnp.asarray(np.sqrt(p_eps), g_dtype)
        lam0 = jnp.where(jnp.isfinite(state.curvature), state.curvature, 0.0).astype(g_dtype)

        def langevin(i, carry):
            x, mu, x_prev, g_prev, lam, lam_seen = carry
            g = jax.lax.cond(i == 0, lambda: g0, lambda: upcast(grad_fn(
                optax.tree.cast_like(x, params))))
            g = optax.tree.cast_like(g, x)
            dx = optax.tree.norm(jax.tree.map(jnp.subtract, x, x_prev))
            dg = optax.tree.norm(jax.tree.map(jnp.subtract, g, g_prev))
            secant = dg / jnp.where(dx > 0, dx, 1.0)
            usable = (i > 0) & (dx > secant_floor * optax.tree.norm(x)) & (dx > 0) & (
                jnp.isfinite(secant))
            secant = jnp.where(usable, secant, 0.0).astype(g_dtype)
            lam = jnp.maximum(lam, secant)
            lam_seen = jnp.maximum(lam_seen, jnp.where(usable, secant, -1.0).astype(g_dtype))
            # η'_k = min(η', 1/(γ + λ̂)): the inner loop's curvature times its step stays <= 1.
            lr_k = jnp.minimum(lr, 1.0 / (gamma_c + lam))
            noise_scale = jnp.sqrt(lr_k) * noise_c
            xi = draw_like(jax.random.fold_in(noise_key, i), x)
            x_new = jax.tree.map(
                lambda x_, g_, t_, e_: x_ - lr_k * (g_ - gamma_c * (t_ - x_)) + noise_scale * e_,
                x, g, theta, xi)
            mu = jax.tree.map(lambda m, x_: (1 - alpha) * m + alpha * x_, mu, x_new)
            return x_new, mu, x, g, lam, lam_seen

        init = (theta, theta, theta, g0, lam0, jnp.asarray(-1.0, g_dtype))
        _, mu, _, _, _, lam_seen = jax.lax.fori_loop(0, inner_steps, langevin, init)
        direction = jax.tree.map(lambda t_, m: gamma_c * (t_ - m), theta, mu)
        ok = all_finite(g0) & all_finite(mu) & all_finite(direction)
        new_updates = optax.tree.where(ok, direction, optax.tree.zeros_like(direction))
        new_state = EntropySGDState(
            count=optax.safe_increment(state.count),
            key=next_key,
            mean=optax.tree.where(ok, optax.tree.cast_like(mu, state.mean), state.mean),
            gamma=gamma_t,
            gradient_count=jnp.where(
                ok & (state.gradient_count <= checks.INT32_MAX - inner_steps),
                state.gradient_count + inner_steps,
                jnp.where(ok, checks.INT32_MAX, state.gradient_count)).astype(jnp.int32),
            curvature=jnp.where(lam_seen >= 0, lam_seen, state.curvature).astype(jnp.float32),
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
    max_gamma: float | None = None,
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
      key: a `jax.random` key, or an int seed in the int64 range, for the Langevin noise.
      gamma: the scope $\gamma_0$ or a schedule (see `scale_by_local_entropy`).
      inner_steps: $L$.
      inner_lr: $\eta'$.
      noise: $\varepsilon$.
      scoping: $\gamma_1$ (default $10^{-3}$ for a float `gamma`).
      mean_decay: $\alpha$.
      momentum: heavy-ball momentum in $[0, 1)$, or `None`.
      max_gamma: the scope cap $\gamma_{\max}$ (default $\max(\gamma_0, 1/(2\eta'))$ for a
        float `gamma`: $\eta'\gamma \le \tfrac12$; see `scale_by_local_entropy`).

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
    checks.check_scalar("learning_rate", learning_rate)
    checks.check_scalar("momentum", momentum)
    learning_rate = checks.scalar_schedule("learning_rate", learning_rate)
    core = scale_by_local_entropy(key=key, gamma=gamma, inner_steps=inner_steps,
                                  inner_lr=inner_lr, noise=noise, scoping=scoping,
                                  mean_decay=mean_decay, max_gamma=max_gamma)
    return optax.chain(core, *sgd_scaling(learning_rate, momentum))
