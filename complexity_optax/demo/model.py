# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The demo's model: one small Flax NNX multilayer perceptron, the same for every method.

64 inputs -> 64 tanh units -> 10 logits (4810 parameters). The loss is the mean softmax
cross-entropy. Training is functional: the model is `nnx.split` once into a graph definition
and a pure dict of arrays, and every jitted function works on that dict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx

Params = Any


class MLP(nnx.Module):
    """A one-hidden-layer tanh perceptron: logits = W₂ tanh(W₁x + b₁) + b₂.

    Examples:
      >>> from flax import nnx
      >>> import jax.numpy as jnp
      >>> MLP(rngs=nnx.Rngs(0))(jnp.zeros((3, 64))).shape
      (3, 10)
    """

    def __init__(
        self,
        in_features: int = 64,
        hidden_features: int = 64,
        out_features: int = 10,
        *,
        rngs: nnx.Rngs,
    ):
        self.hidden = nnx.Linear(in_features, hidden_features, rngs=rngs)
        self.out = nnx.Linear(hidden_features, out_features, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.out(jnp.tanh(self.hidden(x)))


def init_model(seed: int) -> tuple[nnx.GraphDef, Params]:
    """Builds the MLP from `seed` and splits it once into `(graphdef, params)`.

    `params` is a pure dict of arrays (`nnx.to_pure_dict`), which `nnx.merge` accepts back.
    """
    graphdef, state = nnx.split(MLP(rngs=nnx.Rngs(seed)))
    return graphdef, nnx.to_pure_dict(state)


def num_params(params: Params) -> int:
    """The number of scalar parameters: 64·64 + 64 + 64·10 + 10 = 4810 for the default MLP.

    Examples:
      >>> num_params(init_model(0)[1])
      4810
    """
    return int(optax.tree.size(params))


def make_loss_fn(graphdef: nnx.GraphDef) -> Callable[[Params, jax.Array, jax.Array], jax.Array]:
    """Returns `loss(params, x, y)`, the mean softmax cross-entropy of the model on a batch.

    loss = −(1/B) Σ_b log softmax(f_θ(x_b))_{y_b}.

    Examples:
      >>> import jax.numpy as jnp
      >>> graphdef, params = init_model(0)
      >>> zero = {k: {n: 0.0 * v for n, v in layer.items()} for k, layer in params.items()}
      >>> loss = make_loss_fn(graphdef)(zero, jnp.ones((2, 64)), jnp.array([3, 7]))
      >>> round(float(loss), 4)  # uniform logits: log(10)
      2.3026
    """

    def loss_fn(params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
        logits = nnx.merge(graphdef, params)(x)
        return optax.losses.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    return loss_fn


def make_accuracy_fn(graphdef: nnx.GraphDef) -> Callable[[Params, jax.Array, jax.Array], jax.Array]:
    """Returns `accuracy(params, x, y)`, the share of correctly classified examples."""

    def accuracy_fn(params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
        logits = nnx.merge(graphdef, params)(x)
        return jnp.mean(jnp.argmax(logits, axis=-1) == y)

    return accuracy_fn
