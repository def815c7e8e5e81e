# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Matched annealing: a penalty strength that follows the smoothed training loss (Algorithm 1).

The schedule is an `optax.schedules.StatefulSchedule` that consumes the loss through the
`value=` extra argument, so it plugs into `optax.inject_hyperparams` and into
`complexity_optax.complexity_weight_decay` / `complexity_optax.two_step_annealing`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.complexity_annealing import schedules as annealing_schedules

SMOOTHINGS = ("ema", "window", "none")
_FLOAT32_MAX = float(jnp.finfo(jnp.float32).max)


class MatchedAnnealingState(NamedTuple):
    """State of `matched_annealing`.

    Attributes:
        count: number of finite loss values consumed so far (int32).
        initial_loss: L₀, the reference loss (float32); during the warm-up, the running mean of the
            values seen so far.
        smoothed_ratio: S_K of the clipped ratios (L_i − L*)/(L₀ − L*) so far (float32; 1 before the
            first ratio).
        window: ring buffer of the last `memory` clipped ratios (float32, shape `(memory,)`) for
            `smoothing="window"`; an unused shape-`(1,)` placeholder otherwise (not empty, so that
            checkpointers which refuse zero-size arrays, such as orbax, can save the state).
        current_strength: the current strength λ = λ₀ · smoothed_ratio (float32; λ₀ during the
            warm-up).
    """

    count: jax.Array
    initial_loss: jax.Array
    smoothed_ratio: jax.Array
    window: jax.Array
    current_strength: jax.Array


@dataclasses.dataclass(frozen=True)
class MatchedAnnealing:
    """The stateful schedule returned by `matched_annealing` (see there for the maths)."""

    init_strength: float
    memory: int
    smoothing: str
    warmup_steps: int
    loss_floor: float
    max_ratio: float

    def init(self) -> MatchedAnnealingState:
        """The state before any loss value: λ = λ₀."""
        size = self.memory if self.smoothing == "window" else 1
        return MatchedAnnealingState(
            count=jnp.zeros([], jnp.int32),
            initial_loss=jnp.zeros([], jnp.float32),
            smoothed_ratio=jnp.ones([], jnp.float32),
            window=jnp.zeros([size], jnp.float32),
            current_strength=jnp.asarray(self.init_strength, jnp.float32),
        )

    def update(self, state: MatchedAnnealingState, **extra_args: Any) -> MatchedAnnealingState:
        """Advances the state with the loss `value=` (other extra arguments are ignored)."""
        if extra_args.get("value") is None:
            raise ValueError(
                "value: matched_annealing needs this step's loss, passed as update(..., value=loss)"
            )
        return _advance(self, state, extra_args["value"])

    def __call__(self, state: MatchedAnnealingState, **extra_args: Any) -> jax.Array:
        """λ from `state`; with `value=v`, the λ that includes v (as `update` would give)."""
        value = extra_args.get("value")
        if value is None:
            return state.current_strength
        return _advance(self, state, value).current_strength


def _smooth(
    config: MatchedAnnealing, state: MatchedAnnealingState, ratio: jax.Array, k: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """S_K after the k-th ratio (k ≥ 1): returns (smoothed ratio, new window buffer)."""
    if config.smoothing == "none":
        return ratio, state.window
    if config.smoothing == "ema":
        decay = 1.0 - 1.0 / config.memory
        ema = decay * state.smoothed_ratio + (1.0 - decay) * ratio
        return jnp.where(k == 1, ratio, ema), state.window
    index = jnp.mod(k - 1, config.memory)
    window = state.window.at[index].set(ratio)
    filled = jnp.minimum(k, config.memory).astype(jnp.float32)
    return jnp.sum(window) / filled, window


def _advance(
    config: MatchedAnnealing, state: MatchedAnnealingState, value: jax.typing.ArrayLike
) -> MatchedAnnealingState:
    """The pure state transition of Algorithm 1 for one loss value (skipped if non-finite)."""
    checks.check_scalar_value("value", value)
    loss = jnp.reshape(jnp.asarray(value, jnp.float32), ())
    n = optax.safe_increment(state.count)  # index of this value among the finite ones
    n_float = n.astype(jnp.float32)
    warmup = config.warmup_steps

    # L₀: running mean of the first max(warmup_steps, 1) finite values.
    defines_l0 = n <= max(warmup, 1)
    initial_loss = jnp.where(
        defines_l0, state.initial_loss + (loss - state.initial_loss) / n_float, state.initial_loss
    )

    # Ratio r = (L − L*)/(L₀ − L*), with r := 1 when L₀ ≤ L*, clipped to [0, max_ratio].
    denominator = initial_loss - config.loss_floor
    positive = denominator > 0
    ratio = (loss - config.loss_floor) / jnp.where(positive, denominator, 1.0)
    ratio = jnp.where(positive & ~jnp.isnan(ratio), ratio, 1.0)
    ratio = jnp.clip(ratio, 0.0, jnp.minimum(config.max_ratio, _FLOAT32_MAX))

    k = n - warmup  # index of this ratio in the smoother (≥ 1 after the warm-up)
    smoothed, window = _smooth(config, state, ratio, k)
    in_warmup = n <= warmup
    smoothed = jnp.where(in_warmup, state.smoothed_ratio, smoothed)
    window = jnp.where(in_warmup, state.window, window)
    strength = jnp.where(in_warmup, config.init_strength, config.init_strength * smoothed)

    advanced = MatchedAnnealingState(
        count=n,
        initial_loss=initial_loss,
        smoothed_ratio=smoothed.astype(jnp.float32),
        window=window.astype(jnp.float32),
        current_strength=strength.astype(jnp.float32),
    )
    return optax.tree.where(jnp.isfinite(loss), advanced, state)


def matched_annealing(
    init_strength: float,
    *,
    memory: int = 10,
    smoothing: str = "ema",
    warmup_steps: int = 0,
    loss_floor: float = 0.0,
    max_ratio: float = 2.0,
) -> MatchedAnnealing:
    r"""Penalty strength matched to the smoothed training loss (Algorithm 1).

    $$
    \lambda_i = \lambda_0 \; S_K\!\left(\frac{L_i - L^*}{L_0 - L^*}\right),
    $$

    where L_i is the loss passed as `value=` at step i, L* the `loss_floor` (the paper's
    L(i)/L(0) is L* = 0; a floor makes λ invariant to adding a constant to the loss) and S_K a
    smoother with memory K. λ is the strength of λ‖θ‖² (gradient 2λθ).

    * **L₀.** With `warmup_steps=0` the first finite value is L₀ and also enters the smoother (as
      the ratio 1, so λ = λ₀ at the first step). With `warmup_steps=W ≥ 1`, L₀ is the mean of the
      first W finite values, λ₀ is returned during those W steps, and those values do not enter the
      smoother.
    * **Ratio.** Each ratio is clipped to `[0, max_ratio]` before it enters the smoother (a loss
      below the floor gives 0; a spike gives at most `max_ratio`, default 2: λ stays within
      [0, 2λ₀], the range of cosine annealing). If L₀ ≤ L* there is nothing to anneal towards and
      the ratio is 1 (λ = λ₀); no NaN or inf can arise.
    * **Smoothing.** `"none"`: S is the identity (`memory` unused). `"window"`: the mean of
      the last K ratios (a ring buffer of size K, averaging only the entries filled so far).
      `"ema"`: exponential moving average with decay β = 1 − 1/K, *started at the first ratio*
      (s₁ = r₁, s_k = β s_{k−1} + (1 − β) r_k; no bias correction needed; K = 1 is the identity).
    * **Non-finite values** (NaN, ±inf) are skipped: the state, and so λ, is unchanged.

    λ_i is computed from the losses up to *and including* this step's value: ``schedule(state,
    value=v)` is the λ of `schedule.update(state, value=v)`. `schedule(state)`` without a value
    is the current λ (λ₀ at init). `update` requires `value=`, a scalar (the step's mean
    loss; an array of per-example losses is a `ValueError`, a one-element array such as
    `[v]` is read as the scalar v); every other extra argument is ignored.

    **With optax.** `optax.inject_hyperparams(optax.add_decayed_weights)(weight_decay=schedule)`
    works and uses `weight_decay = λ_i`, i.e. it adds λ_iθ, the gradient of the penalty
    (λ_i/2)‖θ‖². To follow this module's λ‖θ‖² convention there, pass `2 * init_strength`; or use
    `complexity_optax.complexity_weight_decay`, which adds 2λ_iθ.

    Args:
        init_strength: λ₀ ≥ 0.
        memory: K ≥ 1 (at most 2³¹ − 1), the memory of the smoother; validated even where the
            smoothing does not use it (`"none"`).
        smoothing: `"ema"` (default), `"window"` or `"none"`.
        warmup_steps: W ≥ 0 (at most 2³¹ − 1, the int32 counter), the number of finite values
            averaged into L₀.
        loss_floor: L*, a finite number (the loss of a perfect model, usually 0).
        max_ratio: the cap on each ratio (> 0; `float("inf")` disables it).

    Returns:
        A `MatchedAnnealing` implementing `optax.schedules.StatefulSchedule`.

    Examples:
        >>> import complexity_optax as co
        >>> schedule = co.matched_annealing(0.1, smoothing="none")
        >>> state = schedule.init()
        >>> state = schedule.update(state, value=2.0)   # L₀ = 2
        >>> round(float(schedule(state, value=1.0)), 6)  # λ₀ · 1/2
        0.05

    References:
        Richemond & Guo, *Combining learning rate decay and weight decay with complexity gradient
        descent - Part I*, 2019 (arXiv:1902.02881), Algorithm 1.
    """
    annealing_schedules.check_init_strength(init_strength)
    checks.check_int("memory", memory, minimum=1, maximum=checks.INT32_MAX)
    checks.check_choice("smoothing", smoothing, SMOOTHINGS)
    checks.check_int("warmup_steps", warmup_steps, minimum=0, maximum=checks.INT32_MAX)
    if callable(loss_floor):
        raise TypeError(f"loss_floor must be a real number, got the callable {loss_floor!r}")
    checks.check_in_interval(
        "loss_floor", loss_floor, -math.inf, math.inf, low_inclusive=False, high_inclusive=False
    )
    if callable(max_ratio):
        raise TypeError(f"max_ratio must be a real number, got the callable {max_ratio!r}")
    checks.check_positive("max_ratio", max_ratio, allow_inf=True)
    for name, value in (("loss_floor", loss_floor), ("max_ratio", max_ratio)):
        checks.check_scalar(name, value)
    # λ reaches at most max_ratio·λ₀ (2λ must fit in float32); an uncapped ratio is clipped to
    # the float32 range at run time instead.
    cap = checks.concrete_float(max_ratio)
    annealing_schedules.check_init_strength(
        init_strength, peak=cap if cap is not None and math.isfinite(cap) else 1.0)
    return MatchedAnnealing(
        init_strength=checks.scalar(init_strength),
        memory=int(memory),
        smoothing=smoothing,
        warmup_steps=int(warmup_steps),
        loss_floor=checks.scalar(loss_floor),
        max_ratio=checks.scalar(max_ratio),
    )
