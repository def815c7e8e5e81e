# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The papers' larger networks: the CIFAR ResNet18 (3- and 1-channel) and the CIFAR-10
autoencoder. Counts come from shapes only (`nnx.eval_shape`); one small forward pass each."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from complexity_optax.demo.reproduce import architectures

BUILDERS = {**architectures.NETWORKS, **architectures.BN_NETWORKS}


def _abstract(name):
    return nnx.eval_shape(lambda: BUILDERS[name](nnx.Rngs(0)))


def _count(model, kind):
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(nnx.state(model, kind)))


@pytest.mark.parametrize("name, count", [
    # The standard 10-class CIFAR ResNet18 (kuangliu/pytorch-cifar), BN scale/bias counted.
    ("resnet18", 11_173_962),
    # Only the stem differs: 11,173,962 - 2·(64·3·3) for 1 input channel instead of 3.
    ("resnet18_mnist", 11_172_810),
    # 3072-1000-500-250-30-250-500-1000-3072: sum of (n_l + 1)·n_{l+1}.
    ("cifar_autoencoder", 7_415_602),
])
def test_parameter_counts(name, count):
    model = _abstract(name)
    assert _count(model, nnx.Param) == count
    assert architectures.PARAM_COUNTS[name] == count
    assert architectures.expected_param_count(name) == count


def test_resnet18_batch_stats_are_not_parameters():
    model = _abstract("resnet18")
    # 20 batch-norms (stem, 16 in the blocks, 3 shortcuts) over 4,800 channels: a mean and a
    # variance per channel, as many as the scales and biases.
    bns = [m for _, m in nnx.iter_graph(model) if isinstance(m, nnx.BatchNorm)]
    assert len(bns) == 20 and sum(bn.num_features for bn in bns) == 4_800
    assert _count(model, nnx.BatchStat) == 9_600
    assert sum(isinstance(b.shortcut_conv, nnx.Conv) for b in model.blocks) == 3
    assert model.fc.in_features == 512


def test_resnet18_mnist_shapes_from_abstract_evaluation():
    """28×28×1 inputs: feature maps 28, 14, 7, 4 (PyTorch's padding 1), logits [n, 10]."""
    graphdef, params, stats = nnx.split(_abstract("resnet18_mnist"), nnx.Param, nnx.BatchStat)
    x = jax.ShapeDtypeStruct((2, 28, 28, 1), jnp.float32)
    out, new_stats = jax.eval_shape(
        lambda p, s, x: architectures.apply_bn_network(graphdef, p, s, x),
        nnx.to_pure_dict(params), nnx.to_pure_dict(stats), x)
    assert out.shape == (2, 10)
    assert jax.tree.structure(new_stats) == jax.tree.structure(nnx.to_pure_dict(stats))

    def last_block_input(p, s, x):
        model = nnx.merge(graphdef, p, s)
        h = model.stem(x)
        for block in model.blocks[:-1]:
            h = block(h)
        return h

    assert jax.eval_shape(last_block_input, nnx.to_pure_dict(params), nnx.to_pure_dict(stats),
                          x).shape == (2, 4, 4, 512)


def test_resnet18_forward_and_running_statistics():
    """One jitted train-mode forward on 2 CIFAR-sized images (the only real ResNet18 run)."""
    graphdef, params, stats = architectures.init_bn_network("resnet18", seed=0)
    x = jax.random.uniform(jax.random.key(1), (2, 32, 32, 3))
    out, new_stats = jax.jit(
        lambda p, s, x: architectures.apply_bn_network(graphdef, p, s, x))(params, stats, x)
    assert out.shape == (2, 10) and out.dtype == jnp.float32
    assert bool(jnp.all(jnp.isfinite(out)))
    # PyTorch's momentum 0.1: running mean = 0.9·0 + 0.1·(batch mean of the stem's output),
    # running var = 0.9·1 + 0.1·(batch variance).
    stem = nnx.merge(graphdef, params, stats).stem(x)
    np.testing.assert_allclose(new_stats["stem_bn"]["mean"], 0.1 * stem.mean(axis=(0, 1, 2)),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(new_stats["stem_bn"]["var"], 0.9 + 0.1 * stem.var(axis=(0, 1, 2)),
                               rtol=1e-4)
    np.testing.assert_array_equal(stats["stem_bn"]["mean"], 0.0)  # the input is not modified


def test_cifar_autoencoder_forward():
    graphdef, params = architectures.init_network("cifar_autoencoder", seed=0)
    x = jax.random.uniform(jax.random.key(2), (2, 32, 32, 3))
    out = nnx.merge(graphdef, params)(x)
    assert out.shape == (2, 3072)
    assert bool(jnp.all((out > 0) & (out < 1)))  # sigmoid output, compared with the pixels
    model = nnx.merge(graphdef, params)
    assert model.code_layer == 3 and model.layers[3].out_features == 30  # linear 30-unit code


def test_init_bn_network_rejects_unknown_name():
    with pytest.raises(ValueError, match="^name"):
        architectures.init_bn_network("resnet50", 0)
