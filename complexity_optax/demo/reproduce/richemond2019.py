# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Richemond & Guo (2019): annealing the weight decay, on and off the sphere (MNIST).

The paper has no published experiment; this one tests what it proposes. SGD with the learning
rate $\epsilon_t = \epsilon_0 (1 + t/T_\epsilon)^{-1/2}$ (the power law the paper assumes, with
$T_\epsilon$ one epoch) minimises $L(\theta) + \lambda_t\lVert\theta\rVert^2$ with

* `none`: $\lambda = 0$; `constant`: $\lambda_0$;
* `matched` (Algorithm 1): $\lambda_0 S_K(L_t/L_0)$, EMA with memory $K = 10$;
* `cosine` (Algorithm 2): $\lambda_0(1 + \cos 2\pi t/T)$, $T$ the whole run;
* `two_step` (Algorithm 3): E step then M step, λ matched as above;
* `lr_matched` (eq. 17): $\lambda_0\,\epsilon_t/\epsilon_0$;

each off the sphere and on it (after every step, θ is projected back onto the sphere of radius
$\lVert\theta_0\rVert$, the norm at initialisation: the paper's $\sqrt N$ would multiply the
ConvNet's weights by ~20 and saturate it). Logged: training loss, test accuracy, λ and
$\lVert\theta\rVert$ per epoch.

Examples:
  >>> from complexity_optax.demo.reproduce import richemond2019
  >>> richemond2019.SCHEMES
  ('none', 'constant', 'matched', 'cosine', 'two_step', 'lr_matched')
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
import optax

from complexity_optax import datasets
from complexity_optax.demo import report
from complexity_optax.demo.reproduce import optimizers, training, verdicts

__all__ = ["SCHEMES", "SETTINGS", "plot", "run_experiment"]

SCHEMES = optimizers.STRENGTHS
ANNEALED = ("matched", "cosine", "two_step", "lr_matched")

SETTINGS = {
    "quick": {"network": "fc", "num_samples": 750, "batch": 50, "epochs": 3, "eval_size": 150,
              "lr0": 0.1, "lambda0": 5e-3},
    "cpu": {"network": "conv", "num_samples": 2500, "batch": 128, "epochs": 5,
            "eval_size": 500, "lr0": 0.05, "lambda0": 5e-3},
    "full": {"network": "conv", "num_samples": None, "batch": 128, "epochs": 60,
             "eval_size": 4000, "lr0": 0.05, "lambda0": 5e-3},
}


def _probe(params, state, grads, value):
    del grads, value
    strength = training.find_field(state, "strength")
    lam = jnp.asarray(strength[0], jnp.float32) if strength else jnp.float32(0.0)
    return {"lambda": lam, "param_norm": optax.tree.norm(params)}


def _label(scheme: str, sphere: bool) -> str:
    return f"{scheme} ({'sphere' if sphere else 'free'})"


def run_experiment(*, mode: str, seeds: int, networks: Sequence[str] | None = None,
                   progress: bool = True) -> dict:
    """Trains the twelve schemes on the ConvNet (FC in quick mode); returns the record."""
    setting = dict(SETTINGS[mode])
    if networks:
        if len(networks) != 1 or networks[0] not in ("fc", "conv"):
            raise SystemExit("reproduce richemond2019: --networks takes one of fc, conv")
        setting["network"] = networks[0]
    net = setting["network"]
    data = datasets.load_mnist(num_samples=setting["num_samples"])
    task = training.make_task(net, "ce", data.x_train, data.y_train, data.x_test, data.y_test,
                              eval_size=setting["eval_size"])
    steps_per_epoch = task.n_train // setting["batch"]
    total_steps = steps_per_epoch * setting["epochs"]
    lr = lambda t: setting["lr0"] * (1.0 + t / steps_per_epoch) ** -0.5
    runs: dict[str, list] = {}
    for seed in range(seeds):
        params = training.init_params(net, seed)
        radius = float(optax.tree.norm(params))
        for sphere in (False, True):
            for scheme in SCHEMES:
                label = _label(scheme, sphere)
                spec = training.MethodSpec(
                    label, lambda scheme=scheme, r=radius if sphere else None:
                    optimizers.weight_decay_sgd(scheme, lr, setting["lambda0"],
                                                period=total_steps, sphere_radius=r),
                    batch_size=setting["batch"], grads_per_step=2 if scheme == "two_step" else 1,
                    probe=_probe, key=f"{label}-{seed}" if sphere else label)
                run = training.train(task, spec, seed=seed, epochs=setting["epochs"],
                                     params=params)
                runs.setdefault(label, []).append(run)
                if progress:
                    training.progress(
                        f"[richemond2019 {mode}] {net} {label} seed {seed}: loss "
                        f"{run['final_train_loss']:.4g}, test acc "
                        f"{100 * run['final_test_metric']:.2f}%, {run['wall_s'][-1]:.1f}s "
                        f"(+{run['compile_s']:.1f}s compile)")
    record = {"paper": "Richemond & Guo 2019 (arXiv:1902.02881)", "setting": setting,
              "network": net, "n_train": task.n_train, "n_test": len(task.x_test),
              "runs": runs, "tables": [], "verdicts": []}
    table, out = _summarise(net, task, runs, seeds)
    record["tables"].append(table)
    record["verdicts"] = [v.to_json() for v in out]
    record["deviations"] = [
        "the paper has no experiment: the schemes, lambda0 and the lr schedule are our choices",
        "sphere radius = the initial norm, not sqrt(N)",
        f"{task.n_train} training images" + (" (a subset)" if setting["num_samples"] else ""),
    ]
    return record


def _summarise(net, task, runs, seeds):
    rows = []
    for label, rs in runs.items():
        rows.append([label] + [_pm(v) for v in (
            [r["final_train_loss"] for r in rs],
            [100 * r["final_test_metric"] for r in rs],
            [r["probes"]["lambda"][0] for r in rs],
            [r["probes"]["lambda"][-1] for r in rs],
            [r["probes"]["param_norm"][-1] for r in rs],
            [r["wall_s"][-1] for r in rs])])
    table = {"title": f"{net}: {task.n_train} training images, {seeds} seeds",
             "columns": ["scheme", "final train loss", "test acc %", "λ (epoch 1)",
                         "λ (last epoch)", "‖θ‖ end", "wall s"],
             "rows": rows}
    acc = {k: [100 * r["final_test_metric"] for r in v] for k, v in runs.items()}
    loss = {k: [r["final_train_loss"] for r in v] for k, v in runs.items()}
    out = []
    for sphere in (False, True):
        where = "on the sphere" if sphere else "off the sphere"
        const = _label("constant", sphere)
        for scheme in ANNEALED:
            lab = _label(scheme, sphere)
            out.append(verdicts.compare(
                f"{scheme} annealing beats constant weight decay in test accuracy {where} "
                f"({net})", acc[lab], acc[const], lower_is_better=False,
                note=f"acc % {_pm(acc[lab])} vs {_pm(acc[const])}"))
        lab = _label("matched", sphere)
        out.append(verdicts.compare(
            f"matched annealing reaches a lower training loss than constant weight decay {where} "
            f"({net})", loss[lab], loss[const],
            note=f"loss {_pm(loss[lab])} vs {_pm(loss[const])}"))
        none = _label("none", sphere)
        out.append(verdicts.compare(
            f"constant weight decay beats no weight decay in test accuracy {where} ({net})",
            acc[const], acc[none], lower_is_better=False,
            note=f"acc % {_pm(acc[const])} vs {_pm(acc[none])}"))
    lam0 = [r["probes"]["lambda"][0] for r in runs[_label("matched", False)]]
    lam1 = [r["probes"]["lambda"][-1] for r in runs[_label("matched", False)]]
    out.append(verdicts.compare(
        f"matched annealing lowers λ as the loss falls (last-epoch λ below first-epoch λ, {net})",
        lam1, lam0, note=f"λ {_pm(lam0)} -> {_pm(lam1)}"))
    best_free = max(ANNEALED, key=lambda s: np.mean(acc[_label(s, False)]))
    out.append(verdicts.compare(
        f"the sphere improves test accuracy for {best_free} annealing ({net})",
        acc[_label(best_free, True)], acc[_label(best_free, False)], lower_is_better=False,
        note=f"acc % {_pm(acc[_label(best_free, True)])} vs {_pm(acc[_label(best_free, False)])}"))
    return table, out


_pm = verdicts.format_mean_std


def plot(record: dict, stem: str) -> list[str]:
    """Training loss, test accuracy and λ over epochs (top: off the sphere; bottom: on it)."""
    fig, axes = report.new_figure(2, 3, figsize=(13, 6.8))
    colors = {name: style["color"] for name, style in report.method_styles(SCHEMES).items()}
    for label, runs in record["runs"].items():
        scheme, where = label.split(" (")
        row = 1 if where.startswith("sphere") else 0
        for s, run in enumerate(runs):
            kw = dict(color=colors[scheme], alpha=1.0 if s == 0 else 0.4,
                      label=scheme if s == 0 else None)
            axes[row, 0].plot(run["epochs"], run["train_loss"], **kw)
            axes[row, 1].plot(run["epochs"], [100 * m for m in run["test_metric"]], **kw)
            axes[row, 2].plot(run["epochs"][1:], run["probes"]["lambda"], **kw)
    for row, where in enumerate(("off the sphere", "on the sphere")):
        axes[row, 0].set_ylabel(f"{where}: training loss")
        axes[row, 0].set_yscale("log")
        axes[row, 1].set_ylabel("test accuracy %")
        axes[row, 2].set_ylabel("λ (epoch mean)")
        for ax in axes[row]:
            ax.set_xlabel("epochs")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"Richemond & Guo 2019: weight-decay annealing, {record['network']} on MNIST "
                 f"({record['mode']} mode)")
    fig.tight_layout()
    path = stem + ".png"
    report.save_figure(fig, path, dpi=90)
    return [path]
