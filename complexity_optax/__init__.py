# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""complexity_optax: optax transformations and loss-landscape tools from statistical physics.

* Complexity gradient descent (Richemond & Guo, 2019): annealed weight decay, N-sphere.
* AnnealSGD (Chaudhari & Soatto, 2015): an annealed external field on the gradient.
* Ellipsoidal trust regions (Kohler, Adolphs & Lucchi, 2019): Steihaug-Toint CG on exact HVPs.
* ``complexity_optax.landscape``: spin glasses, complexity formulas, Hessian spectra.
"""

# --- weight-decay annealing (schedules, matched, two-step) ---

# --- N-sphere and AnnealSGD field ---

# --- ready-made optimizers ---

# --- trust region ---

# --- subpackages ---
from complexity_optax import landscape  # noqa: E402,F401

__version__ = "0.1.0"
