# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Loss-landscape toolkit: spherical p-spin glasses, complexity formulas, Hessian spectra."""

# --- spin glasses and theory ---

# --- Hessian tools ---
