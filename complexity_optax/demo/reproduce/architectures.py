# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""The papers' networks in Flax NNX, with their parameter counts asserted.

Kohler, Adolphs & Lucchi (2019), from the authors' public code (`models.py`):

* `fc`: 784-128-10, tanh ($784\cdot128 + 128 + 128\cdot10 + 10 = 101{,}770$ parameters).
* `conv`: conv 20@5×5 → max-pool 2 → conv 50@5×5 → max-pool 2 → fc 500 → 10, ReLU, "valid"
  convolutions (the PyTorch MNIST example): $520 + 25{,}050 + 400{,}500 + 5{,}010 = 431{,}080$.
* `autoencoder`: 784-1000-500-250-30-250-500-1000-784, sigmoid hidden units, a linear 30-unit
  code and a sigmoid output (2,837,314 parameters).
* `cifar_autoencoder`: the same layers on flattened 32×32×3 CIFAR-10 images,
  3072-1000-500-250-30-250-500-1000-3072 (7,415,602 parameters). **An assumption, not a
  verified architecture**: the README figure's CIFAR-10 row has an autoencoder panel, but the
  authors' code (@ c4743c5) defines only `MNISTAutoencoder`, `load_model("autoencoder",
  "cifar-10")` raises `NotImplementedError`, and there are autoencoder configs for MNIST and
  Fashion-MNIST only (so that panel may well be the MNIST autoencoder). Its `load_cifar_data`
  does flatten CIFAR-10 to 3,072 inputs for `model_name == "autoencoder"`, hence this choice:
  the authors' autoencoder with a 3,072-unit input and output layer. The paper's appendix
  table could not be read to confirm the sizes.

ResNet18 (He et al. 2016) for CIFAR-10-scale experiments (it is not in the authors' code), in
the usual CIFAR variant (as in kuangliu/pytorch-cifar): a 3×3 stride-1 stem with 64 channels
and no max-pool (the ImageNet 7×7 stride-2 stem and pool would shrink a 32×32 image
to 8×8 before the first block), four stages of two basic blocks (64, 128, 256, 512 channels,
stride 2 from the second stage on, 1×1 convolution + batch-norm shortcuts where the shape
changes), global average pooling and a linear classifier; convolutions without bias, every one
followed by batch-norm (PyTorch's momentum 0.1 = Flax's 0.9, epsilon 1e-5).

* `resnet18`: 3 input channels, 10 classes: 11,173,962 parameters (batch-norm scale and bias
  counted; the running means and variances are `nnx.BatchStat`, not parameters).
* `resnet18_mnist`: the same on 1-channel 28×28 images (MNIST, Fashion-MNIST); only the stem
  changes: 11,173,962 − 2·64·3·3 = 11,172,810 parameters. Its feature maps are 28, 14, 7, 4.

The ResNets carry batch statistics, so they are built with `init_bn_network` (parameters and
batch statistics apart) and applied with `apply_bn_network`, not through `NETWORKS`.

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
    "BN_NETWORKS",
    "MLP",
    "NETWORKS",
    "PARAM_COUNTS",
    "Autoencoder",
    "BasicBlock",
    "ConvNet",
    "ResNet18",
    "apply_bn_network",
    "count_params",
    "expected_param_count",
    "init_bn_network",
    "init_network",
]


def _dense_count(sizes: tuple[int, ...]) -> int:
    r"""Weights and biases of a chain of dense layers: $\sum_l (n_l + 1) n_{l+1}$."""
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))


def _conv_count(in_hw: int = 28) -> int:
    """Parameters of the 20-50-500 ConvNet on `in_hw`×`in_hw` images (valid convs, pool 2)."""
    hw = ((in_hw - 4) // 2 - 4) // 2
    return (5 * 5 * 1 + 1) * 20 + (5 * 5 * 20 + 1) * 50 + (hw * hw * 50 + 1) * 500 + 501 * 10


def _resnet18_count(in_channels: int = 3, num_classes: int = 10) -> int:
    r"""Parameters of the CIFAR ResNet18: bias-free 3×3 convolutions ($9 c_{in} c_{out}$), two
    per basic block, a 1×1 shortcut ($c_{in} c_{out}$) where the shape changes, batch-norm scale
    and bias ($2c$) after every convolution, and the $(512 + 1) k$ classifier."""
    count = 9 * in_channels * 64 + 2 * 64  # stem
    c_in = 64
    for c_out, stride in RESNET18_STAGES:
        for block in range(2):
            s = stride if block == 0 else 1
            count += 9 * c_in * c_out + 9 * c_out * c_out + 2 * (2 * c_out)
            if s != 1 or c_in != c_out:
                count += c_in * c_out + 2 * c_out
            c_in = c_out
    return count + (c_in + 1) * num_classes


FC_SIZES = (784, 128, 10)
AUTOENCODER_SIZES = (784, 1000, 500, 250, 30, 250, 500, 1000, 784)
CIFAR_AUTOENCODER_SIZES = (3072, 1000, 500, 250, 30, 250, 500, 1000, 3072)
MNISTFC_SIZES = (784, 1024, 1024, 10)
RESNET18_STAGES = ((64, 1), (128, 2), (256, 2), (512, 2))  # (channels, first stride)

# The counts the tests assert, written out (not computed from the code they check).
PARAM_COUNTS = {
    "fc": 101_770,
    "conv": 431_080,
    "autoencoder": 2_837_314,
    "mnistfc": 1_863_690,
    "lenet": 431_080,
    "cifar_autoencoder": 7_415_602,
    "resnet18": 11_173_962,
    "resnet18_mnist": 11_172_810,
}


def expected_param_count(name: str) -> int:
    """The closed-form parameter count of a network, from its layer sizes."""
    formulas: dict[str, Callable[[], int]] = {
        "fc": lambda: _dense_count(FC_SIZES),
        "conv": _conv_count,
        "lenet": _conv_count,
        "autoencoder": lambda: _dense_count(AUTOENCODER_SIZES),
        "mnistfc": lambda: _dense_count(MNISTFC_SIZES),
        "cifar_autoencoder": lambda: _dense_count(CIFAR_AUTOENCODER_SIZES),
        "resnet18": _resnet18_count,
        "resnet18_mnist": lambda: _resnet18_count(in_channels=1),
    }
    return formulas[name]()


class MLP(nnx.Module):
    """A fully connected network with one activation between layers (none after the last)."""

    def __init__(self, sizes: tuple[int, ...], activation: Callable[[jax.Array], jax.Array], *,
                 rngs: nnx.Rngs):
        self.layers = nnx.List(
            [nnx.Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:], strict=False)])
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
    """784-1000-500-250-30-250-500-1000-784 (or `sizes`): sigmoid hidden units, linear code (the
    narrowest layer), sigmoid output. Inputs are flattened; the output is `[n, sizes[-1]]`."""

    def __init__(self, sizes: tuple[int, ...] = AUTOENCODER_SIZES, *, rngs: nnx.Rngs):
        self.layers = nnx.List(
            [nnx.Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:], strict=False)])
        self.code_layer = sizes.index(min(sizes)) - 1

    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape(x.shape[0], -1)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i != self.code_layer:
                x = jax.nn.sigmoid(x)
        return x


_CONV_INIT = nnx.initializers.variance_scaling(2.0, "fan_out", "normal")  # He, as torchvision


def _conv3x3(c_in: int, c_out: int, stride: int, rngs: nnx.Rngs) -> nnx.Conv:
    """3×3, padding 1 on every side (PyTorch's; "SAME" would pad (0, 1) at stride 2), no bias."""
    return nnx.Conv(c_in, c_out, kernel_size=(3, 3), strides=(stride, stride),
                    padding=((1, 1), (1, 1)), use_bias=False, kernel_init=_CONV_INIT, rngs=rngs)


def _batch_norm(c: int, rngs: nnx.Rngs) -> nnx.BatchNorm:
    return nnx.BatchNorm(c, momentum=0.9, epsilon=1e-5, rngs=rngs)


class BasicBlock(nnx.Module):
    """conv3×3-BN-ReLU-conv3×3-BN plus the shortcut, then ReLU (He et al. 2016, Fig. 2)."""

    def __init__(self, c_in: int, c_out: int, stride: int, *, rngs: nnx.Rngs):
        self.conv1 = _conv3x3(c_in, c_out, stride, rngs)
        self.bn1 = _batch_norm(c_out, rngs)
        self.conv2 = _conv3x3(c_out, c_out, 1, rngs)
        self.bn2 = _batch_norm(c_out, rngs)
        if stride != 1 or c_in != c_out:  # projection shortcut (option B)
            self.shortcut_conv = nnx.Conv(c_in, c_out, kernel_size=(1, 1),
                                          strides=(stride, stride), padding="VALID",
                                          use_bias=False, kernel_init=_CONV_INIT, rngs=rngs)
            self.shortcut_bn = _batch_norm(c_out, rngs)
        else:
            self.shortcut_conv = None
            self.shortcut_bn = None

    def __call__(self, x: jax.Array, *, train: bool = True) -> jax.Array:
        avg = not train
        out = jax.nn.relu(self.bn1(self.conv1(x), use_running_average=avg))
        out = self.bn2(self.conv2(out), use_running_average=avg)
        if self.shortcut_conv is not None:
            x = self.shortcut_bn(self.shortcut_conv(x), use_running_average=avg)
        return jax.nn.relu(out + x)


class ResNet18(nnx.Module):
    """The CIFAR ResNet18: 3×3 stem, no max-pool, 4×2 basic blocks, average pool, linear.

    `train=True` normalises with the batch's statistics (and updates the running averages, the
    `nnx.BatchStat` variables); `train=False` uses the running averages.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, *, rngs: nnx.Rngs):
        self.stem = _conv3x3(in_channels, 64, 1, rngs)
        self.stem_bn = _batch_norm(64, rngs)
        blocks, c_in = [], 64
        for c_out, stride in RESNET18_STAGES:
            blocks += [BasicBlock(c_in, c_out, stride, rngs=rngs),
                       BasicBlock(c_out, c_out, 1, rngs=rngs)]
            c_in = c_out
        self.blocks = nnx.List(blocks)
        self.fc = nnx.Linear(c_in, num_classes, rngs=rngs)

    def __call__(self, x: jax.Array, *, train: bool = True) -> jax.Array:
        x = jax.nn.relu(self.stem_bn(self.stem(x), use_running_average=not train))
        for block in self.blocks:
            x = block(x, train=train)
        return self.fc(x.mean(axis=(1, 2)))


BN_NETWORKS: dict[str, Callable[[nnx.Rngs], nnx.Module]] = {
    "resnet18": lambda rngs: ResNet18(3, 10, rngs=rngs),
    "resnet18_mnist": lambda rngs: ResNet18(1, 10, rngs=rngs),
}


def init_bn_network(name: str, seed: int) -> tuple[nnx.GraphDef, Any, Any]:
    """Builds batch-norm network `name` from `seed`: `(graphdef, params, batch_stats)`, both
    pure dicts (`nnx.Param` and `nnx.BatchStat` apart, so optimizers see only the parameters).

    Raises:
      ValueError: unknown `name`, or a parameter count that differs from `PARAM_COUNTS`.
    """
    if name not in BN_NETWORKS:
        raise ValueError(f"name must be one of {sorted(BN_NETWORKS)}, got {name!r}")
    graphdef, params, stats = nnx.split(BN_NETWORKS[name](nnx.Rngs(seed)), nnx.Param,
                                        nnx.BatchStat)
    params, stats = nnx.to_pure_dict(params), nnx.to_pure_dict(stats)
    count = count_params(params)
    if count != PARAM_COUNTS[name]:
        raise ValueError(f"name: {name!r} has {count} parameters, expected {PARAM_COUNTS[name]}")
    return graphdef, params, stats


def apply_bn_network(graphdef: nnx.GraphDef, params: Any, batch_stats: Any, x: jax.Array, *,
                     train: bool = True) -> tuple[jax.Array, Any]:
    """`(outputs, new_batch_stats)`: a pure function of `params` (jit/grad/jvp-able).

    With `train=True` the outputs use the batch's statistics (so, for a fixed batch, the loss is
    a deterministic function of the parameters, as Hessian-vector products need) and
    `new_batch_stats` holds the updated running averages; with `train=False` they are unchanged.
    """
    model = nnx.merge(graphdef, params, batch_stats)
    out = model(x, train=train)
    return out, nnx.to_pure_dict(nnx.state(model, nnx.BatchStat))


NETWORKS: dict[str, Callable[[nnx.Rngs], nnx.Module]] = {
    "fc": lambda rngs: MLP(FC_SIZES, jnp.tanh, rngs=rngs),
    "conv": lambda rngs: ConvNet(rngs=rngs),
    "autoencoder": lambda rngs: Autoencoder(rngs=rngs),
    "mnistfc": lambda rngs: MLP(MNISTFC_SIZES, jax.nn.relu, rngs=rngs),
    "lenet": lambda rngs: ConvNet(rngs=rngs),
    "cifar_autoencoder": lambda rngs: Autoencoder(CIFAR_AUTOENCODER_SIZES, rngs=rngs),
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
