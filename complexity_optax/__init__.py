# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""complexity_optax: optax transformations and loss-landscape tools from statistical physics.

* Complexity gradient descent (Richemond & Guo, 2019): annealed weight decay, N-sphere.
* AnnealSGD (Chaudhari & Soatto, 2015): an annealed external field on the gradient.
* Ellipsoidal trust regions (Kohler, Adolphs & Lucchi, 2019): Steihaug-Toint CG on exact HVPs.
* `complexity_optax.landscape`: spin glasses, complexity formulas, Hessian spectra.
"""

# --- weight-decay annealing (schedules, matched, two-step) ---
# --- subpackages ---
from complexity_optax import landscape

# --- ready-made optimizers ---
from complexity_optax._src.annealsgd.anneal_sgd import anneal_sgd

# --- N-sphere and AnnealSGD field ---
from complexity_optax._src.annealsgd.field import (
    AnnealedFieldState,
    add_annealed_field,
    field_alignment,
)
from complexity_optax._src.common.convolutions import canonical_convolutions

# --- trust region ---
from complexity_optax._src.common.ellipsoids import (
    Ellipsoid,
    adagrad_ellipsoid,
    adam_ellipsoid,
    get_ellipsoid,
    identity_ellipsoid,
    rmsprop_ellipsoid,
)
from complexity_optax._src.common.hvp import hvp, value_grad_and_hvp
from complexity_optax._src.common.status import (
    SolverStatus,
    TrustRegionStatus,  # noqa: F401  (importable, same enum)
)
from complexity_optax._src.complexity_annealing.complexity_sgd import complexity_sgd
from complexity_optax._src.complexity_annealing.matched import (
    MatchedAnnealing,
    MatchedAnnealingState,
    matched_annealing,
)
from complexity_optax._src.complexity_annealing.schedules import (
    cosine_annealing,
    lr_matched_annealing,
    power_law_annealing,
)
from complexity_optax._src.complexity_annealing.sphere import (
    project_onto_sphere,
    sphere_init,
    tangent_projection,
)
from complexity_optax._src.complexity_annealing.two_step import (
    TwoStepAnnealingState,
    two_step_annealing,
)
from complexity_optax._src.complexity_annealing.weight_decay import (
    ComplexityWeightDecayState,
    complexity_weight_decay,
)

# --- Entropy-SGD ---
from complexity_optax._src.entropy_sgd.entropy_sgd import (
    EntropySGDState,
    entropy_sgd,
    scale_by_local_entropy,
    scoping_schedule,
)

# --- regularised Newton: adaptive cubic regularisation ---
from complexity_optax._src.regularized_newton.cubic_regularization import (
    CubicRegularizationState,
    cubic_regularization,
    minimize_cubic,
)
from complexity_optax._src.regularized_newton.cubic_subproblem import (
    CubicSubproblemResult,
    cubic_subproblem,
)
from complexity_optax._src.regularized_newton.result import NewtonResult
from complexity_optax._src.regularized_newton.saddle_free_newton import (
    SaddleFreeNewtonState,
    minimize_saddle_free_newton,
    saddle_free_direction,
    saddle_free_newton,
)
from complexity_optax._src.trust_region.lanczos_subproblem import lanczos_subproblem
from complexity_optax._src.trust_region.minimize import TrustRegionResult, minimize_trust_region
from complexity_optax._src.trust_region.rule import PRESETS as TRUST_REGION_PRESETS
from complexity_optax._src.trust_region.rule import TrustRegionPreset
from complexity_optax._src.trust_region.steihaug import SteihaugResult, steihaug_cg
from complexity_optax._src.trust_region.transformation import TrustRegionState, trust_region

try:
    from importlib.metadata import PackageNotFoundError as _NotFound
    from importlib.metadata import version as _version

    __version__ = _version("complexity-optax")
except _NotFound:  # pragma: no cover - running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "cosine_annealing",
    "lr_matched_annealing",
    "power_law_annealing",
    "MatchedAnnealing",
    "MatchedAnnealingState",
    "matched_annealing",
    "TwoStepAnnealingState",
    "two_step_annealing",
    "ComplexityWeightDecayState",
    "complexity_weight_decay",
    "AnnealedFieldState",
    "add_annealed_field",
    "field_alignment",
    "project_onto_sphere",
    "sphere_init",
    "tangent_projection",
    "anneal_sgd",
    "complexity_sgd",
    "Ellipsoid",
    "adagrad_ellipsoid",
    "adam_ellipsoid",
    "get_ellipsoid",
    "identity_ellipsoid",
    "rmsprop_ellipsoid",
    "canonical_convolutions",
    "hvp",
    "value_grad_and_hvp",
    "TrustRegionResult",
    "minimize_trust_region",
    "SteihaugResult",
    "steihaug_cg",
    "TrustRegionState",
    "trust_region",
    "TRUST_REGION_PRESETS",
    "TrustRegionPreset",
    "SolverStatus",
    "lanczos_subproblem",
    "CubicRegularizationState",
    "cubic_regularization",
    "minimize_cubic",
    "CubicSubproblemResult",
    "cubic_subproblem",
    "NewtonResult",
    "SaddleFreeNewtonState",
    "minimize_saddle_free_newton",
    "saddle_free_direction",
    "saddle_free_newton",
    "EntropySGDState",
    "entropy_sgd",
    "scale_by_local_entropy",
    "scoping_schedule",
    "landscape",
]

import importlib.util as _importlib_util
import typing as _typing

if _typing.TYPE_CHECKING:  # for type checkers and the API docs; loaded lazily below
    from complexity_optax._src.regularized_newton.optimistix_solvers import (  # noqa: F401
        CubicRegularizationMinimiser,
        SaddleFreeNewtonMinimiser,
    )
    from complexity_optax._src.trust_region.optimistix_solver import (  # noqa: F401
        TrustRegionMinimiser,
    )

# optimistix is an optional extra: its solvers are loaded on first use (`__getattr__`).
_OPTIMISTIX_SOLVERS = {
    "TrustRegionMinimiser": "complexity_optax._src.trust_region.optimistix_solver",
    "CubicRegularizationMinimiser": "complexity_optax._src.regularized_newton.optimistix_solvers",
    "SaddleFreeNewtonMinimiser": "complexity_optax._src.regularized_newton.optimistix_solvers",
}
if _importlib_util.find_spec("optimistix") is not None:
    __all__.extend(_OPTIMISTIX_SOLVERS)


def __getattr__(name):  # optimistix is an optional extra: load its solvers on first use.
    if name in _OPTIMISTIX_SOLVERS:
        import importlib

        return getattr(importlib.import_module(_OPTIMISTIX_SOLVERS[name]), name)
    raise AttributeError(f"module 'complexity_optax' has no attribute {name!r}")
