# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Loss-landscape toolkit: spherical p-spin glasses, complexity formulas, Hessian spectra."""

# --- spin glasses and theory ---
from complexity_optax.landscape._complexity import complexity  # noqa: F401
from complexity_optax.landscape._complexity import critical_energy  # noqa: F401
from complexity_optax.landscape._complexity import ground_state_energy  # noqa: F401
from complexity_optax.landscape._complexity import index_at_energy  # noqa: F401
from complexity_optax.landscape._complexity import threshold_energy  # noqa: F401
from complexity_optax.landscape._gaussian_field import alpha_from_mean_eigenvalue  # noqa: F401
from complexity_optax.landscape._gaussian_field import complexity_gradient  # noqa: F401
from complexity_optax.landscape._gaussian_field import complexity_matrix  # noqa: F401
from complexity_optax.landscape._gaussian_field import complexity_quadratic  # noqa: F401
from complexity_optax.landscape._gaussian_field import critical_energy_scale  # noqa: F401
from complexity_optax.landscape._gaussian_field import index_at_energy_density  # noqa: F401
from complexity_optax.landscape._gaussian_field import p_n  # noqa: F401
from complexity_optax.landscape._gaussian_field import q_n  # noqa: F401
from complexity_optax.landscape._gaussian_field import seed_alpha  # noqa: F401
from complexity_optax.landscape._gaussian_field import semicircle_cdf  # noqa: F401
from complexity_optax.landscape._gaussian_field import semicircle_density  # noqa: F401
from complexity_optax.landscape._spin_glass import PSpinHamiltonian  # noqa: F401
from complexity_optax.landscape._spin_glass import mixed_p_spin  # noqa: F401
from complexity_optax.landscape._spin_glass import p_spin_energy  # noqa: F401
from complexity_optax.landscape._spin_glass import p_spin_energy_per_spin  # noqa: F401
from complexity_optax.landscape._spin_glass import p_spin_gradient  # noqa: F401
from complexity_optax.landscape._spin_glass import p_spin_spherical_gradient  # noqa: F401
from complexity_optax.landscape._spin_glass import pure_p_spin  # noqa: F401

# --- Hessian tools ---
from complexity_optax.landscape._diagonal_share import DiagonalShare  # noqa: F401
from complexity_optax.landscape._diagonal_share import diagonal_share  # noqa: F401
from complexity_optax.landscape._diagonal_share import ols_diagonal_share  # noqa: F401
from complexity_optax.landscape._diagonal_share import wigner_diagonal_share  # noqa: F401
from complexity_optax.landscape._hutchinson import StochasticEstimate  # noqa: F401
from complexity_optax.landscape._hutchinson import hutchinson_diagonal  # noqa: F401
from complexity_optax.landscape._hutchinson import hutchinson_trace  # noqa: F401
from complexity_optax.landscape._lanczos import LanczosResult  # noqa: F401
from complexity_optax.landscape._lanczos import RitzResult  # noqa: F401
from complexity_optax.landscape._lanczos import lanczos  # noqa: F401
from complexity_optax.landscape._lanczos import top_eigenvalues  # noqa: F401
from complexity_optax.landscape._spectral_density import SpectralDensity  # noqa: F401
from complexity_optax.landscape._spectral_density import SpectralQuadrature  # noqa: F401
from complexity_optax.landscape._spectral_density import gaussian_smoothed_density  # noqa: F401
from complexity_optax.landscape._spectral_density import index_fraction  # noqa: F401
from complexity_optax.landscape._spectral_density import lanczos_quadrature  # noqa: F401
from complexity_optax.landscape._spectral_density import mean_eigenvalue  # noqa: F401
from complexity_optax.landscape._spectral_density import spectral_density  # noqa: F401
