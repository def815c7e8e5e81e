# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Loss-landscape toolkit: spherical p-spin glasses, complexity formulas, Hessian spectra."""

# --- spin glasses and theory ---
from complexity_optax.landscape.physics.complexity import complexity
from complexity_optax.landscape.physics.complexity import critical_energy
from complexity_optax.landscape.physics.complexity import ground_state_energy
from complexity_optax.landscape.physics.complexity import index_at_energy
from complexity_optax.landscape.physics.complexity import threshold_energy
from complexity_optax.landscape.physics.gaussian_field import alpha_from_mean_eigenvalue
from complexity_optax.landscape.physics.gaussian_field import complexity_gradient
from complexity_optax.landscape.physics.gaussian_field import complexity_constant_p
from complexity_optax.landscape.physics.gaussian_field import complexity_constant_q
from complexity_optax.landscape.physics.gaussian_field import complexity_matrix
from complexity_optax.landscape.physics.gaussian_field import complexity_quadratic
from complexity_optax.landscape.physics.gaussian_field import critical_energy_scale
from complexity_optax.landscape.physics.gaussian_field import index_at_energy_density
from complexity_optax.landscape.physics.gaussian_field import mean_eigenvalue_at_energy_density
from complexity_optax.landscape.physics.gaussian_field import positive_fraction_at_energy_density
from complexity_optax.landscape.physics.gaussian_field import p_n
from complexity_optax.landscape.physics.gaussian_field import q_n
from complexity_optax.landscape.physics.gaussian_field import seed_alpha
from complexity_optax.landscape.physics.gaussian_field import semicircle_cdf
from complexity_optax.landscape.physics.gaussian_field import semicircle_density
from complexity_optax.landscape.physics.spin_glass import PSpinHamiltonian
from complexity_optax.landscape.physics.spin_glass import mixed_p_spin
from complexity_optax.landscape.physics.spin_glass import p_spin_energy
from complexity_optax.landscape.physics.spin_glass import p_spin_energy_per_spin
from complexity_optax.landscape.physics.spin_glass import p_spin_gradient
from complexity_optax.landscape.physics.spin_glass import p_spin_spherical_gradient
from complexity_optax.landscape.physics.spin_glass import pure_p_spin

# --- geometry: slices, interpolation, mode-connecting curves ---
from complexity_optax.landscape.geometry.directions import eigenvector_directions
from complexity_optax.landscape.geometry.directions import filter_normalize
from complexity_optax.landscape.geometry.directions import loss_slice_1d
from complexity_optax.landscape.geometry.directions import loss_slice_2d
from complexity_optax.landscape.geometry.directions import random_direction
from complexity_optax.landscape.geometry.interpolation import interpolate_params
from complexity_optax.landscape.geometry.interpolation import linear_path_losses
from complexity_optax.landscape.geometry.interpolation import loss_barrier
from complexity_optax.landscape.geometry.mode_connectivity import CurveFit
from complexity_optax.landscape.geometry.mode_connectivity import curve_losses
from complexity_optax.landscape.geometry.mode_connectivity import curve_point
from complexity_optax.landscape.geometry.mode_connectivity import fit_connecting_curve

# --- Hessian tools ---
from complexity_optax.landscape.spectral.diagonal_share import DiagonalShare
from complexity_optax.landscape.spectral.diagonal_share import diagonal_share
from complexity_optax.landscape.spectral.diagonal_share import ols_diagonal_share
from complexity_optax.landscape.spectral.diagonal_share import wigner_diagonal_share
from complexity_optax.landscape.spectral.hutchinson import StochasticEstimate
from complexity_optax.landscape.spectral.hutchinson import hutchinson_diagonal
from complexity_optax.landscape.spectral.hutchinson import hutchinson_trace
from complexity_optax.landscape.spectral.lanczos import LanczosResult
from complexity_optax.landscape.spectral.lanczos import RitzResult
from complexity_optax.landscape.spectral.lanczos import lanczos
from complexity_optax.landscape.spectral.lanczos import top_eigenvalues
from complexity_optax.landscape.spectral.density import SpectralDensity
from complexity_optax.landscape.spectral.density import SpectralQuadrature
from complexity_optax.landscape.spectral.density import gaussian_smoothed_density
from complexity_optax.landscape.spectral.density import lanczos_quadrature
from complexity_optax.landscape.spectral.density import mean_eigenvalue
from complexity_optax.landscape.spectral.density import spectral_density
from complexity_optax.landscape.spectral.density import gauss_quadrature
from complexity_optax.landscape.spectral.density import lanczos_tridiagonals
from complexity_optax.landscape.spectral.density import log_spectral_density
from complexity_optax.landscape.spectral.lanczos import bottom_eigenvalues
from complexity_optax.landscape.spectral.lanczos import eigenpairs
from complexity_optax.landscape.spectral.index import SpectralIndex
from complexity_optax.landscape.spectral.index import index_fraction
from complexity_optax.landscape.spectral.index import spectral_index
from complexity_optax.landscape.spectral.linear_operator import LinearOperator
from complexity_optax.landscape.spectral.operators import fisher_operator
from complexity_optax.landscape.spectral.operators import gauss_newton_operator
from complexity_optax.landscape.spectral.operators import hessian_operator
from complexity_optax.landscape.spectral.hutchpp import hutchpp_diagonal
from complexity_optax.landscape.spectral.hutchpp import hutchpp_trace
from complexity_optax.landscape.spectral.blocks import block_operator
from complexity_optax.landscape.spectral.blocks import layer_blocks

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
    "p_n",
    "q_n",
    "seed_alpha",
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
