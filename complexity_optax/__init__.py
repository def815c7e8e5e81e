# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""complexity_optax: optax transformations and loss-landscape tools from statistical physics.

* Complexity gradient descent (Richemond & Guo, 2019): annealed weight decay, N-sphere.
* AnnealSGD (Chaudhari & Soatto, 2015): an annealed external field on the gradient.
* Ellipsoidal trust regions (Kohler, Adolphs & Lucchi, 2019): Steihaug-Toint CG on exact HVPs.
* ``complexity_optax.landscape``: spin glasses, complexity formulas, Hessian spectra.
"""

# --- weight-decay annealing (schedules, matched, two-step) ---
from complexity_optax._src.annealing_schedules import cosine_annealing  # noqa: E402,F401
from complexity_optax._src.annealing_schedules import lr_matched_annealing  # noqa: E402,F401
from complexity_optax._src.annealing_schedules import power_law_annealing  # noqa: E402,F401
from complexity_optax._src.matched_annealing import MatchedAnnealing  # noqa: E402,F401
from complexity_optax._src.matched_annealing import MatchedAnnealingState  # noqa: E402,F401
from complexity_optax._src.matched_annealing import matched_annealing  # noqa: E402,F401
from complexity_optax._src.two_step import TwoStepAnnealingState  # noqa: E402,F401
from complexity_optax._src.two_step import two_step_annealing  # noqa: E402,F401
from complexity_optax._src.weight_decay import ComplexityWeightDecayState  # noqa: E402,F401
from complexity_optax._src.weight_decay import complexity_weight_decay  # noqa: E402,F401

# --- N-sphere and AnnealSGD field ---
from complexity_optax._src.annealed_field import AnnealedFieldState  # noqa: E402,F401
from complexity_optax._src.annealed_field import add_annealed_field  # noqa: E402,F401
from complexity_optax._src.annealed_field import field_alignment  # noqa: E402,F401
from complexity_optax._src.sphere import project_onto_sphere  # noqa: E402,F401
from complexity_optax._src.sphere import sphere_init  # noqa: E402,F401
from complexity_optax._src.sphere import tangent_projection  # noqa: E402,F401

# --- ready-made optimizers ---
from complexity_optax._src.alias import anneal_sgd  # noqa: E402,F401
from complexity_optax._src.alias import complexity_sgd  # noqa: E402,F401

# --- trust region ---
from complexity_optax._src.ellipsoids import Ellipsoid  # noqa: E402,F401
from complexity_optax._src.ellipsoids import adagrad_ellipsoid  # noqa: E402,F401
from complexity_optax._src.ellipsoids import adam_ellipsoid  # noqa: E402,F401
from complexity_optax._src.ellipsoids import get_ellipsoid  # noqa: E402,F401
from complexity_optax._src.ellipsoids import identity_ellipsoid  # noqa: E402,F401
from complexity_optax._src.ellipsoids import rmsprop_ellipsoid  # noqa: E402,F401
from complexity_optax._src.hvp import hvp  # noqa: E402,F401
from complexity_optax._src.hvp import value_grad_and_hvp  # noqa: E402,F401
from complexity_optax._src.minimize_trust_region import TrustRegionResult  # noqa: E402,F401
from complexity_optax._src.minimize_trust_region import minimize_trust_region  # noqa: E402,F401
from complexity_optax._src.steihaug import SteihaugResult  # noqa: E402,F401
from complexity_optax._src.steihaug import steihaug_cg  # noqa: E402,F401
from complexity_optax._src.trust_region import TrustRegionState  # noqa: E402,F401
from complexity_optax._src.trust_region import trust_region  # noqa: E402,F401

# --- subpackages ---
from complexity_optax import landscape  # noqa: E402,F401

__version__ = "0.1.0"
