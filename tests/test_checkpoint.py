# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Every registry entry's state round-trips mid-run through orbax, and a resumed run is
bit-identical to an uninterrupted one (PRNG keys, counters, smoother state, radius included).

PRNG keys: the registry uses new-style typed keys (``jax.random.key``). Orbax stores arrays, so
keys are saved as ``jax.random.key_data`` (uint32) and rebuilt with ``jax.random.wrap_key_data``
using the implementation of the key in the original state.
"""

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from complexity_optax.testing import contract as C

PARAMS, BATCH = C.make_problem()


def _to_storable(tree):
    return C.keys_as_data(tree)


def _from_storable(restored, like):
    def leaf(x, ref):
        if C.is_key(ref):
            return jax.random.wrap_key_data(x, impl=jax.random.key_impl(ref))
        return x

    return jax.tree.map(leaf, restored, like)


def _save_and_restore(path, params, state):
    """Saves (params, state), then restores them into a fresh object (the abstract target)."""
    storable = _to_storable({"params": params, "state": state})
    leaves, treedef = jax.tree.flatten(storable)
    stored = {str(i): x for i, x in enumerate(leaves)}
    with ocp.StandardCheckpointer() as checkpointer:
        checkpointer.save(path, stored)
        checkpointer.wait_until_finished()
        abstract = {k: jax.ShapeDtypeStruct(np.shape(x), x.dtype) for k, x in stored.items()}
        restored = checkpointer.restore(path, abstract)
    leaves = [restored[str(i)] for i in range(len(leaves))]
    tree = jax.tree.unflatten(treedef, leaves)
    tree = _from_storable(tree, {"params": params, "state": state})
    return tree["params"], tree["state"]


def _assert_bit_identical(a, b):
    a, b = C.keys_as_data(a), C.keys_as_data(b)
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize("name", C.tiered([e.name for e in C.REGISTRY]))
def test_resumed_run_is_bit_identical(name, tmp_path):
    params, state = C.run(name, PARAMS, BATCH, 3)
    r_params, r_state = _save_and_restore(tmp_path / "ckpt", params, state)
    _assert_bit_identical((r_params, r_state), (params, state))
    resumed = C.run(name, r_params, BATCH, 3, state=r_state)
    uninterrupted = C.run(name, PARAMS, BATCH, 6)
    _assert_bit_identical(resumed, uninterrupted)
