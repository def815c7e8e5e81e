# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The fuzz campaign, part 4: the second-order and Entropy-SGD methods.

The methods of `complexity_optax._src.regularized_newton` and `complexity_optax._src.entropy_sgd`
(`cubic_regularization`, `minimize_cubic`, `cubic_subproblem`, `saddle_free_newton`,
`minimize_saddle_free_newton`, `saddle_free_direction`, `entropy_sgd`,
`scale_by_local_entropy`, `scoping_schedule`) get:

* **bad values** in every numeric hyperparameter (generated from the signatures, as in
  `test_fuzz_api.py`, with more values: vectors, size-0 arrays, lists, `None`, complex numbers);
  every case ends in a `ValueError`/`TypeError` naming the parameter, or, for a transformation,
  a finite state at `init` (the solvers get only values that must be rejected: an accepted
  value would compile a solve);
* **bad pytrees and callables**: `hvp_fn=None`, an empty, size-0, integer or string `grad`
  or `x0`, a `diagonal` that is zero, negative, NaN or of the wrong shape, keys out of the
  int64 range; size-0 and empty params in the transformations, which are a documented no-op;
* **run-time faults**: a loss that is NaN or ±inf everywhere (at the current point too),
  start points with NaN: the transformations skip the step (zero update, finite state), the
  solvers stop with a finite or exactly reported result;
* **dtypes**: one step of every method on a quadratic in bfloat16, float16, float32 and
  float64 (under `jax.enable_x64`): the dtype is kept, the loss does not increase, and the
  solvers reach the minimiser within a tolerance set by the dtype's resolution.
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
from complexity_optax.testing import contract as C

KEY = jax.random.key(0)
PARAMS = {"w": jnp.asarray([1.0, -2.0, 0.5]), "b": jnp.asarray(0.25)}


def _matvec(v):
    return jax.tree.map(lambda x: 2.0 * x, v)


def _quadratic(x, *args):
    return sum(jnp.sum((leaf - 1.0) ** 2) for leaf in jax.tree.leaves(x))


def _tree_loss(params, *args, **kwargs):
    return sum((jnp.sum((x - 1.0) ** 2) for x in jax.tree.leaves(params)), jnp.zeros(()))


# ------------------------------------------------------------------ bad hyperparameter values
METHODS = {
    "cubic_regularization": (co.cubic_regularization, {"max_krylov": 2}),
    "saddle_free_newton": (co.saddle_free_newton, {"krylov_dim": 2, "num_damping": 2}),
    "entropy_sgd": (co.entropy_sgd, {"learning_rate": 0.1, "key": KEY, "inner_steps": 2}),
    "scale_by_local_entropy": (co.scale_by_local_entropy, {"key": KEY, "inner_steps": 2}),
    "scoping_schedule": (co.scoping_schedule, {"gamma": 0.03, "scoping": 1e-3}),
    "minimize_cubic": (co.minimize_cubic, {"fun": _quadratic, "x0": jnp.ones(2),
                                           "max_steps": 2}),
    "minimize_saddle_free_newton": (co.minimize_saddle_free_newton, {
        "fun": _quadratic, "x0": jnp.ones(2), "max_steps": 2, "krylov_dim": 2}),
    "cubic_subproblem": (co.cubic_subproblem, {"hvp_fn": _matvec, "grad": jnp.ones(3),
                                               "sigma": 1.0, "max_iters": 2}),
    "saddle_free_direction": (co.saddle_free_direction, {"hvp_fn": _matvec,
                                                         "grad": jnp.ones(3), "krylov_dim": 2}),
}
# The solvers: an accepted value runs (and compiles) a solve; they get only MUST_REJECT.
SOLVERS = {"minimize_cubic", "minimize_saddle_free_newton", "cubic_subproblem",
           "saddle_free_direction"}

BAD_FLOATS = {
    "nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"), "neg": -1.0, "zero": 0.0,
    "huge": 1e39, "tiny": 1e-39, "str": "abc", "bool": True, "none": None,
    "vector": np.asarray([0.5, 0.5], np.float32), "size0": np.zeros(0, np.float32),
    "list": [0.5], "complex": 1j, "nan_array": jnp.asarray(float("nan")),
    "matrix": jnp.full((2, 2), 0.5),
}
BAD_INTS = {"neg": -1, "zero": 0, "float": 2.5, "str": "abc", "bool": True,
            "int32_overflow": 2**31, "float_integral": 2.0, "vector": np.asarray([2, 2])}
MUST_REJECT = {"nan", "str", "bool", "vector", "size0", "list", "complex", "nan_array",
               "matrix", "float", "float_integral"}
# Parameters where None is documented (a default), hence a valid value.
NONE_VALID = {"max_gamma", "scoping", "momentum", "max_steps", "krylov_dim", "max_krylov"}


def _numeric_params(fn, base):
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ("key",):
            continue
        current = base.get(p.name, p.default)
        if isinstance(current, bool):
            continue
        if isinstance(current, int):
            out.append((p.name, "int"))
        elif isinstance(current, float) or (current is None and p.name in (
                "max_gamma", "scoping", "momentum")):
            out.append((p.name, "float"))
    return out


def _hyper_cases():
    cases = []
    for name, (fn, base) in METHODS.items():
        for param, kind in _numeric_params(fn, base):
            for label, value in (BAD_INTS if kind == "int" else BAD_FLOATS).items():
                if name in SOLVERS and label not in MUST_REJECT:
                    continue
                if label == "none" and param in NONE_VALID:
                    continue
                cases.append(pytest.param(name, param, label, value,
                                          id=f"{name}-{param}-{label}"))
    return cases


HYPER_CASES = _hyper_cases()


def _check_accepted(result, name, param, label):
    assert name not in SOLVERS, f"{name}({param}={label}) accepted a value it must reject"
    if isinstance(result, optax.GradientTransformation):
        state = result.init(PARAMS)
        assert C.all_finite(state), "non-finite state at init"
        return
    # a schedule
    for t in (0, 7, 10**6):
        value = result(jnp.asarray(t, jnp.int32))
        assert jnp.shape(value) == () and bool(jnp.isfinite(value)), f"{value} at t = {t}"


@pytest.mark.parametrize("name, param, label, value", HYPER_CASES)
def test_bad_hyperparameter_gives_clear_error_or_valid_result(name, param, label, value):
    fn, base = METHODS[name]
    kwargs = {**base, param: value}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = fn(**kwargs)
        except (ValueError, TypeError) as e:
            assert param in str(e), f"{type(e).__name__} does not name {param!r}: {e}"
            return
    assert label not in MUST_REJECT, f"{name}({param}={label}) was accepted"
    _check_accepted(result, name, param, label)


# Schedules where a scalar is expected: a step-count schedule returning a vector (or a string)
# is an error naming the parameter, raised where the schedule is first evaluated.
VECTOR_SCHEDULE = lambda count: jnp.full((2,), 0.1)
STRING_SCHEDULE = lambda count: "abc"
SCHEDULE_CASES = {
    "entropy_sgd-learning_rate": (lambda s: co.entropy_sgd(s, key=KEY, inner_steps=2),
                                  "learning_rate"),
    "entropy_sgd-gamma": (lambda s: co.entropy_sgd(0.1, key=KEY, gamma=s, inner_steps=2),
                          "gamma"),
    "scale_by_local_entropy-gamma": (lambda s: co.scale_by_local_entropy(
        key=KEY, gamma=s, inner_steps=2), "gamma"),
    "complexity_sgd-learning_rate": (lambda s: co.complexity_sgd(s, strength=0.1),
                                     "learning_rate"),
    "complexity_sgd-strength": (lambda s: co.complexity_sgd(0.1, strength=s), "strength"),
    "anneal_sgd-learning_rate": (lambda s: co.anneal_sgd(s, field_scale=0.1, key=0),
                                 "learning_rate"),
    "anneal_sgd-field_scale": (lambda s: co.anneal_sgd(0.1, field_scale=s, key=0),
                               "field_scale"),
    "add_annealed_field-scale": (lambda s: co.add_annealed_field(s, key=0), "scale"),
    "complexity_weight_decay-strength": (lambda s: co.complexity_weight_decay(s), "strength"),
    "two_step_annealing-learning_rate": (lambda s: co.two_step_annealing(s, 0.1),
                                         "learning_rate"),
    "two_step_annealing-strength": (lambda s: co.two_step_annealing(0.1, s), "strength"),
}


@pytest.mark.parametrize("schedule", [VECTOR_SCHEDULE, STRING_SCHEDULE], ids=["vector", "str"])
@pytest.mark.parametrize("case", list(SCHEDULE_CASES))
def test_non_scalar_schedule_is_an_error_naming_the_parameter(case, schedule):
    make, param = SCHEDULE_CASES[case]
    with pytest.raises((ValueError, TypeError), match=param):
        tx = make(schedule)
        state = tx.init(PARAMS)
        tx.update(jax.tree.map(jnp.ones_like, PARAMS), state, PARAMS, value=jnp.ones(()),
                  value_fn=_tree_loss)


@pytest.mark.parametrize("schedule", [VECTOR_SCHEDULE, STRING_SCHEDULE], ids=["vector", "str"])
def test_lr_matched_annealing_non_scalar_learning_rate(schedule):
    with pytest.raises((ValueError, TypeError), match="learning_rate"):
        co.lr_matched_annealing(0.1, schedule)(jnp.asarray(3))


# --------------------------------------------------------------------------------- bad keys
KEY_FACTORIES = {
    "entropy_sgd": lambda k: co.entropy_sgd(0.1, key=k, inner_steps=2),
    "scale_by_local_entropy": lambda k: co.scale_by_local_entropy(key=k, inner_steps=2),
    "add_annealed_field": lambda k: co.add_annealed_field(0.1, key=k),
    "anneal_sgd": lambda k: co.anneal_sgd(0.1, field_scale=0.1, key=k),
    "sphere_init": lambda k: co.sphere_init(k, PARAMS),
}
BAD_KEYS = {
    "2**64": 2**64, "2**63": 2**63, "-2**63-1": -(2**63) - 1, "float": 2.5, "str": "seed",
    "bool": True, "none": None, "float_array": jnp.ones(2), "uint32x3": jnp.ones(3, jnp.uint32),
    "int_vector": jnp.ones(2, jnp.int32), "list": [0, 1],
}


@pytest.mark.parametrize("factory", list(KEY_FACTORIES))
@pytest.mark.parametrize("label", list(BAD_KEYS))
def test_bad_key_is_an_error_naming_key(factory, label):
    with pytest.raises((ValueError, TypeError), match="key"):
        KEY_FACTORIES[factory](BAD_KEYS[label])


@pytest.mark.parametrize("factory", list(KEY_FACTORIES))
@pytest.mark.parametrize("seed", [-(2**63), -1, 0, 2**63 - 1, np.uint32(7), np.int64(-5)],
                         ids=["int64_min", "minus_one", "zero", "int64_max", "np_uint32",
                              "np_int64"])
def test_int64_seeds_are_accepted(factory, seed):
    out = KEY_FACTORIES[factory](seed)
    if isinstance(out, optax.GradientTransformation):
        out = out.init(PARAMS)
    assert C.all_finite(out)


# ------------------------------------------------------------------ bad pytrees and callables
BAD_GRADS = {
    "empty_dict": ({}, ValueError), "empty_list": ([], ValueError),
    "size0": (jnp.zeros(0), ValueError), "size0_leaves": ({"a": jnp.zeros((0, 3))}, ValueError),
    "int32": (jnp.ones(3, jnp.int32), TypeError), "bool": (jnp.ones(3, bool), TypeError),
    "str": ("abc", TypeError), "none": (None, ValueError),
    "mixed_int_leaf": ({"a": jnp.ones(2), "b": jnp.ones(2, jnp.int32)}, TypeError),
    "complex": (jnp.ones(3, jnp.complex64), TypeError),
}
SUBPROBLEMS = {
    "cubic_subproblem": lambda hvp, g, **kw: co.cubic_subproblem(hvp, g, 1.0, max_iters=2, **kw),
    "saddle_free_direction": lambda hvp, g, **kw: co.saddle_free_direction(hvp, g, krylov_dim=2,
                                                                           **kw),
}


@pytest.mark.parametrize("solver", list(SUBPROBLEMS))
@pytest.mark.parametrize("label", list(BAD_GRADS))
def test_bad_grad_is_an_error_naming_grad(solver, label):
    grad, error = BAD_GRADS[label]
    with pytest.raises(error, match="grad"):
        SUBPROBLEMS[solver](_matvec, grad)


@pytest.mark.parametrize("solver", list(SUBPROBLEMS))
@pytest.mark.parametrize("hvp", [None, 3.0, "abc", jnp.eye(3)], ids=["none", "float", "str",
                                                                      "matrix"])
def test_non_callable_hvp_fn_is_a_type_error(solver, hvp):
    with pytest.raises(TypeError, match="hvp_fn"):
        SUBPROBLEMS[solver](hvp, jnp.ones(3))


BAD_HVP_OUTPUTS = {
    "wrong_shape": lambda v: jnp.ones(2), "scalar": lambda v: jnp.ones(()),
    "python_float": lambda v: 1.0, "dict": lambda v: {"a": v}, "list": lambda v: [v, v],
    "transposed": lambda v: jnp.ones((3, 1)),
}


@pytest.mark.parametrize("solver", list(SUBPROBLEMS))
@pytest.mark.parametrize("label", list(BAD_HVP_OUTPUTS))
def test_hvp_fn_returning_another_tree_is_an_error_naming_hvp_fn(solver, label):
    with pytest.raises(ValueError, match="hvp_fn"):
        SUBPROBLEMS[solver](BAD_HVP_OUTPUTS[label], jnp.ones(3))


@pytest.mark.parametrize("solver", list(SUBPROBLEMS))
@pytest.mark.parametrize("bad", [jnp.nan, jnp.inf, -jnp.inf], ids=["nan", "+inf", "-inf"])
def test_non_finite_concrete_grad_is_an_error_naming_grad(solver, bad):
    with pytest.raises(ValueError, match="grad"):
        SUBPROBLEMS[solver](_matvec, jnp.ones(3).at[1].set(bad))


@pytest.mark.parametrize("solver", list(SUBPROBLEMS))
def test_traced_non_finite_grad_gives_a_result_not_an_error(solver):
    """Under `jit` the gradient has no value to check: the solve runs (the transformations
    guard a non-finite gradient themselves, by skipping the step)."""
    out = jax.jit(lambda g: jax.tree.leaves(SUBPROBLEMS[solver](_matvec, g))[0])(
        jnp.ones(3).at[1].set(jnp.nan))
    assert out.shape == (3,)


BAD_DIAGONALS = {
    "zero_entry": jnp.asarray([1.0, 0.0, 1.0]), "negative": -jnp.ones(3),
    "nan": jnp.asarray([1.0, jnp.nan, 1.0]), "inf": jnp.asarray([1.0, jnp.inf, 1.0]),
    "wrong_shape": jnp.ones(2), "wrong_structure": {"a": jnp.ones(3)}, "all_zero": jnp.zeros(3),
    "str": "abc",
}


@pytest.mark.parametrize("label", list(BAD_DIAGONALS))
def test_bad_diagonal_is_an_error_naming_diagonal(label):
    with pytest.raises((ValueError, TypeError), match="diagonal"):
        co.cubic_subproblem(_matvec, jnp.ones(3), 1.0, diagonal=BAD_DIAGONALS[label])


BAD_X0 = {
    "empty_dict": {}, "size0": jnp.zeros(0), "int32": jnp.ones(2, jnp.int32),
    "str": "abc", "none": None, "bool": jnp.ones(2, bool), "size0_leaves": [jnp.zeros((2, 0))],
}
MINIMIZERS = {"minimize_cubic": co.minimize_cubic,
              "minimize_saddle_free_newton": co.minimize_saddle_free_newton}


@pytest.mark.parametrize("solver", list(MINIMIZERS))
@pytest.mark.parametrize("label", list(BAD_X0))
def test_bad_x0_is_an_error_naming_x0(solver, label):
    with pytest.raises((ValueError, TypeError), match="x0"):
        MINIMIZERS[solver](_quadratic, BAD_X0[label], max_steps=2)


@pytest.mark.parametrize("solver", list(MINIMIZERS))
@pytest.mark.parametrize("fun", [None, 3.0, "abc"], ids=["none", "float", "str"])
def test_non_callable_fun_is_a_type_error(solver, fun):
    with pytest.raises(TypeError, match="fun"):
        MINIMIZERS[solver](fun, jnp.ones(2), max_steps=2)


TRANSFORMATIONS = {
    "cubic_regularization": lambda: co.cubic_regularization(max_krylov=2),
    "saddle_free_newton": lambda: co.saddle_free_newton(krylov_dim=2, num_damping=2),
    "entropy_sgd": lambda: co.entropy_sgd(0.1, key=KEY, inner_steps=2),
    "scale_by_local_entropy": lambda: co.scale_by_local_entropy(key=KEY, inner_steps=2),
}
EMPTY_TREES = {"empty_dict": {}, "size0_leaf": {"a": jnp.zeros(0)},
               "size0_leaves": {"a": jnp.zeros((0, 2)), "b": (jnp.zeros((3, 0)),)},
               "empty_tuple": ()}


@pytest.mark.parametrize("name", list(TRANSFORMATIONS))
@pytest.mark.parametrize("tree", list(EMPTY_TREES))
def test_empty_and_size0_params_are_a_no_op(name, tree):
    """Nothing to optimise: a (documented) no-op update in the params' structure, finite state."""
    tx = TRANSFORMATIONS[name]()
    params = EMPTY_TREES[tree]
    state = tx.init(params)
    grads = jax.tree.map(jnp.zeros_like, params)
    updates, new_state = tx.update(grads, state, params, value=_tree_loss(params),
                                   value_fn=_tree_loss)
    assert jax.tree.structure(updates) == jax.tree.structure(params)
    assert [u.shape for u in jax.tree.leaves(updates)] == [
        p.shape for p in jax.tree.leaves(params)]
    assert C.all_finite(new_state)
    assert C.shape_dtype_tree(new_state) == C.shape_dtype_tree(state)


# ---------------------------------------------------------------------------- run-time faults
def _nan_everywhere(params, *args, **kwargs):
    return _tree_loss(params) * jnp.nan


def _inf_everywhere(params, *args, **kwargs):
    return _tree_loss(params) + jnp.inf


def _neg_inf_away(params, *args, **kwargs):
    """−∞ everywhere except at PARAMS: an unbounded-below fault at trial points."""
    at_start = jnp.all(jnp.stack([jnp.all(p == q) for p, q in zip(
        jax.tree.leaves(params), jax.tree.leaves(PARAMS))]))
    return jnp.where(at_start, _tree_loss(params), -jnp.inf)


LOSS_FAULTS = {"nan_everywhere": _nan_everywhere, "inf_everywhere": _inf_everywhere,
               "-inf_at_trial_points": _neg_inf_away}
SECOND_ORDER = {k: v for k, v in TRANSFORMATIONS.items()}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
@pytest.mark.parametrize("fault", list(LOSS_FAULTS))
def test_value_fn_faults_leave_params_and_state_finite(name, fault):
    """A loss that is non-finite (at the current point or at every trial point): the step is
    skipped or stays finite; the state stays finite with its layout; the next step runs."""
    tx = SECOND_ORDER[name]()
    state = tx.init(PARAMS)
    value_fn = LOSS_FAULTS[fault]
    grads = jax.grad(_tree_loss)(PARAMS)
    updates, s1 = tx.update(grads, state, PARAMS, value=value_fn(PARAMS), value_fn=value_fn)
    p1 = optax.apply_updates(PARAMS, updates)
    assert C.all_finite((p1, s1))
    assert C.shape_dtype_tree(s1) == C.shape_dtype_tree(state)
    # Nothing finite to step on: nothing moves (Entropy-SGD reads only gradients, and the
    # gradient of f + inf is finite: for it only the NaN loss is a fault).
    if fault == "nan_everywhere" or (fault == "inf_everywhere" and "entropy" not in name):
        for a, b in zip(jax.tree.leaves(p1), jax.tree.leaves(PARAMS)):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    updates, s2 = tx.update(jax.grad(_tree_loss)(p1), s1, p1, value=_tree_loss(p1),
                            value_fn=_tree_loss)
    assert C.all_finite((optax.apply_updates(p1, updates), s2))


@pytest.mark.parametrize("solver", list(MINIMIZERS))
@pytest.mark.parametrize("fault", ["nan_everywhere", "inf_everywhere", "nan_in_x0"])
def test_minimizers_on_faulty_problems_stop_without_nan_steps(solver, fault):
    """No step is taken from a point where the loss is not finite: the result is x0 itself."""
    x0 = jnp.asarray([1.0, jnp.nan]) if fault == "nan_in_x0" else jnp.asarray([0.5, 2.0])
    fun = {"nan_everywhere": _nan_everywhere, "inf_everywhere": _inf_everywhere,
           "nan_in_x0": _quadratic}[fault]
    result = MINIMIZERS[solver](fun, x0, max_steps=3)
    np.testing.assert_array_equal(np.asarray(result.params), np.asarray(x0))
    assert int(result.num_steps) == 0 or not bool(result.success)


# ----------------------------------------------------------------------------------- dtypes
DTYPES = ["bfloat16", "float16", "float32", "float64"]


def _in_dtype(dtype):
    return {"w": jnp.asarray([3.0, -1.0, 0.5], dtype), "b": jnp.asarray(2.0, dtype)}


def _with_x64(dtype, fn):
    if dtype == "float64":
        with jax.enable_x64(True):
            return fn()
    return fn()


@pytest.mark.parametrize("name", list(TRANSFORMATIONS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_one_step_in_each_dtype_keeps_dtype_and_decreases_the_loss(name, dtype):
    def run():
        tx = TRANSFORMATIONS[name]()
        if name == "scale_by_local_entropy":
            tx = optax.chain(tx, optax.scale(-0.1))
        params = _in_dtype(dtype)
        state = tx.init(params)
        value, grads = jax.value_and_grad(_tree_loss)(params)
        updates, state = tx.update(grads, state, params, value=value, value_fn=_tree_loss)
        new = optax.apply_updates(params, updates)
        return params, new, state

    params, new, state = _with_x64(dtype, run)
    assert [x.dtype for x in jax.tree.leaves(new)] == [jnp.dtype(dtype)] * 2
    assert C.all_finite((new, state))
    # f = Σ(x − 1)² is convex: a step of any of these methods must not increase it (up to the
    # rounding of f in the dtype: a few ulps of f).
    f0, f1 = (sum(float(np.sum((np.asarray(x, np.float64) - 1.0) ** 2))
                  for x in jax.tree.leaves(tree)) for tree in (params, new))
    assert f1 <= f0 * (1 + 8 * float(jnp.finfo(dtype).eps)), (f0, f1)


@pytest.mark.parametrize("solver", list(MINIMIZERS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_minimizers_reach_the_minimiser_in_each_dtype(solver, dtype):
    """Σ(x − 1)² from x0 = (3, −1, 0.5): the minimiser is 1 in every coordinate. The solvers
    stop once ‖∇f‖ = 2‖x − 1‖ <= gtol, so ‖x − 1‖ <= gtol / 2, plus the rounding of x near 1 in
    the dtype (a few ulps)."""
    def run():
        x0 = jnp.asarray([3.0, -1.0, 0.5], dtype)
        return MINIMIZERS[solver](_quadratic, x0, max_steps=20)

    result = _with_x64(dtype, run)
    x = np.asarray(result.params, np.float64)
    assert result.params.dtype == jnp.dtype(dtype)
    eps = float(jnp.finfo(dtype).eps)
    gtol = 1e-5  # the solvers' default
    assert bool(result.converged), result
    assert np.linalg.norm(x - 1.0) <= gtol / 2 + 16 * eps, x


def test_campaign_size():
    print(f"\nfuzz methods: {len(HYPER_CASES)} bad-hyperparameter cases")
    assert len(HYPER_CASES) >= 200
