# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The demo's registry of methods: name -> how to build the optax transformation.

Every entry builds an optax transformation for the same MLP and data, and says what its update
needs besides the gradient (`value=`, the mini-batch loss; `value_fn=`, the mini-batch loss as a
function of the parameters) and how its backpropagations are counted.

Hyperparameters. The first-order methods use mini-batches of 128 and the trust-region methods 512,
as Kohler, Adolphs & Lucchi do. Learning rates are "tuned but honest": every first-order method got
the same small grid, {0.03, 0.1, 0.3, 1.0} for the SGD-type methods and {1e-3, 3e-3, 1e-2, 3e-2}
for Adam, and kept the value with the lowest final training loss after 30 epochs on training seed 0
(the reported numbers use these fixed values for every seed). On this easy problem the largest
value won everywhere: SGD, AnnealSGD and complexity GD use 1.0, Adam 3e-2. Their other knobs were
tuned the same way, except AnnealSGD's γ₀: the lowest training loss came with γ₀ = 0.01, but there
the field's integrated push swamps the weights (they end 0.95-aligned with h, test accuracy 0.89),
so γ₀ = 1e-3 is used, the value whose integrated push stays below ‖θ₀‖ (see `ANNEAL_SCALE`);
and complexity GD's λ₀ in {1e-3, 1e-2} (1e-2; on the sphere the penalty's gradient 2λθ is radial,
so λ only rescales the step and the two values differ in the fourth digit of the loss).

Complexity GD projects onto the sphere through the initial parameters, radius ‖θ₀‖ (≈ 8.7 for this
MLP's LeCun-normal initialisation), rather than the library's default √N ≈ 69: that default puts
every weight at unit scale, which saturates 64 tanh units (in the tuning run it fitted the training
set but reached only 0.88 test accuracy, against 0.98 with ‖θ₀‖).

The trust-region methods keep the authors' MNIST-MLP constants, Δ_max = 10, η₁ = 0.01,
η₂ = 0.95, the radius ×1.1 after very successful steps and ÷1.5 after rejected ones, at most 50
CG steps, κ = 0.1, and had their initial radius Δ₀ tuned by the same rule as the first-order
methods (seed 0, lowest training loss after 30 epochs): the sphere over Δ₀ ∈ {0.005, 0.05, 0.5},
the RMSProp ellipsoid over Δ₀ ∈ {1e-4, 1e-3, 1e-2, 1e-1} (its radius is in A-norm units) times
two ellipsoids, `rmsprop_ellipsoid(0.8, eps=1e-5)` and the authors' exact form
`rmsprop_ellipsoid(0.8, eps=0, initial_accumulator=1e-10)` (v₀ = 1e-10, A = √v). Final
training losses (seed 0):

==========  ========  ========  ========  ========
Δ₀          1e-4      1e-3      1e-2      1e-1
==========  ========  ========  ========  ========
eps=1e-5    4.7e-3    3.8e-4    9.8e-5    6.2e-5
authors'    1.9e-3    1.3e-4    2.9e-5    1.8e-5
==========  ========  ========  ========  ========

and 1.6e-4, 3.5e-5, 1.3e-4 for the sphere with Δ₀ = 0.005, 0.05, 0.5. So the sphere keeps the
authors' Δ₀ = 0.05 and the RMSProp ellipsoid takes the authors' exact form with Δ₀ = 0.1, a
thousand times the authors' MNIST value 1e-4. That value is tuned for many steps per epoch: here,
with 3 steps per epoch, the radius grows by at most ×1.1 a step and Δ₀ = 1e-4 kept the method on
its initial plateau (loss ≈ 2.2 after 10 of the 30 epochs). The authors' form was better than
eps = 1e-5 at every Δ₀ (its floor √(0.8ᵗ·1e-10) vanishes, so A ≈ |g| exactly). The winner sits
at the edge of the grid, as for the first-order methods; the sphere's 0.5 is faster early (loss
1.2e-3 after 10 epochs against 7.7e-2) but ends higher. A short run (`--quick`) still shows the
trust-region methods at a disadvantage, as they make few steps.

References:
  Richemond & Guo, Combining learning rate decay and weight decay with complexity gradient
  descent - Part I, arXiv:1902.02881, 2019.
  Chaudhari & Soatto, On the energy landscape of deep networks, arXiv:1511.06485, 2015.
  Kohler, Adolphs & Lucchi, Adaptive norms for deep learning with regularized Newton methods,
  arXiv:1905.09201, 2019.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import optax

import complexity_optax as co


@dataclasses.dataclass(frozen=True)
class BuildContext:
    """What a method may depend on: its random key, the length of the run (in steps), and the
    Euclidean norm of the initial parameters (of training seed 0: the same for every seed)."""

    key: jax.Array
    steps_per_epoch: int
    total_steps: int
    init_norm: float


@dataclasses.dataclass(frozen=True)
class Method:
    """One entry of the registry.

    Attributes:
      name: the name used on the command line.
      label: a short human-readable label (table and figure).
      build: `build(ctx) -> GradientTransformation`.
      hyperparameters: the values `build` uses, reported in the JSON document.
      batch_size: mini-batch size.
      pass_value: whether the update gets `value=` (the mini-batch loss).
      pass_value_fn: whether the update gets `value_fn=` (the mini-batch loss function).
      gradients_per_step: gradients per step for methods that do not count them in their state.
      counts_in_state: whether gradient and HVP counts are read from the optimizer state.
      seeded: whether `build` depends on `ctx.key` (then it is compiled once per seed).
    """

    name: str
    label: str
    build: Callable[[BuildContext], Any]
    hyperparameters: dict
    batch_size: int = 128
    pass_value: bool = False
    pass_value_fn: bool = False
    gradients_per_step: int = 1
    counts_in_state: bool = False
    seeded: bool = False


# ------------------------------------------------------------------ hyperparameters (see docstring)
SGD_LR = 1.0
ADAM_LR = 3e-2
ANNEAL_LR = 1.0
# γ₀, each entry of the field h being N(0, 1). The field's integrated push lr·Σγ(t)·‖h‖ must stay
# below ‖θ₀‖ ≈ 8.7: with lr 1, a linear anneal over half the run (~165 steps) and ‖h‖ ≈ √4810 ≈ 69,
# γ₀ = 1e-3 gives ≈ 5.7. With γ₀ = 0.01 (≈ 57) the weights ended 0.95-aligned with h and the test
# accuracy fell to 0.89 ± 0.02 (3 seeds), against 0.973 here (2 seeds).
ANNEAL_SCALE = 1e-3
COMPLEXITY_LR = 1.0
COMPLEXITY_STRENGTH = 1e-2  # λ₀ (the penalty is λ‖θ‖²)
TR_SPHERE = dict(
    ellipsoid="identity", initial_radius=0.05, max_radius=10.0, eta1=0.01, eta2=0.95,
    increase=1.1, decrease=1 / 1.5, max_cg_iters=50, cg_rtol=0.1,
)
# The authors' exact RMSProp ellipsoid: v₀ = 1e-10, v_t = 0.8 v_{t-1} + 0.2 g², A = √v_t.
TR_RMSPROP_ELLIPSOID = dict(decay=0.8, eps=0.0, initial_accumulator=1e-10)
TR_RMSPROP = dict(
    TR_SPHERE, ellipsoid=co.rmsprop_ellipsoid(**TR_RMSPROP_ELLIPSOID), initial_radius=0.1
)


def _sgd(ctx: BuildContext):
    del ctx
    return optax.sgd(SGD_LR)


def _adam(ctx: BuildContext):
    del ctx
    return optax.adam(ADAM_LR)


def _anneal_sgd(ctx: BuildContext):
    # The field decays linearly to zero over the first half of the run. The demo keeps the
    # paper's absolute field (relative_to=None), whose γ₀ was tuned for this MLP (see above).
    return co.anneal_sgd(
        ANNEAL_LR,
        field_scale=optax.linear_schedule(ANNEAL_SCALE, 0.0, max(ctx.total_steps // 2, 1)),
        key=ctx.key,
        relative_to=None,
    )


def _complexity(annealing: str) -> Callable[[BuildContext], Any]:
    def build(ctx: BuildContext):
        if annealing == "matched":
            strength = co.matched_annealing(COMPLEXITY_STRENGTH)
        elif annealing == "cosine":
            # Half a cosine period over the run: λ goes from 2λ₀ down to 0 at the last step.
            strength = co.cosine_annealing(COMPLEXITY_STRENGTH, 2 * ctx.total_steps)
        else:  # two-step, with the power-law schedule
            strength = co.power_law_annealing(COMPLEXITY_STRENGTH)
        # The sphere through the initialization of training seed 0 (see the module docstring).
        return co.complexity_sgd(COMPLEXITY_LR, strength=strength,
                                 two_step=annealing == "two_step", radius=ctx.init_norm)

    return build


# Regularised Newton and Entropy-SGD (issue 11): NOT tuned on this problem. ARC and saddle-free
# Newton use the library's defaults (the Cartis-Gould-Toint σ rule; Dauphin et al.'s damping
# line search) with a Krylov space of the trust region's CG cap, on the trust region's batch
# size; Entropy-SGD uses the paper's constants (γ₀ = 0.03, scoping 1e-3, η' = 0.1, α = 0.75,
# noise 1e-4) with L = 5 inner steps (the paper's value for small nets) and SGD's outer rate.
ARC = dict(ellipsoid="identity", initial_sigma=1.0, max_krylov=20)
SADDLE_FREE = dict(learning_rate=1.0, krylov_dim=20, damping=1e-3, num_damping=4)
ENTROPY_SGD = dict(learning_rate=SGD_LR, gamma=0.03, inner_steps=5, inner_lr=0.1, noise=1e-4,
                   scoping=1e-3, mean_decay=0.75)


def _arc(ctx: BuildContext):
    del ctx
    return co.cubic_regularization(**ARC)


def _saddle_free(ctx: BuildContext):
    del ctx
    return co.saddle_free_newton(**SADDLE_FREE)


def _entropy_sgd(ctx: BuildContext):
    return co.entropy_sgd(key=ctx.key, **ENTROPY_SGD)


def _trust_region(config: dict) -> Callable[[BuildContext], Any]:
    def build(ctx: BuildContext):
        del ctx
        return co.trust_region(**config)

    return build


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("sgd", "SGD", _sgd, {"learning_rate": SGD_LR}),
        Method("adam", "Adam", _adam, {"learning_rate": ADAM_LR}),
        Method(
            "anneal_sgd", "AnnealSGD", _anneal_sgd,
            {"learning_rate": ANNEAL_LR, "init_scale": ANNEAL_SCALE, "schedule": "linear",
             "timescale": "half the run", "relative_to": None},
            seeded=True,
        ),
        Method(
            "complexity_matched", "Complexity GD (matched)", _complexity("matched"),
            {"learning_rate": COMPLEXITY_LR, "init_strength": COMPLEXITY_STRENGTH,
             "annealing": "matched", "radius": "norm of the initial parameters"},
            pass_value=True,
        ),
        Method(
            "complexity_cosine", "Complexity GD (cosine)", _complexity("cosine"),
            {"learning_rate": COMPLEXITY_LR, "init_strength": COMPLEXITY_STRENGTH,
             "annealing": "cosine", "period": "2 x run length",
             "radius": "norm of the initial parameters"},
        ),
        Method(
            "complexity_two_step", "Complexity GD (two-step)", _complexity("two_step"),
            {"learning_rate": COMPLEXITY_LR, "init_strength": COMPLEXITY_STRENGTH,
             "annealing": "two_step", "two_step_schedule": "power_law",
             "radius": "norm of the initial parameters"},
            pass_value=True, pass_value_fn=True,
            gradients_per_step=2,
        ),
        Method(
            "tr_sphere", "TR (sphere)", _trust_region(TR_SPHERE), dict(TR_SPHERE),
            batch_size=512, pass_value=True, pass_value_fn=True,
            counts_in_state=True,
        ),
        Method(
            "tr_rmsprop", "TR (RMSProp ellipsoid)", _trust_region(TR_RMSPROP),
            dict(TR_RMSPROP, ellipsoid="rmsprop", ellipsoid_options=dict(TR_RMSPROP_ELLIPSOID)),
            batch_size=512, pass_value=True, pass_value_fn=True,
            counts_in_state=True,
        ),
        Method(
            "arc", "ARC (cubic regularisation)", _arc, dict(ARC),
            batch_size=512, pass_value=True, pass_value_fn=True, counts_in_state=True,
        ),
        Method(
            "saddle_free_newton", "Saddle-free Newton", _saddle_free, dict(SADDLE_FREE),
            batch_size=512, pass_value=True, pass_value_fn=True, counts_in_state=True,
        ),
        Method(
            "entropy_sgd", "Entropy-SGD", _entropy_sgd, dict(ENTROPY_SGD),
            pass_value_fn=True, gradients_per_step=ENTROPY_SGD["inner_steps"], seeded=True,
        ),
    ]
}

DEFAULT_METHODS: tuple[str, ...] = tuple(METHODS)


def parse_method_list(text: str) -> list[str]:
    """Parses `"a,b,c"` into registry names; raises `ValueError` listing the valid names.

    Examples:
      >>> parse_method_list("sgd, adam")
      ['sgd', 'adam']
    """
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise ValueError(f"methods must name at least one of: {', '.join(METHODS)}")
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise ValueError(
            f"methods: unknown method(s) {', '.join(unknown)}; valid: {', '.join(METHODS)}"
        )
    return list(dict.fromkeys(names))


_GRAD_FIELDS = ("gradient_count",)  # the counters of co.TrustRegionState
_HVP_FIELDS = ("hvp_count",)


def state_counters(opt_state: Any) -> tuple[int, int] | None:
    """Reads `(gradients, HVPs)` from the first state in `opt_state` that counts them."""
    stack = [opt_state]
    while stack:
        node = stack.pop(0)
        fields = getattr(node, "_fields", None)
        if fields is not None:
            g = next((f for f in _GRAD_FIELDS if f in fields), None)
            h = next((f for f in _HVP_FIELDS if f in fields), None)
            if g is not None and h is not None:
                return int(getattr(node, g)), int(getattr(node, h))
        if isinstance(node, (tuple, list)):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
    return None
