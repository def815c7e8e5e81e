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
# # Hessian spectra of a trained network
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/complexity-optax/complexity_optax/blob/main/notebooks/05_hessian_spectra.ipynb)
#
# The Hessian tools of `complexity_optax.landscape` need only Hessian-vector products, so they work on
# any pytree of parameters without building the Hessian. On a small MLP on the digits (N = 4810 parameters, defined and trained
# below) this notebook shows
#
# * the spectral density of the training-loss Hessian by stochastic Lanczos quadrature (SLQ), at
#   initialization and after training, checked against the exact eigenvalues of the dense Hessian;
# * the index α (fraction of negative eigenvalues) and the mean eigenvalue λ̄ = tr(H)/N over
#   training, the two coordinates of complexity gradient descent (Richemond & Guo);
# * the share of diagonal mass δ = Σ|H_ii|/Σ|H_ij| over training, against its expectation for a
#   Wigner matrix and for an OLS Hessian (Kohler, Adolphs & Lucchi, Fig. 2).

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
# ## The data, the model and the training run
#
# The 8×8 digits of `complexity_optax.datasets.load_digits()` (flattened, each pixel standardized
# with the training statistics) and a one-hidden-layer tanh perceptron, split once into a graph
# definition and a pure dict of parameters; plain SGD trains it and we keep the parameters at a few
# checkpoints.

# %%

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from complexity_optax import datasets
from complexity_optax import landscape

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


BATCH = 128
NUM_PARAMS = int(optax.tree.size(init_params(0)))
print(f"{x_train.shape[0]} training and {x_test.shape[0]} test digits, {NUM_PARAMS} parameters")

CHECKPOINTS = [0, 1, 2] if QUICK else [0, 1, 2, 5, 10, 20, 30]
PROBES, LANCZOS_STEPS = (2, 24) if QUICK else (8, 80)
COLUMNS = 32 if QUICK else 256  # sampled Hessian columns for the diagonal share
DIM = NUM_PARAMS

# Plain SGD (lr 1.0, batches of 128), keeping the parameters at the checkpoints.
sgd = optax.sgd(1.0)


@jax.jit
def sgd_epoch(params, opt_state, idx):
    def step(carry, batch):
        params, opt_state = carry
        grads = jax.grad(loss_fn)(params, *batch)
        updates, opt_state = sgd.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), None

    (params, opt_state), _ = jax.lax.scan(step, (params, opt_state),
                                          (x_train[idx], y_train[idx]))
    return params, opt_state, loss_fn(params, x_train, y_train)


params = init_params(0)
opt_state = sgd.init(params)
snapshots = {0: params}
for epoch in range(1, max(CHECKPOINTS) + 1):
    params, opt_state, loss = sgd_epoch(params, opt_state,
                                        epoch_batches(len(x_train), BATCH, 0, epoch - 1))
    if epoch in CHECKPOINTS:
        snapshots[epoch] = params
        print(f"epoch {epoch}: training loss {float(loss):.4f}")

# %% [markdown]
# ## 1. Spectral density by stochastic Lanczos quadrature
#
# `jax.linearize` of the gradient of the full training loss (all training examples) gives the Hessian-vector
# product at a point; each probe costs `LANCZOS_STEPS` products. The density is smoothed by Gaussians
# of width σ (log scale: the bulk near zero and the few outliers both show).

# %%
def hessian_matvec(params, x=x_train, y=y_train):
    """v -> H v for the loss on (x, y) at params, linearized once."""
    _, matvec = jax.linearize(jax.grad(lambda p: loss_fn(p, x, y)), params)
    return matvec


@jax.jit
def slq(params, key):
    return landscape.spectral_density(hessian_matvec(params), params, key, num_probes=PROBES,
                                      num_steps=LANCZOS_STEPS, num_points=2000)


final = max(CHECKPOINTS)
densities = {e: slq(snapshots[e], jax.random.key(1)) for e in (0, final)}

# The exact spectrum at the end of training, from the dense Hessian (full mode only: N HVPs).
exact = None
if not QUICK:
    from jax.flatten_util import ravel_pytree

    flat, unravel = ravel_pytree(snapshots[final])
    matvec = hessian_matvec(snapshots[final])
    columns = jax.jit(lambda basis: jax.lax.map(
        lambda e: ravel_pytree(matvec(unravel(e)))[0], basis, batch_size=64))
    dense = np.asarray(columns(jnp.eye(flat.size, dtype=flat.dtype)), dtype=np.float64)
    exact = np.linalg.eigvalsh(0.5 * (dense + dense.T))
    print(f"exact spectrum: [{exact[0]:.4f}, {exact[-1]:.4f}], "
          f"{(exact < 0).mean():.4f} negative, mean {exact.mean():.5f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4))
for ax, e, color in ((axes[0], 0, "C0"), (axes[1], final, "C3")):
    d = densities[e]
    ax.plot(d.grid, np.maximum(d.density, 1e-8), color=color,
            label=f"SLQ ({PROBES} probes × {LANCZOS_STEPS} steps), σ = {float(d.sigma):.1e}")
    ax.set(xlabel="Hessian eigenvalue", ylabel="density", yscale="log", ylim=(1e-4, None),
           title=f"epoch {e}")
if exact is not None:  # the same Gaussian smoothing of the exact eigenvalues
    d = densities[final]
    reference = landscape.gaussian_smoothed_density(d.grid, jnp.asarray(exact, jnp.float32),
                                                    jnp.ones(exact.size), d.sigma)
    axes[1].plot(d.grid, np.maximum(reference, 1e-8), "k--", lw=1,
                 label="exact eigenvalues, same smoothing")
for ax in axes:
    ax.legend(fontsize=8)
fig.suptitle(f"training-loss Hessian of the digits MLP (N = {DIM})")
fig.tight_layout()
save(fig, "05_spectral_density.png")
plt.show()

# %%
d0, dT = densities[0], densities[final]
text = (f"In this run the SLQ density ({PROBES} probes × {LANCZOS_STEPS} Lanczos steps, "
        f"{PROBES * LANCZOS_STEPS} HVPs) has its Ritz values in [{float(d0.nodes.min()):.2f}, "
        f"{float(d0.nodes.max()):.2f}] at initialization and [{float(dT.nodes.min()):.3f}, "
        f"{float(dT.nodes.max()):.3f}] at epoch {final}: training contracts the spectrum.")
if exact is not None:
    text += (f" The exact spectrum of the dense Hessian at epoch {final} spans "
             f"[{exact[0]:.4f}, {exact[-1]:.4f}] ({DIM} HVPs and a dense eigendecomposition).")
display(Markdown(text))

# %% [markdown]
# ## 2. Index and mean eigenvalue over training
#
# α by SLQ (`index_fraction`, the quadrature weight of the nodes below a cut) and λ̄ = tr(H)/N by
# Hutchinson's estimator (`mean_eigenvalue`, Rademacher probes); the error bars are standard errors
# over probes. Most eigenvalues of this Hessian sit in a narrow peak at zero (the network has more
# parameters than the data constrain), and whether a Ritz value of that peak lands at −10⁻⁶ or +10⁻⁶
# is noise; so we count the eigenvalues below −10⁻³ (`threshold=-INDEX_CUT`).

# %%
INDEX_CUT = 1e-3  # count eigenvalues below -1e-3: the sign of the near-null ones is noise


@jax.jit
def index_and_mean(params, key):
    matvec = hessian_matvec(params)
    k1, k2 = jax.random.split(key)
    alpha = landscape.index_fraction(matvec, params, k1, num_probes=PROBES,
                                     num_steps=LANCZOS_STEPS, threshold=-INDEX_CUT)
    mean = landscape.mean_eigenvalue(matvec, params, k2, num_samples=4 * PROBES)
    return alpha, mean


stats = {e: index_and_mean(snapshots[e], jax.random.key(2)) for e in CHECKPOINTS}
for e, (alpha, mean) in stats.items():
    print(f"epoch {e:3d}: index α = {float(alpha.estimate):.4f} "
          f"± {float(alpha.standard_error):.4f}, λ̄ = {float(mean.estimate):.5f} ± {float(mean.standard_error):.5f}")
if exact is not None:
    print(f"exact at epoch {final}: fraction below 0 = {(exact < 0).mean():.4f}, "
          f"below -{INDEX_CUT:g} = {(exact < -INDEX_CUT).mean():.4f}, "
          f"|λ| < {INDEX_CUT:g}: {(abs(exact) < INDEX_CUT).mean():.4f}, "
          f"mean {exact.mean():.5f}")

# %%
epochs = np.array(CHECKPOINTS)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
for ax, i, name in ((axes[0], 0, "index α (fraction of negative eigenvalues)"),
                    (axes[1], 1, "mean eigenvalue λ̄ = tr(H)/N")):
    est = np.array([float(stats[e][i].estimate) for e in CHECKPOINTS])
    err = np.array([float(stats[e][i].standard_error) for e in CHECKPOINTS])
    ax.errorbar(epochs, est, yerr=err, marker="o", capsize=3)
    ax.set(xlabel="epoch", ylabel=name)
    ax.grid(alpha=0.3)
fig.tight_layout()
save(fig, "05_index_and_mean.png")
plt.show()

# %%
first, last = stats[CHECKPOINTS[0]], stats[final]
text = (f"In this run (SGD, lr 1.0, {final} epochs) the index went from "
        f"{float(first[0].estimate):.3f} at initialization to {float(last[0].estimate):.3f} and "
        f"the mean eigenvalue from {float(first[1].estimate):.4f} to {float(last[1].estimate):.4f}.")
if exact is not None:
    text += (f" At epoch {final} the exact spectrum had {(exact < -INDEX_CUT).mean():.4f} of its "
             f"eigenvalues below −{INDEX_CUT:g} (SLQ: {float(last[0].estimate):.4f} ± "
             f"{float(last[0].standard_error):.4f}), {(exact < 0).mean():.0%} below 0 and "
             f"{(abs(exact) < INDEX_CUT).mean():.0%} within ±{INDEX_CUT:g}, which is why the cut "
             "matters.")
display(Markdown(text))

# %% [markdown]
# Training moves towards points with fewer negative directions, as in the picture of Richemond
# & Guo, while the spectrum contracts.

# %% [markdown]
# ## 3. Share of diagonal mass (Kohler et al., Fig. 2)
#
# δ(H) = Σ_i|H_ii| / Σ_ij|H_ij|, estimated from randomly sampled columns H e_j (one HVP each), for the
# loss on one mini-batch of 128 examples: real digits, and Gaussian random inputs with random labels.
# The references are the exact expectations δ(E|W|) of a GOE matrix of the same size
# (`wigner_diagonal_share`) and δ(E|XᵀX|) of an OLS Hessian with the same numbers of parameters and
# examples (`ols_diagonal_share`). The paper's claim: network Hessians keep a diagonal share well
# above both.

# %%
x_batch, y_batch = x_train[:BATCH], y_train[:BATCH]
x_noise = jax.random.normal(jax.random.key(3), x_batch.shape)
y_noise = jax.random.randint(jax.random.key(4), y_batch.shape, 0, 10)


@jax.jit
def share(params, x, y, key):
    return landscape.diagonal_share(hessian_matvec(params, x, y), params, key,
                                    num_columns=COLUMNS, batch_size=16).share


shares = {
    "digits batch": [float(share(snapshots[e], x_batch, y_batch, jax.random.key(5)))
                     for e in CHECKPOINTS],
    "random inputs and labels": [float(share(snapshots[e], x_noise, y_noise, jax.random.key(5)))
                                 for e in CHECKPOINTS],
}
wigner = landscape.wigner_diagonal_share(DIM)
ols = landscape.ols_diagonal_share(DIM, BATCH)
for name, values in shares.items():
    print(f"{name:>24}: δ = " + ", ".join(f"{v:.4f}" for v in values))
print(f"Wigner expectation {wigner:.2e}, OLS expectation (d = {DIM}, n = {BATCH}) {ols:.2e}")

# %%
fig, ax = plt.subplots(figsize=(7, 3.8))
for name, values in shares.items():
    ax.plot(epochs, values, "o-", label=f"MLP Hessian, {name}")
ax.axhline(ols, color="C3", ls="--", label=f"OLS expectation (n = {BATCH})")
ax.axhline(wigner, color="k", ls=":", label="Wigner expectation")
ax.set(xlabel="epoch", ylabel="diagonal share δ", yscale="log",
       title=f"share of diagonal mass, N = {DIM}")
ax.legend(fontsize=8)
ax.grid(alpha=0.3, which="both")
fig.tight_layout()
save(fig, "05_diagonal_share.png")
plt.show()

# %%
values = np.array([v for vs in shares.values() for v in vs])
display(Markdown(
    f"In this run the diagonal share of the mini-batch Hessian stayed between {values.min():.4f} "
    f"and {values.max():.4f} over training: {values.min() / ols:.1f} to {values.max() / ols:.1f} "
    f"times the OLS expectation ({ols:.4f} for d = {DIM}, n = {BATCH}) and {values.min() / wigner:.0f} "
    f"to {values.max() / wigner:.0f} times the Wigner expectation ({wigner:.5f}). The paper's "
    "Fig. 2 claims a share well above both; compare the margin over OLS with these numbers."))
