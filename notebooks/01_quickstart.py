# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # complexity_optax in five minutes
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/complexity-optax/complexity_optax/blob/main/notebooks/01_quickstart.ipynb)
#
# Every method of the library is an optax `GradientTransformation`, so it chains with the rest of
# optax and plugs into a plain optax loop or a Flax NNX `nnx.Optimizer`. This notebook defines a
# small 64-64-10 tanh MLP on scikit-learn's handwritten digits and trains it
#
# 1. with the ready-made `complexity_sgd` (complexity gradient descent, matched annealing), in a
#    functional optax loop that passes the mini-batch loss as `value=`;
# 2. with a hand-built chain (AnnealSGD field + annealed weight decay + SGD) in an NNX loop, reading
#    the λ trajectory and the field alignment from the optimizer state;
# 3. with the stochastic ellipsoidal trust region, which needs the mini-batch loss *function*
#    (`value_fn=`) for its Hessian-vector products.
#
# Everything is written out here: the model, the loss and the loops (nothing comes from the demo).

# %%
# Installs the package when running in Colab; does nothing anywhere else.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q",
         "complexity-optax[demo] @ git+https://github.com/complexity-optax/complexity_optax"],
        check=True,
    )

# %%
import os

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

# COMPLEXITY_OPTAX_QUICK=1: tiny runs (the test suite). COMPLEXITY_OPTAX_FIGDIR: save the figures.
QUICK = os.environ.get("COMPLEXITY_OPTAX_QUICK", "0") == "1"
FIGDIR = os.environ.get("COMPLEXITY_OPTAX_FIGDIR")


def save(fig, name):
    """Saves `fig` as `FIGDIR/name` if COMPLEXITY_OPTAX_FIGDIR is set."""
    if FIGDIR:
        os.makedirs(FIGDIR, exist_ok=True)
        fig.savefig(os.path.join(FIGDIR, name), dpi=110, bbox_inches="tight")


print("quick mode" if QUICK else "full mode")

# %% [markdown]
# ## The data and the model
#
# `complexity_optax.datasets.load_digits()` gives a stratified split of the 8×8 digits as images in
# [0, 1]; we flatten them and standardize every pixel with the training mean and spread. The model
# is a one-hidden-layer perceptron, logits = W₂ tanh(W₁x + b₁) + b₂, split once into a graph
# definition and a pure dict of parameters, so that the loss is a pure function of that dict.

# %%

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import complexity_optax as co
from complexity_optax import datasets

data = datasets.load_digits()
x_train, x_test = data.flat()
mean, spread = x_train.mean(axis=0), x_train.std(axis=0)
spread = np.where(spread > 0, spread, 1.0)  # the always-blank border pixels
x_train, x_test = (jnp.asarray((x - mean) / spread, jnp.float32) for x in (x_train, x_test))
y_train, y_test = jnp.asarray(data.y_train), jnp.asarray(data.y_test)


class MLP(nnx.Module):
    def __init__(self, rngs: nnx.Rngs, features: int = 64, hidden: int = 64, classes: int = 10):
        self.hidden = nnx.Linear(features, hidden, rngs=rngs)
        self.out = nnx.Linear(hidden, classes, rngs=rngs)

    def __call__(self, x):
        return self.out(jnp.tanh(self.hidden(x)))


graphdef, _ = nnx.split(MLP(nnx.Rngs(0)))


def init_params(seed):
    return nnx.to_pure_dict(nnx.split(MLP(nnx.Rngs(seed)))[1])


def loss_fn(params, x, y):
    logits = nnx.merge(graphdef, params)(x)
    return optax.losses.softmax_cross_entropy_with_integer_labels(logits, y).mean()


@jax.jit
def accuracy_fn(params, x, y):
    return jnp.mean(jnp.argmax(nnx.merge(graphdef, params)(x), axis=-1) == y)


def epoch_batches(n, batch_size, seed, epoch):
    """The indices of one epoch's shuffled mini-batches (the last partial batch dropped)."""
    order = np.random.default_rng([seed, epoch]).permutation(n)
    steps = n // batch_size
    return order[: steps * batch_size].reshape(steps, batch_size)


EPOCHS = 1 if QUICK else 15
BATCH = 128
NUM_PARAMS = int(optax.tree.size(init_params(0)))
print(f"{x_train.shape[0]} training and {x_test.shape[0]} test digits, {NUM_PARAMS} parameters")

# %% [markdown]
# ## 1. A functional optax loop
#
# `complexity_sgd(lr, strength=matched_annealing(λ₀))` anneals the strength λ of the penalty
# λ‖θ‖² with the loss ratio L_i/L_0 and projects the weights back onto the sphere through the
# initial parameters after every step. Matched annealing needs the mini-batch loss: pass it as
# `value=` to `update`.

# %%
params = init_params(0)
radius = float(optax.tree.norm(params))  # the sphere through the initialization
tx = co.complexity_sgd(1.0, strength=co.matched_annealing(1e-2))
opt_state = tx.init(params)


@jax.jit
def train_step(params, opt_state, xb, yb):
    value, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
    updates, opt_state = tx.update(grads, opt_state, params, value=value)
    return optax.apply_updates(params, updates), opt_state, value


history = []
for epoch in range(EPOCHS):
    for idx in epoch_batches(len(x_train), BATCH, seed=0, epoch=epoch):
        params, opt_state, value = train_step(params, opt_state, x_train[idx], y_train[idx])
        history.append((float(value), float(optax.tree.get(opt_state, "strength"))))
    print(f"epoch {epoch + 1}: train loss {float(loss_fn(params, x_train, y_train)):.4f}, "
          f"test accuracy {float(accuracy_fn(params, x_test, y_test)):.3f}, "
          f"|θ| = {float(optax.tree.norm(params)):.3f} (radius {radius:.3f})")

# %%
losses, strengths = np.array(history).T
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.5))
ax0.plot(losses, lw=0.8)
ax0.set(xlabel="step", ylabel="mini-batch loss", yscale="log", title="complexity GD (matched)")
ax1.plot(strengths, lw=1.2, color="C3")
ax1.set(xlabel="step", ylabel="λ", title="λ follows the smoothed loss ratio")
fig.tight_layout()
save(fig, "01_optax_loop.png")
plt.show()

# %% [markdown]
# ## 2. A hand-built chain in an NNX loop
#
# The pieces compose like any optax transformation. Here: the AnnealSGD field γ(t)·h (drawn once,
# its strength relative to the gradient annealed linearly to zero over half the run), then the
# annealed weight decay 2λθ with a matched schedule, then plain SGD.
# `nnx.Optimizer(model, tx, wrt=nnx.Param).update(model, grads, value=loss)` forwards the extra
# keyword argument to the chain; every link ignores what it does not need. The λ trajectory sits in
# the state (`optax.tree.get(opt_state, "strength")`) and `field_alignment` reads the field from it.

# %%
model = MLP(nnx.Rngs(0))
steps_per_epoch = len(x_train) // BATCH
tx = optax.chain(
    co.add_annealed_field(optax.linear_schedule(0.5, 0.0, max(EPOCHS * steps_per_epoch // 2, 1)),
                          key=jax.random.key(1)),
    co.complexity_weight_decay(co.matched_annealing(1e-3)),
    optax.sgd(0.3),
)
optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)


@nnx.jit
def nnx_step(model, optimizer, xb, yb):
    def loss(model):
        logits = model(xb)
        return optax.losses.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    value, grads = nnx.value_and_grad(loss)(model)
    optimizer.update(model, grads, value=value)
    return value


trace = []
for epoch in range(EPOCHS):
    for idx in epoch_batches(len(x_train), BATCH, seed=0, epoch=epoch):
        value = nnx_step(model, optimizer, x_train[idx], y_train[idx])
        strength = optax.tree.get(optimizer.opt_state, "strength")
        alignment = co.field_alignment(nnx.state(model, nnx.Param), optimizer.opt_state)
        trace.append((float(value), float(strength[...]), float(alignment)))
nnx_accuracy = float(jnp.mean(jnp.argmax(model(x_test), -1) == y_test))
print(f"NNX loop: final mini-batch loss {trace[-1][0]:.4f}, test accuracy {nnx_accuracy:.3f}")

# %%
values, strengths, alignments = np.array(trace).T
fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
axes[0].plot(values, lw=0.8)
axes[0].set(xlabel="step", ylabel="mini-batch loss", yscale="log", title="NNX loop")
axes[1].plot(strengths, color="C3")
axes[1].set(xlabel="step", ylabel="λ", title="annealed weight decay")
axes[2].plot(alignments, color="C2")
axes[2].set(xlabel="step", ylabel="|hᵀθ| / (|h| |θ|)", title="alignment with the field")
fig.tight_layout()
save(fig, "01_nnx_loop.png")
plt.show()

# %% [markdown]
# ## 3. The ellipsoidal trust region
#
# `trust_region` is a second-order method: each `update` solves a trust-region subproblem with
# Steihaug-Toint CG on exact Hessian-vector products of the mini-batch loss, so it needs that loss
# as a function of the parameters, `value_fn=`. Its state counts the gradients and Hessian-vector
# products (the backpropagations of Kohler et al.).

# %%
params = init_params(0)
tx = co.trust_region(ellipsoid="adagrad")  # the authors' sphere constants, Adagrad ellipsoid
opt_state = tx.init(params)


@jax.jit
def tr_step(params, opt_state, xb, yb):
    batch_loss = lambda p: loss_fn(p, xb, yb)
    value, grads = jax.value_and_grad(batch_loss)(params)
    updates, opt_state = tx.update(grads, opt_state, params, value=value, value_fn=batch_loss)
    return optax.apply_updates(params, updates), opt_state


for epoch in range(EPOCHS):
    for idx in epoch_batches(len(x_train), 512, seed=0, epoch=epoch):
        params, opt_state = tr_step(params, opt_state, x_train[idx], y_train[idx])
tr_loss = float(loss_fn(params, x_train, y_train))
print(f"trust region: train loss {tr_loss:.4f} after "
      f"{int(opt_state.step_count)} steps ({int(opt_state.accepted_count)} accepted), "
      f"{int(opt_state.gradient_count)} gradients + {int(opt_state.hvp_count)} HVPs, "
      f"radius {float(opt_state.radius):.2e}")

# %%
display(Markdown(
    f"In this run ({EPOCHS} epoch(s)) the trust region made {int(opt_state.step_count)} steps on "
    f"batches of 512 and used {int(opt_state.hvp_count)} Hessian-vector products for a training "
    f"loss of {tr_loss:.3f}; the NNX chain reached a test accuracy of {nnx_accuracy:.3f}."))

# %% [markdown]
# Next: `02_complexity_annealing` (the annealing schedules of Richemond & Guo),
# `03_annealsgd_spin_glass` (spin glasses and AnnealSGD), `04_trust_region` (ellipsoidal trust
# regions) and `05_hessian_spectra` (Hessian spectra of the trained MLP).
