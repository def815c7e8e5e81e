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
# # AnnealSGD and the spherical spin glass (Chaudhari & Soatto; Auffinger, Ben Arous & Černý)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/complexity-optax/complexity_optax/blob/main/notebooks/03_annealsgd_spin_glass.ipynb)
#
# The loss of a large network is modelled by the Hamiltonian of a spherical p-spin glass. This notebook
#
# * runs projected gradient descent from many random starts on a pure 3-spin glass and compares the
#   energies of the minima it finds with the thresholds of Auffinger, Ben Arous & Černý: −E_∞, where
#   gradient descent gets stuck as N → ∞, and −E_0, the ground state (source paper 002);
# * adds an external field h (the AnnealSGD perturbation) of growing strength and watches the
#   minima merge: many scattered minima with no field (exponential regime), a few clusters at
#   intermediate fields (polynomial regime), one minimum for a strong field (trivial regime), read off
#   the pairwise overlaps of the minima (source paper 001, Fig. 2, which shows the same with t-SNE);
# * trains the digits MLP with AnnealSGD (a fixed field annealed to zero) against Adam, SGD and the
#   same annealed noise resampled at every step, and follows the alignment |hᵀθ|/(‖h‖‖θ‖) of the
#   weights with the field during training (source paper 001, Fig. 4).

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

P = 3
N = 40 if QUICK else 100
STARTS = 16 if QUICK else 64
GD_STEPS = 300 if QUICK else 2000
GD_LR = 0.1
E_INF, E_0 = landscape.threshold_energy(P), landscape.ground_state_energy(P)
print(f"p = {P}: -E_inf = {-E_INF:.4f}, -E_0 = {-E_0:.4f}")


# %% [markdown]
# ## 1. Where gradient descent stops: minima energies against −E_∞ and −E_0
#
# Projected gradient descent: a step of SGD on H followed by the projection back onto the sphere
# ‖σ‖² = N (`optax.chain(optax.sgd(lr), co.project_onto_sphere())`), from `STARTS` random points
# drawn uniformly on the sphere (`co.sphere_init`), all run together with `vmap`. As N → ∞ the
# minima it reaches concentrate at the threshold −E_∞ = −2√((p−1)/p); at finite N they stop
# somewhat above it (research notes: mean H/N ≈ −1.55 at N = 100 and −1.58 at N = 200).

# %%
def descend(ham, key, starts=STARTS, steps=GD_STEPS):
    """Projected GD from `starts` random points; returns the final points and |grad_sphere|/√N."""
    tx = optax.chain(optax.sgd(GD_LR), co.project_onto_sphere())

    def one_start(k):
        sigma = co.sphere_init(k, jnp.zeros(ham.n))

        def step(carry, _):
            s, state = carry
            updates, state = tx.update(landscape.p_spin_gradient(ham, s), state, s)
            return (optax.apply_updates(s, updates), state), None

        (sigma, _), _ = jax.lax.scan(step, (sigma, tx.init(sigma)), None, length=steps)
        residual = jnp.linalg.norm(landscape.p_spin_spherical_gradient(ham, sigma))
        return sigma, residual / math.sqrt(ham.n)

    return jax.vmap(one_start)(jax.random.split(key, starts))


descend = jax.jit(descend, static_argnames=("starts", "steps"))
INSTANCES = 1 if QUICK else 2
energies, MAX_RESIDUAL = [], 0.0
for instance in range(INSTANCES):
    ham = landscape.pure_p_spin(jax.random.key(100 + instance), N, P)
    sigmas, residuals = descend(ham, jax.random.key(instance))
    per_spin = jax.vmap(lambda s: landscape.p_spin_energy_per_spin(ham, s))(sigmas)
    energies.append(np.asarray(per_spin))
    MAX_RESIDUAL = max(MAX_RESIDUAL, float(residuals.max()))
    print(f"instance {instance}: max |grad_sphere|/sqrt(N) = {float(residuals.max()):.1e}")
energies = np.concatenate(energies)
print(f"N = {N}: {energies.size} minima, mean H/N = {energies.mean():.4f} "
      f"(std {energies.std():.4f}, best {energies.min():.4f})")

# %%
fig, ax = plt.subplots(figsize=(7, 3.8))
ax.hist(energies, bins=25, color="C0", alpha=0.8, label=f"projected GD minima, N = {N}")
ax.axvline(-E_INF, color="C3", ls="--", label=f"threshold −E_∞ = {-E_INF:.3f}")
ax.axvline(-E_0, color="k", ls=":", label=f"ground state −E_0 = {-E_0:.3f}")
ax.set(xlabel="energy per spin H/N", ylabel="count", title=f"pure {P}-spin glass")
ax.legend(fontsize=8)
fig.tight_layout()
save(fig, "03_minima_energies.png")
plt.show()

# %%
display(Markdown(
    f"In this run (N = {N}, {INSTANCES} instance(s) × {STARTS} starts, {GD_STEPS} steps of lr "
    f"{GD_LR:g}, spherical gradient below {MAX_RESIDUAL:.1e}·√N at the end) the minima had mean "
    f"H/N = {energies.mean():.3f} (std {energies.std():.3f}, best {energies.min():.3f}): "
    f"{int((energies > -E_INF).sum())} of {energies.size} above the threshold −E_∞ = {-E_INF:.3f} "
    f"and {int((energies < -E_0).sum())} below −E_0 = {-E_0:.3f}. The research notes give "
    "−1.547 ± 0.027 at N = 100 (finite N stops above the N → ∞ threshold)."))

# %% [markdown]
# ## 2. The three regimes: minima in an external field
#
# The same couplings J with a field ⟨h, σ⟩ added, ‖h‖² = N·h² (`pure_p_spin(..., field=h)`). For each
# strength we run projected GD from the same random starts and compute the pairwise overlaps
# q_ab = σ_a·σ_b/N of the minima found: q = 1 means the same minimum. We count distinct minima by
# grouping the points whose overlap exceeds 0.99. Theory (Fyodorov; Belius et al., recalled in the
# research notes, *not verified*) puts the trivialization of the pure p-spin at h² = p(p − 2), i.e.
# h ≈ 1.73 for p = 3, with a polynomial window around it whose width shrinks with N.

# %%
FIELDS = [0.0, 1.0, 2.5] if QUICK else [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0]


def count_clusters(overlaps, cut=0.99):
    """Greedy grouping: a point joins the first cluster whose representative it overlaps > cut."""
    representatives = []
    for a in range(overlaps.shape[0]):
        if not any(overlaps[a, r] > cut for r in representatives):
            representatives.append(a)
    return len(representatives)


regimes = {}
for h in FIELDS:
    ham = landscape.pure_p_spin(jax.random.key(100), N, P, field=h)
    sigmas, _ = descend(ham, jax.random.key(7))
    sigmas = np.asarray(sigmas, dtype=np.float64)
    q = sigmas @ sigmas.T / N
    pairs = q[np.triu_indices(len(q), k=1)]
    regimes[h] = dict(overlaps=pairs, clusters=count_clusters(q))
    print(f"h = {h:4.2f}: {regimes[h]['clusters']:3d} distinct minima out of {STARTS} starts, "
          f"mean overlap {pairs.mean():.3f}")

# %%
h_c = math.sqrt(P * (P - 2))
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
axes[0].plot(FIELDS, [regimes[h]["clusters"] for h in FIELDS], "o-")
axes[0].set(xlabel="field strength h", ylabel="distinct minima", yscale="log",
            title=f"{STARTS} starts, N = {N}")
axes[1].plot(FIELDS, [regimes[h]["overlaps"].mean() for h in FIELDS], "o-", color="C2")
axes[1].set(xlabel="field strength h", ylabel="mean pairwise overlap q")
for ax in axes[:2]:
    ax.axvline(h_c, color="C3", ls=":", label="h² = p(p−2) (conjectured)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
shown = [FIELDS[0], FIELDS[len(FIELDS) // 2], FIELDS[-1]]
for h, name in zip(shown, ("exponential", "polynomial", "trivial")):
    axes[2].hist(regimes[h]["overlaps"], bins=np.linspace(-1, 1, 81), alpha=0.6,
                 label=f"h = {h:g} ({name}?)")
axes[2].set(xlabel="overlap q_ab of two minima", ylabel="pairs", yscale="log",
            title="overlap histograms")
axes[2].legend(fontsize=8)
fig.tight_layout()
save(fig, "03_field_regimes.png")
plt.show()

# %%
counts = {h: regimes[h]["clusters"] for h in FIELDS}
display(Markdown(
    f"In this run (one instance, N = {N}, {STARTS} starts) the number of distinct minima went "
    + ", ".join(f"{c} at h = {h:g}" for h, c in counts.items())
    + f", and the mean overlap from {regimes[FIELDS[0]]['overlaps'].mean():.2f} to "
    f"{regimes[FIELDS[-1]]['overlaps'].mean():.2f}. With {STARTS} starts the count of minima is "
    "only a lower bound, and at this N the transition is smooth rather than sharp at "
    "h² = p(p − 2)."))

# %% [markdown]
# The histograms show the three regimes: overlaps spread around 0 (many unrelated minima), a few
# discrete overlap values (a handful of minima), and all pairs at q = 1 (one minimum).

# %% [markdown]
# ## 3. AnnealSGD on the digits MLP
#
# AnnealSGD adds γ(t)·h to the gradient, with h ~ N(0, I) drawn **once** and γ annealed linearly
# from γ₀ to 0 over the first half of the run (`co.anneal_sgd(lr, field_scale=schedule, key=...)`).
# We use the paper's absolute field (`relative_to=None`) with lr 1.0 and γ₀ = 1e-3, a value whose
# integrated push lr·Σγ(t)·‖h‖ stays below ‖θ₀‖, and a ten times stronger field, γ₀ = 0.01. The
# baseline of the paper adds the same annealed perturbation but **resampled** at every step
# (annealed noise, `resample=True`). Every run records `co.field_alignment(params, opt_state)` =
# |hᵀθ|/(‖h‖‖θ‖) after every step (for the resampled baseline, h is the field of that step); a
# random direction in N dimensions has an alignment of order 1/√N.
#
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
EPOCHS = 1 if QUICK else 30
SEEDS = 1 if QUICK else 3
LR, DEMO_SCALE, STRONG_SCALE = 1.0, 1e-3, 1e-2
STEPS = len(x_train) // BATCH
HALF = max(EPOCHS * STEPS // 2, 1)  # γ reaches 0 after half the run


def anneal(scale, resample=False):
    return lambda seed: co.anneal_sgd(LR, field_scale=optax.linear_schedule(scale, 0.0, HALF),
                                      key=jax.random.key(seed), relative_to=None,
                                      resample=resample)


BUILDERS = {
    f"AnnealSGD (γ₀ = {DEMO_SCALE:g})": anneal(DEMO_SCALE),
    f"AnnealSGD (γ₀ = {STRONG_SCALE:g}, strong)": anneal(STRONG_SCALE),
    f"resampled noise (γ₀ = {DEMO_SCALE:g})": anneal(DEMO_SCALE, resample=True),
}
if not QUICK:
    BUILDERS["SGD"] = lambda seed: optax.sgd(LR)
    BUILDERS["Adam"] = lambda seed: optax.adam(1e-3)


def make_epoch(tx, has_field):
    def step(carry, batch):
        params, state = carry
        grads = jax.grad(loss_fn)(params, *batch)
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        alignment = co.field_alignment(params, state) if has_field else jnp.nan
        return (params, state), alignment

    @jax.jit
    def epoch(params, state, idx):
        (params, state), alignment = jax.lax.scan(step, (params, state),
                                                  (x_train[idx], y_train[idx]))
        return params, state, loss_fn(params, x_train, y_train), alignment

    return epoch


runs = {}
for label, build in BUILDERS.items():
    has_field = label not in ("SGD", "Adam")
    runs[label] = []
    for seed in range(SEEDS):
        tx = build(seed)
        epoch_fn = make_epoch(tx, has_field)
        params = init_params(seed)
        state = tx.init(params)
        losses, alignment = [float(loss_fn(params, x_train, y_train))], []
        for e in range(EPOCHS):
            params, state, loss, a = epoch_fn(params, state,
                                              epoch_batches(len(x_train), BATCH, seed, e))
            losses.append(float(loss))
            alignment.append(np.asarray(a))
        runs[label].append(dict(loss=np.array(losses), alignment=np.concatenate(alignment),
                                accuracy=float(accuracy_fn(params, x_test, y_test))))
    final = np.array([r["loss"][-1] for r in runs[label]])
    acc = np.array([r["accuracy"] for r in runs[label]])
    print(f"{label:>30}: final train loss {final.mean():.4f} ± {final.std():.4f}, "
          f"test accuracy {acc.mean():.3f} ± {acc.std():.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for i, (label, rs) in enumerate(runs.items()):
    axes[0].plot(np.mean([r["loss"] for r in rs], axis=0), marker="o", ms=2.5, label=label,
                 color=f"C{i}")
    if not np.isnan(rs[0]["alignment"]).all():
        axes[1].plot(rs[0]["alignment"], label=label, color=f"C{i}")
axes[0].set(xlabel="epoch", ylabel="training loss", yscale="log",
            title=f"digits MLP, mean over {SEEDS} seed(s)")
axes[0].legend(fontsize=8)
axes[1].axhline(1 / math.sqrt(NUM_PARAMS), color="0.5", ls=":", label="1/√N (random direction)")
axes[1].axvline(HALF, color="0.7", ls="--", label="γ reaches 0")
axes[1].set(xlabel="step", ylabel="|hᵀθ| / (‖h‖ ‖θ‖)", yscale="log",
            title="alignment of the weights with the field (seed 0)")
axes[1].legend(fontsize=8)
for ax in axes:
    ax.grid(alpha=0.3, which="both")
fig.tight_layout()
save(fig, "03_annealsgd_digits.png")
plt.show()

# %%
lines = []
for label, rs in runs.items():
    a = rs[0]["alignment"]
    text = (f"* {label}: final training loss {np.mean([r['loss'][-1] for r in rs]):.4f}, test "
            f"accuracy {np.mean([r['accuracy'] for r in rs]):.3f} ± "
            f"{np.std([r['accuracy'] for r in rs]):.3f}")
    if not np.isnan(a).all():
        text += (f"; alignment max {np.nanmax(a):.3f}, final {a[-1]:.3f} "
                 f"({a[-1] * math.sqrt(NUM_PARAMS):.1f} × 1/√N)")
    lines.append(text)
display(Markdown(f"In this run ({EPOCHS} epoch(s), {SEEDS} seed(s), 1/√N = "
                 f"{1 / math.sqrt(NUM_PARAMS):.3f}):\n\n" + "\n".join(lines)))

# %% [markdown]
# **Reading the numbers.** The paper's Fig. 4 contrasts a fixed field, which leaves its mark on the
# weights (the alignment stays well above 1/√N after γ reaches 0), with resampled noise, which
# averages out (alignment around 1/√N). A strong field can drag the weights along h far enough to
# cost test accuracy, so γ₀ should not be tuned on the training loss alone.
