# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""The papers' networks in Flax NNX, with their parameter counts asserted.

Kohler, Adolphs & Lucchi (2019), from the authors' public code (`models.py`):

* `fc`: 784-128-10, tanh ($784\cdot128 + 128 + 128\cdot10 + 10 = 101{,}770$ parameters).
* `conv`: conv 20@5×5 → max-pool 2 → conv 50@5×5 → max-pool 2 → fc 500 → 10, ReLU, "valid"
  convolutions (the PyTorch MNIST example): $520 + 25{,}050 + 400{,}500 + 5{,}010 = 431{,}080$.
* `autoencoder`: 784-1000-500-250-30-250-500-1000-784, sigmoid hidden units, a linear 30-unit
  code and a sigmoid output (2,837,314 parameters).

Chaudhari & Soatto (2015), in the setting of the same group's Entropy-SGD paper:

* `mnistfc`: 784-1024-1024-10, ReLU (1,863,690 parameters).
* `lenet`: the Caffe LeNet (conv 20@5×5, conv 50@5×5, fc 500, ReLU; 431,080 parameters, the same
  layers as `conv`). The batch-norm and dropout of their LeNet are left out here, so that
  training stays one pure function of the parameters.

Every network is used functionally: `nnx.split` once into `(graphdef, params)` and
`nnx.merge` inside the jitted loss.

Examples:
  >>> from complexity_optax.demo.reproduce import architectures
  >>> graphdef, params = architectures.init_network("fc", seed=0)
  >>> architectures.count_params(params)
  101770
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx

__all__ = [
    "MLP",
    "NETWORKS",
    "PARAM_COUNTS",
    "Autoencoder",
    "ConvNet",
    "count_params",
    "expected_param_count",
    "init_network",
]


def _dense_count(sizes: tuple[int, ...]) -> int:
    r"""Weights and biases of a chain of dense layers: $\sum_l (n_l + 1) n_{l+1}$."""
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def _conv_count(in_hw: int = 28) -> int:
    """Parameters of the 20-50-500 ConvNet on `in_hw`×`in_hw` images (valid convs, pool 2)."""
    hw = ((in_hw - 4) // 2 - 4) // 2
    return (5 * 5 * 1 + 1) * 20 + (5 * 5 * 20 + 1) * 50 + (hw * hw * 50 + 1) * 500 + 501 * 10


FC_SIZES = (784, 128, 10)
AUTOENCODER_SIZES = (784, 1000, 500, 250, 30, 250, 500, 1000, 784)
MNISTFC_SIZES = (784, 1024, 1024, 10)

# The counts the tests assert, written out (not computed from the code they check).
PARAM_COUNTS = {
    "fc": 101_770,
    "conv": 431_080,
    "autoencoder": 2_837_314,
    "mnistfc": 1_863_690,
    "lenet": 431_080,
}


def expected_param_count(name: str) -> int:
    """The closed-form parameter count of a network on 28×28 inputs, from its layer sizes."""
    formulas: dict[str, Callable[[], int]] = {
        "fc": lambda: _dense_count(FC_SIZES),
        "conv": _conv_count,
        "lenet": _conv_count,
        "autoencoder": lambda: _dense_count(AUTOENCODER_SIZES),
        "mnistfc": lambda: _dense_count(MNISTFC_SIZES),
    }
    return formulas[name]()


class MLP(nnx.Module):
    """A fully connected network with one activation between layers (none after the last)."""

    def __init__(self, sizes: tuple[int, ...], activation: Callable[[jax.Array], jax.Array], *,
                 rngs: nnx.Rngs):
        self.layers = nnx.List(
            [nnx.Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:])])
        self.activation = activation

    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape(x.shape[0], -1)
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)


def _patches(x: jax.Array, k: int) -> jax.Array:
    """The k×k "valid" patches of NHWC images, features ordered (kh, kw, c) like an HWIO kernel.

    Built from k² shifted slices: on CPU their gradients (pads and adds) are much cheaper than
    those of `lax.conv` and `reduce_window`.
    """
    ho, wo = x.shape[1] - k + 1, x.shape[2] - k + 1
    return jnp.concatenate(
        [x[:, i:i + ho, j:j + wo, :] for i in range(k) for j in range(k)], axis=-1)


def _conv(x: jax.Array, conv: nnx.Conv) -> jax.Array:
    """The valid convolution of `conv` (same result as `conv(x)`) as patches @ kernel."""
    kernel = conv.kernel[...]
    return _patches(x, kernel.shape[0]) @ kernel.reshape(-1, kernel.shape[-1]) + conv.bias[...]


def _max_pool2(x: jax.Array) -> jax.Array:
    """2×2 max-pooling with stride 2 (NHWC, even sizes) as a reshape and a max."""
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


class ConvNet(nnx.Module):
    """conv 20@5×5 → pool → conv 50@5×5 → pool → fc 500 → 10, ReLU (NHWC input)."""

    def __init__(self, in_hw: int = 28, *, rngs: nnx.Rngs):
        hw = ((in_hw - 4) // 2 - 4) // 2
        self.conv1 = nnx.Conv(1, 20, kernel_size=(5, 5), padding="VALID", rngs=rngs)
        self.conv2 = nnx.Conv(20, 50, kernel_size=(5, 5), padding="VALID", rngs=rngs)
        self.fc1 = nnx.Linear(hw * hw * 50, 500, rngs=rngs)
        self.fc2 = nnx.Linear(500, 10, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = _max_pool2(jax.nn.relu(_conv(x, self.conv1)))
        x = _max_pool2(jax.nn.relu(_conv(x, self.conv2)))
        x = jax.nn.relu(self.fc1(x.reshape(x.shape[0], -1)))
        return self.fc2(x)


class Autoencoder(nnx.Module):
    """784-1000-500-250-30-250-500-1000-784: sigmoid hidden units, linear code, sigmoid output."""

    def __init__(self, *, rngs: nnx.Rngs):
        sizes = AUTOENCODER_SIZES
        self.layers = nnx.List(
            [nnx.Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:])])
        self.code_layer = sizes.index(30) - 1

    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape(x.shape[0], -1)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i != self.code_layer:
                x = jax.nn.sigmoid(x)
        return x


NETWORKS: dict[str, Callable[[nnx.Rngs], nnx.Module]] = {
    "fc": lambda rngs: MLP(FC_SIZES, jnp.tanh, rngs=rngs),
    "conv": lambda rngs: ConvNet(rngs=rngs),
    "autoencoder": lambda rngs: Autoencoder(rngs=rngs),
    "mnistfc": lambda rngs: MLP(MNISTFC_SIZES, jax.nn.relu, rngs=rngs),
    "lenet": lambda rngs: ConvNet(rngs=rngs),
}


def init_network(name: str, seed: int) -> tuple[nnx.GraphDef, Any]:
    """Builds network `name` from `seed`; returns `(graphdef, params)` (a pure dict).

    Raises:
      ValueError: unknown `name`, or a parameter count that differs from `PARAM_COUNTS`.
    """
    if name not in NETWORKS:
        raise ValueError(f"name must be one of {sorted(NETWORKS)}, got {name!r}")
    graphdef, state = nnx.split(NETWORKS[name](nnx.Rngs(seed)))
    params = nnx.to_pure_dict(state)
    count = count_params(params)
    if count != PARAM_COUNTS[name]:  # the authors' architecture, or nothing
        raise ValueError(f"name: {name!r} has {count} parameters, expected {PARAM_COUNTS[name]}")
    return graphdef, params


def count_params(params: Any) -> int:
    """The number of scalar parameters of a pytree."""
    return int(optax.tree.size(params))
