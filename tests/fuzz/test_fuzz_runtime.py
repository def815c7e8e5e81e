# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The outside fuzz campaign, part 2: run-time faults over every registry transformation.

For each entry of the shared registry (``complexity_optax.testing.contract.REGISTRY``), one
jitted step (cached in the contract, so that one compile serves every case) receives:

* non-finite gradients (NaN, +inf, -inf at several positions, all NaN) and losses (NaN, ±inf):
  the step is skipped (the guarded entries, or ``optax.apply_if_finite`` for the others, as the
  contract promises) and nothing non-finite reaches params or state; the next honest step runs;
* huge but finite gradients and zero gradients: finite params and state;
* a state whose int32 counters sit 2 below the int32 limit, then 5 steps: counters saturate
  (never wrap negative), params and state finite, layout unchanged;
* gradient trees that do not match the params (missing, extra or reshaped leaves): an error.

The loss-driven entries also get a ``value_fn`` that is NaN only away from the current point
(faults at trial points), one that raises, and one that returns a non-scalar. The first-order
entries get empty and unusual pytrees. Each case asserts a clear error or a finite result.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from complexity_optax.testing import contract as C

PARAMS, BATCH = C.make_problem()
INT32_MAX = 2**31 - 1
# One entry per public factory (the first registered): each costs one compile, shared by all
# of its cases; tests/test_faults.py runs the basic faults over every entry.
ENTRIES = list({e.factory: e.name for e in reversed(C.REGISTRY)}.values())[::-1]
SECOND_ORDER = ("trust_region", "cubic", "saddle_free", "entropy")


def _wrapper(entry):
    return None if entry.guards_nan_grads else "apply_if_finite"


@functools.cache
def _step(name):
    return C.jitted_step(name, _wrapper(C.ENTRIES[name]))


@functools.cache
def _warm(name):
    """(params, state) after one honest step."""
    state = C.init_state(name, PARAMS, _wrapper(C.ENTRIES[name]))
    grads, value = C.honest_inputs(PARAMS, BATCH)
    params, state, _ = _step(name)(PARAMS, state, grads, value, BATCH)
    return params, state


def _poison(tree, position, bad):
    leaves, treedef = jax.tree.flatten(tree)
    sizes = [leaf.size for leaf in leaves]
    position %= sum(sizes)
    for i, size in enumerate(sizes):
        if position < size:
            flat = leaves[i].reshape(-1).at[position].set(bad)
            leaves[i] = flat.reshape(leaves[i].shape)
            break
        position -= size
    return jax.tree.unflatten(treedef, leaves)


GRAD_FAULTS = [(f"{label}@{pos}", bad, pos) for label, bad in
               (("nan", jnp.nan), ("+inf", jnp.inf), ("-inf", -jnp.inf)) for pos in (0, 5, 13)]
GRAD_FAULTS.append(("all_nan", jnp.nan, None))
VALUE_FAULTS = [("nan", jnp.nan), ("+inf", jnp.inf), ("-inf", -jnp.inf)]


def _assert_finite_and_same_layout(params, state, like_state):
    assert C.all_finite(params), "non-finite params"
    assert C.all_finite(state), "non-finite state"
    assert C.shape_dtype_tree(state) == C.shape_dtype_tree(like_state), "state layout changed"


@pytest.mark.parametrize("name", ENTRIES)
@pytest.mark.parametrize("fault", GRAD_FAULTS, ids=[f[0] for f in GRAD_FAULTS])
def test_non_finite_gradients_are_skipped(name, fault):
    _label, bad, position = fault
    params, state = _warm(name)
    grads, value = C.honest_inputs(params, BATCH)
    grads = (jax.tree.map(lambda g: jnp.full_like(g, bad), grads) if position is None
             else _poison(grads, position, bad))
    p1, s1, _ = _step(name)(params, state, grads, value, BATCH)
    _assert_finite_and_same_layout(p1, s1, state)
    for a, b in zip(jax.tree.leaves(p1), jax.tree.leaves(params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # nothing applied
    grads, value = C.honest_inputs(p1, BATCH)
    p2, s2, _ = _step(name)(p1, s1, grads, value, BATCH)  # and the run goes on
    _assert_finite_and_same_layout(p2, s2, state)


@pytest.mark.parametrize("name", ENTRIES)
@pytest.mark.parametrize("fault", VALUE_FAULTS, ids=[f[0] for f in VALUE_FAULTS])
def test_non_finite_loss_values_leave_everything_finite(name, fault):
    params, state = _warm(name)
    grads, _ = C.honest_inputs(params, BATCH)
    p1, s1, _ = _step(name)(params, state, grads, jnp.asarray(fault[1], jnp.float32), BATCH)
    _assert_finite_and_same_layout(p1, s1, state)


@pytest.mark.parametrize("name", ENTRIES)
@pytest.mark.parametrize("scale", [1e30, 0.0], ids=["huge_grads", "zero_grads"])
def test_extreme_finite_gradients_give_finite_results(name, scale):
    params, state = _warm(name)
    grads, value = C.honest_inputs(params, BATCH)
    grads = jax.tree.map(lambda g: g * scale, grads)
    p1, s1, _ = _step(name)(params, state, grads, value, BATCH)
    _assert_finite_and_same_layout(p1, s1, state)


def _near_int32_limit(state):
    """Every int32 scalar counter of ``state`` set to 2³¹ − 3."""
    def leaf(x):
        if hasattr(x, "dtype") and x.dtype == jnp.int32 and x.shape == ():
            return jnp.asarray(INT32_MAX - 2, jnp.int32)
        return x
    return jax.tree.map(leaf, state)


@pytest.mark.parametrize("name", ENTRIES)
def test_long_run_at_the_int32_limit(name):
    params, state = _warm(name)
    state = _near_int32_limit(state)
    like = state
    for _ in range(5):
        grads, value = C.honest_inputs(params, BATCH)
        params, state, _ = _step(name)(params, state, grads, value, BATCH)
    _assert_finite_and_same_layout(params, state, like)
    counters = [int(x) for x in jax.tree.leaves(state)
                if hasattr(x, "dtype") and x.dtype == jnp.int32 and x.shape == ()]
    assert all(c >= 0 for c in counters), f"an int32 counter wrapped: {counters}"


TREE_MISMATCHES = {
    "missing_leaf": lambda g: {"kernel": g["kernel"]},
    "extra_leaf": lambda g: {**g, "extra": jnp.ones(2)},
    "reshaped_leaf": lambda g: {**g, "bias": jnp.ones(2)},
    "list_for_dict": lambda g: [g["kernel"], g["bias"]],
}


@pytest.mark.parametrize("name", ENTRIES)
@pytest.mark.parametrize("mismatch", list(TREE_MISMATCHES))
def test_gradient_tree_mismatch_is_an_error(name, mismatch):
    """An error; or, for a transformation that recomputes the gradient from ``value_fn`` and so
    never reads the incoming one, a finite step in the params' structure."""
    params, state = _warm(name)
    grads, value = C.honest_inputs(params, BATCH)
    try:
        p1, s1, _ = _step(name)(params, state, TREE_MISMATCHES[mismatch](grads), value, BATCH)
    except (ValueError, TypeError):
        return
    assert "value_fn" in C.ENTRIES[name].extra_args, "a mismatched gradient tree was accepted"
    assert jax.tree.structure(p1) == jax.tree.structure(params)
    _assert_finite_and_same_layout(p1, s1, state)


# ---------------------------------------------------------------------- loss-function faults
VALUE_FN_ENTRIES = [name for name in ENTRIES if "value_fn" in C.ENTRIES[name].extra_args]


def _trial_point_fault(center):
    """The loss, but NaN anywhere except at ``center`` (a fault only at trial points)."""
    def value_fn(params, batch):
        at_center = jnp.all(jnp.stack([jnp.all(p == c) for p, c in zip(
            jax.tree.leaves(params), jax.tree.leaves(center))]))
        return jnp.where(at_center, C.loss_fn(params, batch), jnp.nan)
    return value_fn


def _raising(params, batch):
    raise RuntimeError("value_fn: the data loader failed")


def _non_scalar(params, batch):
    return jnp.ones(3) * C.loss_fn(params, batch)


def _run_with_value_fn(name, value_fn):
    entry = C.ENTRIES[name]
    tx = C.wrap(entry, None)
    params, _ = _warm(name)
    state = tx.init(params)
    grads, value = C.honest_inputs(params, BATCH)
    kwargs = C.update_kwargs(entry, value, BATCH)
    kwargs["value_fn"] = value_fn
    updates, state1 = jax.jit(lambda g, s, p: tx.update(g, s, p, **kwargs))(grads, state, params)
    return params, state, optax.apply_updates(params, updates), state1


@pytest.mark.parametrize("name", VALUE_FN_ENTRIES)
def test_loss_faults_only_at_trial_points_leave_everything_finite(name):
    params, _ = _warm(name)
    _p0, s0, p1, s1 = _run_with_value_fn(name, _trial_point_fault(params))
    _assert_finite_and_same_layout(p1, s1, s0)


@pytest.mark.parametrize("name", VALUE_FN_ENTRIES)
def test_value_fn_that_raises_propagates_its_error(name):
    with pytest.raises(RuntimeError, match="data loader failed"):
        _run_with_value_fn(name, _raising)


@pytest.mark.parametrize("name", VALUE_FN_ENTRIES)
def test_value_fn_returning_a_non_scalar_is_an_error(name):
    with pytest.raises((ValueError, TypeError)):
        _run_with_value_fn(name, _non_scalar)


# --------------------------------------------------------------------------- unusual pytrees
FIRST_ORDER = [name for name in ENTRIES if not name.startswith(SECOND_ORDER)]
UNUSUAL_TREES = {
    "empty_dict": {},
    "scalar_and_nested": {"a": jnp.asarray(0.5), "b": (jnp.asarray([1.0, -2.0]),
                                                       [jnp.ones((1, 2))])},
    # round three: size-0 leaves (an empty layer), alone or next to normal ones
    "size0_leaf": {"a": jnp.zeros((0,))},
    "size0_and_normal": {"a": jnp.zeros((0, 3)), "b": jnp.asarray([1.0, -2.0])},
}


def _tree_loss(params, batch=None):
    return sum(jnp.sum(x ** 2) for x in jax.tree.leaves(params)) + 0.0


@pytest.mark.parametrize("name", FIRST_ORDER)
@pytest.mark.parametrize("tree", list(UNUSUAL_TREES))
def test_unusual_pytrees(name, tree):
    entry = C.ENTRIES[name]
    tx = entry.optimizer()
    params = UNUSUAL_TREES[tree]
    state = tx.init(params)
    grads = jax.grad(_tree_loss)(params)
    kwargs = {"value": _tree_loss(params)} if "value" in entry.extra_args else {}
    if "value_fn" in entry.extra_args:
        kwargs["value_fn"] = _tree_loss
    updates, new_state = tx.update(grads, state, params, **kwargs)
    assert jax.tree.structure(updates) == jax.tree.structure(params)
    new_params = optax.apply_updates(params, updates)
    _assert_finite_and_same_layout(new_params, new_state, state)
