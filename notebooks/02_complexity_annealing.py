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
# # Complexity gradient descent: annealing the weight decay (Richemond & Guo, 2019)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/complexity-optax/complexity_optax/blob/main/notebooks/02_complexity_annealing.ipynb)
#
# Reproduces the theory figure of *Combining learning rate decay and weight decay with complexity
# gradient descent - Part I* (arXiv:1902.02881, Fig. 1) and runs its three annealing algorithms on a
# real problem:
#
# * the Wigner semicircle of the Hessian of a Gaussian random field, the index α as a function of
#   the mean eigenvalue λ̄ (eq. 9) and as a function of the energy density ε (eq. 11), **in the
#   usual convention** (α = fraction of negative eigenvalues, minima at low energy), with the
#   paper's mirrored curve drawn next to it;
# * matched (Algorithm 1), cosine (Algorithm 2) and two-step (Algorithm 3) annealing of the penalty
#   strength λ in λ‖θ‖², against a constant λ, on a small MLP on the digits, with their λ
#   trajectories.

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

# %%
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

import complexity_optax as co
from complexity_optax import landscape

# %% [markdown]
# ## 1. Semicircle, α(λ̄) and α(ε) (Fig. 1)
#
# For an isotropic Gaussian field with covariance N f(|x−y|²/(2N)) the Hessian is a GOE matrix with
# a semicircle of radius R = 2√f''(0), shifted by its mean eigenvalue λ̄. The index (fraction of
# negative eigenvalues) is then α(λ̄) = F(−λ̄/R) with F the semicircle CDF (eq. 9). The energy
# density of critical points concentrates at ε = (f'(0)/f''(0))λ̄, which turns this into
# α(ε) = ½ + (1/π)[arcsin(ε/ε_c) + (ε/ε_c)√(1 − (ε/ε_c)²)], with ε_c = 2|f'(0)|/√f''(0).
#
# **Convention.** The paper's eq. (11), (1/π)arccos(ε/ε_c) − (ε/πε_c)√(1 − (ε/ε_c)²), is the same
# curve mirrored: it equals 1 − α(ε), the fraction of *positive* eigenvalues, i.e. the index of −φ.
# With α the fraction of negative eigenvalues, minima (α = 0) sit at the bottom of the energy range,
# ε ≤ −ε_c, and maxima (α = 1) at the top; the library's `index_at_energy_density` uses this
# convention and `positive_fraction_at_energy_density` reproduces the paper's curve. We take
# f(s) = e^(−s): f(0) = 1, f'(0) = −1, f''(0) = 1, so R = 2 and ε_c = 2.

# %%
f0, f1, f2 = 1.0, -1.0, 1.0
R = 2.0 * math.sqrt(f2)
eps_c = float(landscape.critical_energy_scale(f0, f1, f2))
lam = np.linspace(-1.3 * R, 1.3 * R, 401)
eps = np.linspace(-1.3 * eps_c, 1.3 * eps_c, 401)

fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
axes[0].plot(lam, landscape.semicircle_density(lam, R))
axes[0].fill_between(lam, landscape.semicircle_density(lam, R), where=lam < 0, alpha=0.3,
                     label="negative eigenvalues: α = ½ at λ̄ = 0")
axes[0].set(xlabel="eigenvalue λ", ylabel="ρ(λ)", title=f"Wigner semicircle, R = 2√f''(0) = {R:g}")
axes[0].legend(fontsize=8)
axes[1].plot(lam, landscape.alpha_from_mean_eigenvalue(lam, R))
axes[1].set(xlabel="mean eigenvalue λ̄", ylabel="index α", title="α(λ̄), eq. (9)")
axes[2].plot(eps, landscape.index_at_energy_density(eps, eps_c),
             label="α(ε), usual convention (library)")
axes[2].plot(eps, landscape.positive_fraction_at_energy_density(eps, eps_c), "--",
             label="paper's eq. (11) = 1 − α(ε)")
for x in (-eps_c, eps_c):
    axes[2].axvline(x, color="red", ls=":", lw=1)
axes[2].set(xlabel="energy density ε", ylabel="index α", title=f"α(ε), ε_c = {eps_c:g} (dotted)")
axes[2].legend(fontsize=8)
for ax in axes:
    ax.grid(alpha=0.3)
fig.tight_layout()
save(fig, "02_fig1_semicircle_index.png")
plt.show()

# The closed forms at a few points (usual convention): minima at −ε_c, saddles of index ½ at 0.
print("α(−ε_c), α(0), α(ε_c) =",
      [round(float(landscape.index_at_energy_density(e, eps_c)), 4) for e in (-eps_c, 0.0, eps_c)])
print("paper's eq. (11) at the same points =",
      [round(float(landscape.positive_fraction_at_energy_density(e, eps_c)), 4)
       for e in (-eps_c, 0.0, eps_c)])

# %% [markdown]
# Adding λ‖θ‖² to the loss adds 2λ to every Hessian eigenvalue: it shifts λ̄ to the right in the
# middle panel and lowers the index. Complexity gradient descent starts with a large λ (a landscape
# with few negative directions) and anneals it as the loss falls, so that the end of training sees
# the original landscape. Near ε = −ε_c the index vanishes as a 3/2 power (eq. 13):

# %%
d = np.array([3e-2, 1e-2, 3e-3])
alpha = np.asarray(landscape.index_at_energy_density(-eps_c * (1 - d), eps_c), dtype=np.float64)
print("α(−ε_c(1 − d)) / d^{3/2} for d =", d, "->", np.round(alpha / d ** 1.5, 4),
      "(constant 4√2/(3π) =", round(4 * math.sqrt(2) / (3 * math.pi), 4), ")")

# %% [markdown]
# ## 2. Annealing the weight decay on the digits MLP
#
# Four optimizers on the same 64-64-10 tanh MLP (defined below), mini-batches of 128, the same SGD
# learning rate, and the penalty λ‖θ‖² with the same λ₀:
#
# * **constant**: λ = λ₀ throughout;
# * **matched** (Algorithm 1): λ_i = λ₀ S_K(L_i/L_0), an exponential moving average of the loss
#   ratio (`matched_annealing`, which reads the mini-batch loss from `value=`);
# * **cosine** (Algorithm 2): λ_i = λ₀(1 + cos(2πi/T)) with T twice the run, so λ goes from 2λ₀
#   to 0 (`cosine_annealing`);
# * **two-step** (Algorithm 3): an E step on f_i, then an M step of size (λ_i − λ_{i−1})η at the E
#   point (a second gradient per step, from `value_fn=`), with λ_i = λ₀(1 + i)^(−½)
#   (`power_law_annealing`, `two_step=True`).
#
# We leave out the sphere projection here (`sphere=False`): on the sphere the penalty's gradient
# 2λθ is radial and projected away, so λ would only rescale the step. The reported loss is the plain
# cross-entropy L on the whole training set (not the penalized f_i).

# %% [markdown]
# The data and the model, written out: the 8×8 digits of `complexity_optax.datasets.load_digits()`
# (flattened, each pixel standardized with the training statistics) and a one-hidden-layer tanh
# perceptron, split once into a graph definition and a pure dict of parameters.

# %%
from flax import nnx

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


BATCH = 128
NUM_PARAMS = int(optax.tree.size(init_params(0)))
print(f"{x_train.shape[0]} training and {x_test.shape[0]} test digits, {NUM_PARAMS} parameters")

# %%
SEEDS = 1 if QUICK else 3
EPOCHS = 3 if QUICK else 40
LR, LAM0 = 0.3, 1e-2
STEPS = len(x_train) // BATCH
TOTAL = EPOCHS * STEPS

BUILDERS = {
    "constant": lambda: co.complexity_sgd(LR, strength=LAM0, sphere=False),
    "matched": lambda: co.complexity_sgd(LR, strength=co.matched_annealing(LAM0), sphere=False),
    "cosine": lambda: co.complexity_sgd(
        LR, strength=co.cosine_annealing(LAM0, period=2 * TOTAL), sphere=False),
    "two-step": lambda: co.complexity_sgd(
        LR, strength=co.power_law_annealing(LAM0), two_step=True, sphere=False),
}


def make_epoch(tx):
    """One jitted epoch: a scan of steps recording λ, then the full training loss."""

    def step(carry, batch):
        params, state = carry
        xb, yb = batch
        batch_loss = lambda p: loss_fn(p, xb, yb)
        value, grads = jax.value_and_grad(batch_loss)(params)
        updates, state = tx.update(grads, state, params, value=value, value_fn=batch_loss)
        params = optax.apply_updates(params, updates)
        return (params, state), optax.tree.get(state, "strength")

    @jax.jit
    def epoch(params, state, idx):
        (params, state), strengths = jax.lax.scan(step, (params, state),
                                                  (x_train[idx], y_train[idx]))
        return params, state, loss_fn(params, x_train, y_train), strengths

    return epoch


results = {}
for name, build in BUILDERS.items():
    tx = build()
    epoch_fn = make_epoch(tx)
    runs = []
    for seed in range(SEEDS):
        params = init_params(seed)
        state = tx.init(params)
        losses, strengths = [float(loss_fn(params, x_train, y_train))], []
        for e in range(EPOCHS):
            params, state, loss, lams = epoch_fn(params, state,
                                                 epoch_batches(len(x_train), BATCH, seed, e))
            losses.append(float(loss))
            strengths.append(np.asarray(lams))
        runs.append(dict(loss=np.array(losses), strength=np.concatenate(strengths),
                         accuracy=float(accuracy_fn(params, x_test, y_test)),
                         norm=float(optax.tree.norm(params))))
    results[name] = runs
    acc = np.array([r["accuracy"] for r in runs])
    final = np.array([r["loss"][-1] for r in runs])
    print(f"{name:>9}: final train loss {final.mean():.4f} ± {final.std():.4f}, "
          f"test accuracy {acc.mean():.3f} ± {acc.std():.3f}, |θ| {runs[0]['norm']:.2f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for i, (name, runs) in enumerate(results.items()):
    loss = np.mean([r["loss"] for r in runs], axis=0)
    axes[0].plot(np.arange(EPOCHS + 1), loss, marker="o", ms=2.5, label=name, color=f"C{i}")
    axes[1].plot(runs[0]["strength"], label=name, color=f"C{i}")
axes[0].set(xlabel="epoch", ylabel="training loss L (cross-entropy)", yscale="log",
            title=f"digits MLP, mean over {SEEDS} seed(s)")
axes[1].set(xlabel="step", ylabel="λ (penalty λ‖θ‖²)", title="λ trajectories (seed 0)")
for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()
save(fig, "02_digits_annealing.png")
plt.show()

# %% [markdown]
# **Reading the figure.** The right panel shows the schedules: matched annealing follows the
# smoothed loss ratio L_i/L_0 and so drops fastest while the loss falls, the cosine schedule starts
# at 2λ₀ and reaches 0 at the end of the run, and the two-step power law decays as (1 + i)^(−½).
# The constant penalty keeps pulling the weights towards zero until the end, and its training loss
# levels off (left panel). The numbers of this run:

# %%
summary = {name: (np.mean([r["loss"][-1] for r in runs]), np.mean([r["accuracy"] for r in runs]),
                  np.std([r["accuracy"] for r in runs])) for name, runs in results.items()}
annealed = [n for n in summary if n != "constant"]
display(Markdown(
    f"In this run ({EPOCHS} epochs, {SEEDS} seed(s), lr {LR:g}, λ₀ = {LAM0:g}) the final training "
    f"loss was {summary['constant'][0]:.3f} with the constant penalty against "
    + ", ".join(f"{summary[n][0]:.3f} ({n})" for n in annealed)
    + f", and the test accuracy {summary['constant'][1]:.3f} against "
    + ", ".join(f"{summary[n][1]:.3f} ({n})" for n in annealed)
    + f" (largest standard deviation over seeds "
    f"{max(s[2] for s in summary.values()):.3f}). Part of a lower training loss is simply the "
    "weaker penalty at the end of training; compare the accuracies with their spread before "
    "reading a ranking into them."))
