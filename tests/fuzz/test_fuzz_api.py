# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The outside fuzz campaign, part 1: bad values in every parameter of every public callable.

The cases are generated from the signatures of everything in ``complexity_optax.__all__`` and
``complexity_optax.landscape.__all__``: a valid call is built from :data:`VALID` (by parameter
name, with per-function overrides), then each numeric parameter in turn gets each value of
:data:`BAD_FLOATS` or :data:`BAD_INTS`. Every case must end in one of two ways:

* a ``ValueError``/``TypeError`` whose message names the parameter (a clear error), or
* a finite result: arrays and floats finite, a schedule finite at a few counts, and a
  first-order transformation whose first update leaves params, updates and state finite
  (or, for the few cases in :data:`EXACT_LIMITS`, the exact infinite value of the formula).

A case that hits a known, not yet fixed finding goes in :data:`KNOWN` (empty today: the 60 of
issue 13 are fixed), which marks it ``xfail(strict=True)``: it must start passing once fixed.
"""

from __future__ import annotations

import inspect
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co
from complexity_optax import landscape as L
from complexity_optax.testing import contract as C

KEY = jax.random.key(0)
PARAMS, BATCH = C.make_problem(d_in=2, d_out=2, batch=3)
_GRADS_VALUE = C.value_and_grad_fn(PARAMS, BATCH)
VALUE, GRADS = _GRADS_VALUE


def _matvec(v):
    return jax.tree.map(lambda x: 2.0 * x, v)


def _quadratic(x, *args):
    return jnp.sum(jnp.asarray(x) ** 2)


_HAMILTONIAN = L.pure_p_spin(KEY, 6, 3)
_SIGMA = jnp.full((6,), 1.0)

# A valid value for each required parameter, by name.
VALID = {
    "init_strength": 0.1, "period": 10, "learning_rate": 0.1, "strength": 0.1, "key": KEY,
    "scale": 0.1, "field_scale": 0.1, "params": jnp.ones(3), "matvec": _matvec,
    "like": jnp.zeros(4), "hvp_fn": _matvec, "grad": jnp.ones(4), "radius": 1.0,
    "fun": _quadratic, "x0": jnp.ones(2), "u": -1.6, "p": 3, "k": 1, "n": 6,
    "coefficients": {3: 1.0}, "dimension": 4, "num_features": 4, "num_examples": 8,
    "num_steps": 3, "mean_eig": 0.5, "c1": 1.0, "c2": 1.0, "m": 1.0, "f0": 1.0, "f1": -0.5,
    "f2": 0.25, "eps": -1.0, "eps_c": 1.5, "x": 0.5, "gamma": 0.03, "scoping": 1e-3,
    "krylov_dim": 3, "sigma": 1.0, "grid": jnp.linspace(-2.0, 2.0, 5),
    "nodes": jnp.asarray([0.0, 1.0]), "weights": jnp.asarray([0.5, 0.5]), "spec": "identity",
    "hamiltonian": _HAMILTONIAN, "vector": jnp.ones(3), "state": None,
}
# Per-function overrides (a parameter name that means something else there).
OVERRIDES = {
    "p_spin_energy": {"sigma": _SIGMA}, "p_spin_energy_per_spin": {"sigma": _SIGMA},
    "p_spin_gradient": {"sigma": _SIGMA}, "p_spin_spherical_gradient": {"sigma": _SIGMA},
    "hvp": {"params": jnp.ones(3), "vector": jnp.ones(3)},
    "value_grad_and_hvp": {"params": jnp.ones(3)},
    "top_eigenvalues": {"num_steps": 3},
    "saddle_free_direction": {"krylov_dim": 3},
    "cubic_subproblem": {"sigma": 1.0},
    "minimize_trust_region": {"max_steps": 2}, "minimize_cubic": {"max_steps": 2},
    "minimize_saddle_free_newton": {"max_steps": 2, "krylov_dim": 2},
    "spectral_density": {"num_steps": 3, "num_points": 5}, "lanczos_quadrature": {"num_steps": 3},
    "index_fraction": {"num_steps": 3},
    "hutchinson_trace": {"num_samples": 4}, "hutchinson_diagonal": {"num_samples": 4},
    "mean_eigenvalue": {"num_samples": 4},
    "entropy_sgd": {"inner_steps": 2}, "scale_by_local_entropy": {"inner_steps": 2},
    "field_alignment": {"params": PARAMS},
    "complexity_gradient": {"u": jnp.asarray([-1.6, 0.1]), "m": jnp.eye(2)},
    "complexity_quadratic": {"u": jnp.asarray([-1.6, 0.1]), "m": jnp.eye(2)},
    "diagonal_share": {"num_columns": 2, "key": KEY},
}
# Deprecated aliases: fuzzed through their replacements.
SKIP = {"p_n", "q_n", "seed_alpha"}

BAD_FLOATS = {
    "nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"), "neg": -1.0, "zero": 0.0,
    "huge": 1e39, "tiny": 1e-39, "str": "abc", "bool": True,
    "array_with_negative": np.asarray([1.0, -1.0], np.float32),
}
BAD_INTS = {"neg": -1, "zero": 0, "int32_overflow": 2**31, "float": 2.5, "str": "abc",
            "bool": True}
# 2³¹ only where the integer is a limit compared with an int32 counter (elsewhere it is a size,
# and a size of 2³¹ is an allocation, not a validation question).
INT32_LIMITS = {"warmup_steps", "memory", "max_steps", "inner_steps", "callback_every"}
# Transformations that take a full first step in the fuzz (cheap eager updates); the others are
# checked at init.
STEPPED = {"complexity_weight_decay", "two_step_annealing", "project_onto_sphere",
           "tangent_projection", "add_annealed_field"}


def _public():
    out = []
    for mod in (co, L):
        for name in mod.__all__:
            fn = getattr(mod, name)
            if inspect.isclass(fn) or inspect.ismodule(fn) or not callable(fn) or name in SKIP:
                continue
            out.append((name, fn))
    return out


PUBLIC = _public()


def _parameters(fn):
    return [p for p in inspect.signature(fn).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def base_call(name, fn):
    """``(args, kwargs)`` of a valid call, or ``None`` if a required parameter has no value."""
    values = {**VALID, **OVERRIDES.get(name, {})}
    args, kwargs = [], {}
    for p in _parameters(fn):
        if p.default is p.empty:
            if p.name not in values:
                return None
            (args if p.kind is p.POSITIONAL_ONLY else kwargs)[p.name] = values[p.name]
        elif p.name in OVERRIDES.get(name, {}):
            kwargs[p.name] = values[p.name]
    if "state" in kwargs and name == "field_alignment":
        tx = co.add_annealed_field(0.1, key=KEY)
        kwargs["state"] = tx.init(PARAMS)
    return args, kwargs


def _numeric_kind(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return None


# Callables whose every call compiles and runs a solver or an estimator (seconds each): they get
# only the values that must be rejected at construction (NaN, a string, a bool), so that a case
# costs microseconds; everything else also gets the values that may be valid.
CHEAP_MODULES = (
    "complexity_optax._src.complexity_annealing.", "complexity_optax._src.annealsgd.",
    "complexity_optax._src.common.", "complexity_optax.landscape.physics.",
    "complexity_optax._src.common.ellipsoids",
)


def _expensive(fn) -> bool:
    module = getattr(fn, "__module__", "") or ""
    return not module.startswith(CHEAP_MODULES)


MUST_REJECT = {"nan", "str", "bool"}  # never a valid number, whatever the parameter


def _cases():
    cases = []
    for name, fn in PUBLIC:
        base = base_call(name, fn)
        if base is None:
            continue
        _args, kwargs = base
        for p in _parameters(fn):
            current = kwargs.get(p.name, p.default)
            kind = _numeric_kind(current)
            if kind is None:
                continue
            bad = BAD_INTS if kind == "int" else BAD_FLOATS
            for label, value in bad.items():
                if _expensive(fn) and label not in MUST_REJECT:
                    continue
                if _expensive(fn) and label != "str":  # an accepted one compiles: seconds
                    cases.append(pytest.param(name, p.name, label, value,
                                              marks=pytest.mark.slow))
                    continue
                if label == "int32_overflow" and p.name not in INT32_LIMITS:
                    continue
                cases.append((name, p.name, label, value))
    return cases


CASES = _cases()
FUNCTIONS = dict(PUBLIC)

# Findings of issue 13 in modules other than complexity_annealing and common that still fail
# here: case id -> what goes wrong (the owner is the function's module). The lead removes the
# entries after merging the owners' fixes (strict: a fixed case fails until removed).
KNOWN: dict[str, str] = {}

# Cases whose exact value is infinite by definition, not by overflow: case id -> that value,
# asserted exactly. Θ(u) = lim (1/N) log E #{critical points with H <= N u}, and below every
# energy there are none: Θ(-inf) = log 0 = -inf (the limit of Θ(u) as u -> -inf).
EXACT_LIMITS: dict[str, float] = {
    "complexity-u--inf": float("-inf"),
}


def _finite_leaves(tree) -> bool:
    return C.all_finite(tree)


def _check_result(result, step=True):
    """A finite result: arrays finite, schedules finite, transformations finite after a step
    (after ``init`` only, for the expensive ones)."""
    if isinstance(result, optax.GradientTransformation):
        state = result.init(PARAMS)
        if not step:
            assert _finite_leaves(state), "non-finite state at init"
            return
        updates, new_state = result.update(GRADS, state, PARAMS, value=VALUE,
                                           value_fn=C.loss_fn, batch=BATCH)
        new_params = optax.apply_updates(PARAMS, updates)
        assert _finite_leaves((new_params, new_state)), "non-finite params/state after a step"
        return
    if isinstance(result, optax.schedules.StatefulSchedule):
        state = result.init()
        assert _finite_leaves(result(state, value=1.0)), "non-finite stateful schedule"
        return
    if callable(result) and not hasattr(result, "_fields"):
        for t in (0, 7, 10**6):
            assert _finite_leaves(result(jnp.asarray(t, jnp.int32))), f"non-finite at t = {t}"
        return
    leaves = [x for x in jax.tree.leaves(result) if isinstance(x, (np.ndarray, jax.Array, float))
              or (isinstance(x, int) and not isinstance(x, bool))]
    assert _finite_leaves(leaves), f"non-finite result {result!r}"


def _values(case):
    return tuple(case.values) if hasattr(case, "values") else tuple(case)


def _ids(case):
    name, param, label, _ = _values(case)
    return f"{name}-{param}-{label}"


def _marks(case):
    values = _values(case)
    marks = list(getattr(case, "marks", ()))
    if _ids(case) in KNOWN:
        owner = FUNCTIONS[values[0]].__module__
        marks.append(pytest.mark.xfail(strict=True, reason=(
            f"issue 13: {values[0]}({values[1]}={values[2]}) {KNOWN[_ids(case)]}, "
            f"owned by {owner}")))
    return pytest.param(*values, marks=marks, id=_ids(case))


@pytest.mark.parametrize("name, param, label, value", [_marks(c) for c in CASES])
def test_bad_value_gives_clear_error_or_finite_result(name, param, label, value):
    fn = FUNCTIONS[name]
    args, kwargs = base_call(name, fn)
    kwargs = {**kwargs, param: value}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = fn(*args, **kwargs)
        except (ValueError, TypeError) as e:
            assert param in str(e), f"{type(e).__name__} does not name {param!r}: {e}"
            return
        limit = EXACT_LIMITS.get(f"{name}-{param}-{label}")
        if limit is not None:
            assert float(result) == limit, f"{name}({param}={value}) = {result}, not {limit}"
            return
        _check_result(result, step=name in STEPPED)


@pytest.mark.parametrize("name", [n for n, _ in PUBLIC])
def test_valid_base_call_succeeds(name):
    """The base call every case mutates is itself valid (otherwise the cases test nothing)."""
    fn = FUNCTIONS[name]
    base = base_call(name, fn)
    if base is None:
        pytest.skip(f"{name}: no valid value for a required parameter yet; add it to VALID")
    if _expensive(fn):
        pytest.skip(f"{name}: expensive; its valid calls are covered by its own test file")
    args, kwargs = base
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_result(fn(*args, **kwargs), step=name in STEPPED)


def test_campaign_size():
    """At least 600 generated cases in the whole fuzz suite; this file's share is printed."""
    fast = [c for c in CASES if not hasattr(c, "marks")]
    print(f"\nfuzz api: {len(fast)} bad-value cases (+{len(CASES) - len(fast)} slow) over "
          f"{len(PUBLIC)} public callables")
    assert len(fast) >= 400
