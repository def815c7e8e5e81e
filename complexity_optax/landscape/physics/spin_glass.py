# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Spherical p-spin glass Hamiltonians (Auffinger-Ben Arous-Cerny normalisation).

A pure spherical p-spin glass on N spins is the random homogeneous polynomial

    H(σ) = N^(−(p−1)/2) Σ_{i1..ip} J_{i1..ip} σ_i1 ⋯ σ_ip  +  ⟨h, σ⟩,     ‖σ‖² = N,

with J i.i.d. N(0, 1) over *ordered* index tuples, so that E[H(σ)H(σ')] = N (σ·σ'/N)^p without
field. The optional external field h is a Gaussian direction rescaled to ‖h‖² = N·field².

The Hamiltonian is a small pytree (`PSpinHamiltonian`): its couplings are array leaves, not
closure constants, so that a jitted function taking the Hamiltonian as an argument never
constant-folds an N^p tensor. The energy contracts the coupling tensor with σ one index at a time
(N^p + N^(p−1) + ... flops); no outer product of σ's is ever formed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp

from complexity_optax._src.common import checks

# Refuse coupling tensors that would not fit comfortably in memory (2^31 entries = 8 GiB float32).
_MAX_COUPLINGS = 2**31


class PSpinHamiltonian(NamedTuple):
    """A (mixed) spherical p-spin Hamiltonian with an optional external field.

    H(σ) = Σ_r c_r · N^(−(p_r−1)/2) Σ J^(r)_{i1..ip_r} σ_i1 ⋯ σ_ip_r + ⟨h, σ⟩.

    Attributes:
      couplings: tuple of raw coupling tensors J^(r), each of shape (N,) * p_r, entries N(0, 1).
        The degree p_r of each term is the number of axes of its tensor (static under `jit`).
      coefficients: array of shape (len(couplings),), the mixing coefficients c_r (1 for a pure
        p-spin). The covariance is E[H(σ)H(σ')] = N Σ_r c_r² (σ·σ'/N)^p_r + (field term).
      field_vector: array of shape (N,), the external field h (zeros when there is none).

    The methods call module-level jitted functions, so `ham.energy(sigma)` is fast from Python and
    also works inside a user's `jit`/`vmap`/`grad` (pass the Hamiltonian as an argument of the
    jitted function rather than closing over it, so that the couplings are not baked into the
    program as constants).
    """

    couplings: tuple
    coefficients: jax.Array
    field_vector: jax.Array

    @property
    def n(self) -> int:
        """Number of spins N."""
        return self.field_vector.shape[-1]

    @property
    def degrees(self) -> tuple:
        """The degrees p_r of the terms, in the order of `couplings`."""
        return tuple(j.ndim for j in self.couplings)

    def energy(self, sigma: jax.Array) -> jax.Array:
        """H(σ), the total energy; see `p_spin_energy`."""
        return _energy_jit(self, sigma)

    def __call__(self, sigma: jax.Array) -> jax.Array:
        return _energy_jit(self, sigma)

    def energy_per_spin(self, sigma: jax.Array) -> jax.Array:
        """H(σ)/N, the quantity whose N → ∞ limits are −E_0 and −E_∞."""
        return _energy_per_spin_jit(self, sigma)

    def gradient(self, sigma: jax.Array) -> jax.Array:
        """The Euclidean gradient ∇H(σ) in R^N (not projected on the sphere)."""
        return _gradient_jit(self, sigma)

    def spherical_gradient(self, sigma: jax.Array) -> jax.Array:
        """The Riemannian gradient on the sphere ‖σ‖² = N: ∇H − (∇H·σ/‖σ‖²) σ."""
        return _spherical_gradient_jit(self, sigma)


def _contract(couplings: jax.Array, sigma: jax.Array) -> jax.Array:
    """Σ J_{i1..ip} σ_i1 ⋯ σ_ip, contracting the last axis with σ p times."""
    x = couplings
    for _ in range(couplings.ndim):  # p static contractions, each one axis.
        x = jnp.tensordot(x, sigma.astype(x.dtype), axes=1)
    return x


def p_spin_energy(hamiltonian: PSpinHamiltonian, sigma: jax.Array) -> jax.Array:
    """Energy of a spherical p-spin configuration.

    H(σ) = Σ_r c_r N^(−(p_r−1)/2) Σ_{i1..ip_r} J^(r)_{i1..ip_r} σ_i1 ⋯ σ_ip_r + ⟨h, σ⟩.

    σ is a single configuration of shape (N,); use `jax.vmap` for a batch. The sphere
    ‖σ‖² = N is not enforced here (H is a polynomial on all of R^N).

    Args:
      hamiltonian: a `PSpinHamiltonian`.
      sigma: array of shape (N,).

    Returns:
      The scalar energy H(σ).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> ham = pure_p_spin(jax.random.key(0), 20, 3)
      >>> sigma = jnp.ones(20)
      >>> bool(jnp.isfinite(p_spin_energy(ham, sigma)))
      True

    References:
      Auffinger, Ben Arous and Cerny, *Random matrices and complexity of spin glasses*, CPAM 2013
      (arXiv:1003.1129).
    """
    n = hamiltonian.field_vector.shape[-1]
    total = jnp.vdot(hamiltonian.field_vector, sigma.astype(hamiltonian.field_vector.dtype))
    for r, couplings in enumerate(hamiltonian.couplings):
        p = couplings.ndim
        scale = n ** (-(p - 1) / 2.0)
        total = total + hamiltonian.coefficients[r] * scale * _contract(couplings, sigma)
    return total


def p_spin_energy_per_spin(hamiltonian: PSpinHamiltonian, sigma: jax.Array) -> jax.Array:
    """Energy per spin H(σ)/N; on the sphere its typical minima tend to −E_0 (ground state).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> ham = pure_p_spin(jax.random.key(0), 20, 2)
      >>> float(p_spin_energy_per_spin(ham, jnp.zeros(20)))
      0.0
    """
    return p_spin_energy(hamiltonian, sigma) / hamiltonian.field_vector.shape[-1]


def p_spin_gradient(hamiltonian: PSpinHamiltonian, sigma: jax.Array) -> jax.Array:
    """Euclidean gradient ∇H(σ) (`jax.grad` of `p_spin_energy`).

    For a pure p-spin without field H is homogeneous of degree p, so ∇H(σ)·σ = p H(σ) (Euler).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> ham = pure_p_spin(jax.random.key(0), 10, 3)
      >>> s = jnp.ones(10)
      >>> bool(jnp.allclose(p_spin_gradient(ham, s) @ s, 3 * p_spin_energy(ham, s), rtol=1e-4))
      True
    """
    return jax.grad(p_spin_energy, argnums=1)(hamiltonian, sigma)


def p_spin_spherical_gradient(hamiltonian: PSpinHamiltonian, sigma: jax.Array) -> jax.Array:
    """Riemannian gradient on the sphere: (I − σσᵀ/‖σ‖²) ∇H(σ).

    It vanishes exactly at the critical points of H restricted to the sphere. At σ = 0 (no
    sphere, no radial direction) the Euclidean gradient is returned.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> ham = pure_p_spin(jax.random.key(0), 10, 3)
      >>> s = jnp.ones(10)
      >>> abs(float(p_spin_spherical_gradient(ham, s) @ s)) < 1e-4
      True
    """
    g = p_spin_gradient(hamiltonian, sigma)
    s = sigma.astype(g.dtype)
    # Projection onto the complement of span{σ}: at σ = 0 that is everything (no radial part),
    # so the gradient comes back unprojected instead of 0/0 = NaN.
    ss = jnp.vdot(s, s)
    nonzero = ss > 0
    return g - jnp.where(nonzero, jnp.vdot(g, s) / jnp.where(nonzero, ss, 1.0), 0.0) * s


_energy_jit = jax.jit(p_spin_energy)
_energy_per_spin_jit = jax.jit(p_spin_energy_per_spin)
_gradient_jit = jax.jit(p_spin_gradient)
_spherical_gradient_jit = jax.jit(p_spin_spherical_gradient)


def _check_common(n, field) -> float:
    checks.check_int("n", n, minimum=1)
    checks.check_positive("field", field, allow_zero=True)
    if callable(field):
        raise TypeError(f"field must be a real number, got {field!r}")
    return float(field)


def _check_degree(name: str, p) -> None:
    checks.check_int(name, p, minimum=1)


def _check_dtype(dtype) -> None:
    """Couplings are Gaussian draws: an integer (or bool, complex) dtype would truncate them."""
    try:
        floating = jnp.issubdtype(jnp.dtype(dtype), jnp.floating)
    except TypeError:
        floating = False
    if not floating:
        raise TypeError(f"dtype must be a floating dtype (e.g. jnp.float32), got {dtype!r}")


def _check_size(n: int, p: int) -> None:
    if n**p > _MAX_COUPLINGS:
        raise ValueError(
            f"n: a degree-{p} coupling tensor over n={n} spins has n**p = {n**p} entries, "
            f"more than {_MAX_COUPLINGS}; use fewer spins"
        )


def _field_vector(key: jax.Array, n: int, field: float, dtype) -> jax.Array:
    if field == 0.0:
        return jnp.zeros((n,), dtype)
    g = jax.random.normal(key, (n,), jnp.float32).astype(dtype)  # same draw in every dtype
    return g * (math.sqrt(n) * field / jnp.linalg.norm(g))


def pure_p_spin(
    key: jax.Array, n: int, p: int, *, field: float = 0.0, dtype=jnp.float32
) -> PSpinHamiltonian:
    """Draws a pure spherical p-spin glass (ABC normalisation), optionally in an external field.

    H(σ) = N^(−(p−1)/2) Σ_{i1..ip=1}^N J_{i1..ip} σ_i1 ⋯ σ_ip + ⟨h, σ⟩,  J i.i.d. N(0, 1) over
    ordered tuples, h = field·√N·g/‖g‖ with g ~ N(0, I_N) (so ‖h‖² = N·field²).

    Without field E[H(σ)H(σ')] = N (σ·σ'/N)^p; on the sphere ‖σ‖² = N the minimum of H/N tends to
    −E_0(p) (`ground_state_energy`) and gradient descent from random starts stops near the
    threshold −E_∞(p) = −2√((p−1)/p) (`threshold_energy`). A field with field² well above
    p(p−2) leaves a single minimum (topology trivialisation).

    Args:
      key: a `jax.random` key.
      n: number of spins N (the coupling tensor has N^p entries).
      p: degree of the interaction, >= 1.
      field: strength of the external field, >= 0 (0: no field).
      dtype: floating dtype of the couplings and field (drawn in float32, then cast: one key
        gives the same instance in every dtype); an integer dtype is a `TypeError`.

    Returns:
      A `PSpinHamiltonian`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> ham = pure_p_spin(jax.random.key(0), 30, 3, field=0.5)
      >>> ham.degrees, ham.n
      ((3,), 30)
      >>> round(float(jnp.linalg.norm(ham.field_vector) ** 2 / 30), 4)
      0.25

    References:
      Auffinger, Ben Arous and Cerny, *Random matrices and complexity of spin glasses*, CPAM 2013
      (arXiv:1003.1129); Choromanska et al., *The loss surfaces of multilayer networks*, AISTATS
      2015; Fyodorov and Le Doussal, *Topology trivialization and large deviations for the minimum
      in the simplest random optimization*, J. Stat. Phys. 2014.
    """
    _check_degree("p", p)
    _check_dtype(dtype)
    return mixed_p_spin(key, n, {p: 1.0}, field=field, dtype=dtype)


def mixed_p_spin(
    key: jax.Array,
    n: int,
    coefficients: Mapping[int, float] | Sequence[float],
    *,
    field: float = 0.0,
    dtype=jnp.float32,
) -> PSpinHamiltonian:
    """Draws a mixed spherical spin glass H = Σ_p c_p H_p (+ ⟨h, σ⟩), independent pure H_p.

    Each H_p is an independent pure p-spin in ABC normalisation (`pure_p_spin`), so that
    E[H(σ)H(σ')] = N ξ(σ·σ'/N) with mixture ξ(q) = Σ_p c_p² q^p.

    Args:
      key: a `jax.random` key.
      n: number of spins N.
      coefficients: `{p: c_p}`, or a sequence `[c_1, c_2, ...]` read as c_p for p = 1, 2, ...
        Zero coefficients are dropped (no tensor is drawn for them).
      field: strength of the external field (‖h‖² = N·field²), >= 0.
      dtype: float dtype of the couplings and field (drawn in float32, then cast: one key gives
        the same instance in every dtype).

    Returns:
      A `PSpinHamiltonian` whose terms are ordered by increasing degree.

    Examples:
      >>> import jax
      >>> ham = mixed_p_spin(jax.random.key(0), 12, {2: 0.5, 3: 1.0})
      >>> ham.degrees
      (2, 3)
      >>> mixed_p_spin(jax.random.key(0), 12, [0.0, 1.0]).degrees
      (2,)

    References:
      Auffinger and Ben Arous, *Complexity of random smooth functions on the high-dimensional
      sphere*, Ann. Probab. 2013 (arXiv:1110.5872).
    """
    field = _check_common(n, field)
    _check_dtype(dtype)
    if isinstance(coefficients, Mapping):
        items = list(coefficients.items())
    elif isinstance(coefficients, Sequence) and not isinstance(coefficients, str):
        items = [(i + 1, c) for i, c in enumerate(coefficients)]
    else:
        raise TypeError(
            "coefficients must be a mapping {p: c_p} or a sequence, got "
            f"{type(coefficients).__name__}"
        )
    terms = {}
    for p, c in items:
        _check_degree("coefficients", p)
        if checks.concrete_float(c) is None:
            raise TypeError(f"coefficients must hold real numbers, got {c!r} for p={p}")
        if math.isnan(float(c)) or math.isinf(float(c)):
            raise ValueError(f"coefficients must be finite, got {c!r} for p={p}")
        if float(c) != 0.0:
            _check_size(n, p)
            terms[int(p)] = float(c)
    if not terms:
        raise ValueError("coefficients must contain at least one non-zero c_p")
    degrees = sorted(terms)
    keys = jax.random.split(key, len(degrees) + 1)
    couplings = tuple(
        # Drawn in float32 and cast, so that one key gives the same instance in every dtype.
        jax.random.normal(k, (n,) * p, jnp.float32).astype(dtype)
        for k, p in zip(keys[:-1], degrees, strict=False)
    )
    coeffs = jnp.asarray([terms[p] for p in degrees], dtype)
    return PSpinHamiltonian(couplings, coeffs, _field_vector(keys[-1], n, field, dtype))
