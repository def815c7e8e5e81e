# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Loss-landscape toolkit: spherical p-spin glasses, complexity formulas, Hessian spectra."""

# --- spin glasses and theory ---
# --- geometry: slices, interpolation, mode-connecting curves ---
from complexity_optax.landscape.geometry.directions import (
    eigenvector_directions,
    filter_normalize,
    loss_slice_1d,
    loss_slice_2d,
    random_direction,
)
from complexity_optax.landscape.geometry.interpolation import (
    interpolate_params,
    linear_path_losses,
    loss_barrier,
)
from complexity_optax.landscape.geometry.mode_connectivity import (
    CurveFit,
    curve_losses,
    curve_point,
    fit_connecting_curve,
)
from complexity_optax.landscape.physics.complexity import (
    complexity,
    critical_energy,
    ground_state_energy,
    index_at_energy,
    threshold_energy,
)
from complexity_optax.landscape.physics.gaussian_field import (
    alpha_from_mean_eigenvalue,
    complexity_constant_p,
    complexity_constant_q,
    complexity_gradient,
    complexity_matrix,
    complexity_quadratic,
    critical_energy_scale,
    index_at_energy_density,
    mean_eigenvalue_at_energy_density,
    p_n,  # noqa: F401  (deprecated: importable, not in __all__)
    positive_fraction_at_energy_density,
    q_n,  # noqa: F401
    seed_alpha,  # noqa: F401
    semicircle_cdf,
    semicircle_density,
)
from complexity_optax.landscape.physics.spin_glass import (
    PSpinHamiltonian,
    mixed_p_spin,
    p_spin_energy,
    p_spin_energy_per_spin,
    p_spin_gradient,
    p_spin_spherical_gradient,
    pure_p_spin,
)
from complexity_optax.landscape.spectral.blocks import block_operator, layer_blocks
from complexity_optax.landscape.spectral.density import (
    SpectralDensity,
    SpectralQuadrature,
    gauss_quadrature,
    gaussian_smoothed_density,
    lanczos_quadrature,
    lanczos_tridiagonals,
    log_spectral_density,
    mean_eigenvalue,
    spectral_density,
)

# --- Hessian tools ---
from complexity_optax.landscape.spectral.diagonal_share import (
    DiagonalShare,
    diagonal_share,
    ols_diagonal_share,
    wigner_diagonal_share,
)
from complexity_optax.landscape.spectral.hutchinson import (
    StochasticEstimate,
    hutchinson_diagonal,
    hutchinson_trace,
)
from complexity_optax.landscape.spectral.hutchpp import hutchpp_diagonal, hutchpp_trace
from complexity_optax.landscape.spectral.index import SpectralIndex, index_fraction, spectral_index
from complexity_optax.landscape.spectral.lanczos import (
    LanczosResult,
    RitzResult,
    bottom_eigenvalues,
    eigenpairs,
    lanczos,
    top_eigenvalues,
)
from complexity_optax.landscape.spectral.linear_operator import LinearOperator
from complexity_optax.landscape.spectral.operators import (
    fisher_operator,
    gauss_newton_operator,
    hessian_operator,
)

__all__ = [
    "complexity",
    "critical_energy",
    "ground_state_energy",
    "index_at_energy",
    "threshold_energy",
    "alpha_from_mean_eigenvalue",
    "complexity_gradient",
    "complexity_constant_p",
    "complexity_constant_q",
    "complexity_matrix",
    "complexity_quadratic",
    "critical_energy_scale",
    "index_at_energy_density",
    "mean_eigenvalue_at_energy_density",
    "positive_fraction_at_energy_density",
    "semicircle_cdf",
    "semicircle_density",
    "PSpinHamiltonian",
    "mixed_p_spin",
    "p_spin_energy",
    "p_spin_energy_per_spin",
    "p_spin_gradient",
    "p_spin_spherical_gradient",
    "pure_p_spin",
    "eigenvector_directions",
    "filter_normalize",
    "loss_slice_1d",
    "loss_slice_2d",
    "random_direction",
    "interpolate_params",
    "linear_path_losses",
    "loss_barrier",
    "CurveFit",
    "curve_losses",
    "curve_point",
    "fit_connecting_curve",
    "DiagonalShare",
    "diagonal_share",
    "ols_diagonal_share",
    "wigner_diagonal_share",
    "StochasticEstimate",
    "hutchinson_diagonal",
    "hutchinson_trace",
    "LanczosResult",
    "RitzResult",
    "lanczos",
    "top_eigenvalues",
    "SpectralDensity",
    "SpectralQuadrature",
    "gaussian_smoothed_density",
    "index_fraction",
    "lanczos_quadrature",
    "mean_eigenvalue",
    "spectral_density",
    "gauss_quadrature",
    "lanczos_tridiagonals",
    "log_spectral_density",
    "bottom_eigenvalues",
    "eigenpairs",
    "SpectralIndex",
    "spectral_index",
    "LinearOperator",
    "fisher_operator",
    "gauss_newton_operator",
    "hessian_operator",
    "hutchpp_diagonal",
    "hutchpp_trace",
    "block_operator",
    "layer_blocks",
]
