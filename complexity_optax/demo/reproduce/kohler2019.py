# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Kohler, Adolphs & Lucchi (2019): ellipsoidal vs spherical trust regions on MNIST.

The authors' networks (FC 784-128-10 tanh, the 20-50-500 ConvNet, the 784-…-30-…-784 sigmoid
autoencoder) are trained by the trust region with the sphere (`identity`), the Adagrad and the
RMSProp ellipsoids, and by SGD, Adagrad, RMSprop and Adam, under the one protocol of
`protocol` (the same rule tunes every method's step size and every trust region's initial
radius on a validation split; every method gets the same backprop budget; 95% intervals over
seeds; holds / fails / inconclusive).

**Constants and their sources.** Every constant below names its source: the paper's Table 1
(appendix B), or the authors' configuration files (`jonaskohler/AdaptiveNormsNewton` at
c4743c5, `parameters/method/<dataset>/<net>/TR_<shape>.txt`). Where they disagree the paper's
table is the default and the code's value is a named variant (`VARIANTS`): for the RMSProp
ellipsoid on FC, γ_inc = 1.1 (Table 1) by default, 1.01 (the `mnist/fc/TR_rms.txt` file) as the
variant `authors_config`. Table 1 could not be read by this project's tools (the research notes
record it as not found); the value 1.1 is the one an outside audit read there, and it is also
what the authors' `fashion_mnist/fc` and `cifar/fc` RMSProp files use.

Differences from the authors' protocol (listed in the record): the 5,000 bundled digits instead
of 60,000 (their "small" setting), no L2 term, no "pivot" batch growth, and the `cpu` mode's
smaller subsets for the ConvNet and the autoencoder.

Claims tested (per network, seed-paired; the abstract's words):

* the ellipsoids "outperform" the sphere "in terms of number of backpropagations" (lower
  training loss at half the common backprop budget) "and asymptotic loss value" (lower limit
  loss: the mean of the last 3 of 10 equally spaced points up to the budget);
* "comparable performance to state-of-the-art first-order methods in terms of
  backpropagations": within 2× the best first-order method's backprops to a common loss.

Wall time is measured and reported, not judged.

Examples:
  >>> from complexity_optax.demo.reproduce import kohler2019
  >>> sorted(kohler2019.PRESETS["fc"]["trust_region"])
  ['adagrad', 'identity', 'rmsprop']
  >>> kohler2019.constants("fc", "rmsprop")["increase"]
  1.1
  >>> kohler2019.constants("fc", "rmsprop", variant="authors_config")["increase"]
  1.01
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

from complexity_optax import datasets
from complexity_optax.demo import report
from complexity_optax.demo.reproduce import optimizers, protocol, training

__all__ = ["PRESETS", "SETTINGS", "VARIANTS", "constants", "plot", "run_experiment",
           "summarise"]

_CODE = "AdaptiveNormsNewton@c4743c5 parameters/method"

# The authors' constants per network. `source` names where each block comes from.
PRESETS = {
    "fc": {
        "loss": "ce",
        "trust_region": {
            "identity": dict(initial_radius=0.05, max_radius=10.0, eta1=0.01, eta2=0.95,
                             increase=1.1, decrease_divisor=1.5),
            "adagrad": dict(initial_radius=0.05, max_radius=10.0, eta1=0.01, eta2=0.95,
                            increase=1.1, decrease_divisor=1.25),
            # increase: the paper's Table 1 (appendix B) value; the code file has 1.01
            # (variant "authors_config").
            "rmsprop": dict(initial_radius=1e-4, max_radius=10.0, eta1=0.01, eta2=0.95,
                            increase=1.1, decrease_divisor=1.75),
        },
        "sources": {
            "identity": f"{_CODE}/mnist/fc/TR_uniform.txt",
            "adagrad": f"{_CODE}/mnist/fc/TR_adagrad.txt",
            "rmsprop": (f"{_CODE}/mnist/fc/TR_rms.txt, except increase = 1.1 from the paper's "
                        "Table 1 (appendix B; the file has 1.01)"),
            "warm_start": f"{_CODE}/mnist/fc/TR_*.txt (1st_order_epochs 0 = one SGD epoch, "
                          "learning_rate 0.005)",
            "first_order": f"{_CODE}/mnist/fc/{{SGD,Adagrad,Rmsprop}}.txt; Adam 1e-3: torch "
                           "default (the authors' code has no Adam)",
            "batch": f"{_CODE}/mnist/fc/TR_*.txt sample_size 512, sample_size_sgd 128",
        },
        "warm_start": ("sgd", 0.005),
        "first_order": {"sgd": 0.05, "adagrad": 0.05, "rmsprop": 1e-4, "adam": 1e-3},
    },
    "conv": {
        "loss": "ce",
        "trust_region": {
            name: dict(initial_radius=1e-4, max_radius=10.0, eta1=1e-5, eta2=0.9, increase=1.1,
                       decrease_divisor=1.5 if name == "rmsprop" else 1.1)
            for name in ("identity", "adagrad", "rmsprop")
        },
        "sources": {
            "identity": f"{_CODE}/mnist/conv/TR_uniform.txt",
            "adagrad": f"{_CODE}/mnist/conv/TR_adagrad.txt",
            "rmsprop": f"{_CODE}/mnist/conv/TR_rms.txt",
            "warm_start": f"{_CODE}/mnist/conv/TR_*.txt (one RMSprop epoch, lr 5e-4)",
            "first_order": f"{_CODE}/fashion_mnist/conv/{{SGD,Adagrad,Rmsprop}}.txt (the "
                           "mnist/conv folder has none); Adam 1e-3: torch default",
            "batch": f"{_CODE}/mnist/conv/TR_*.txt sample_size 2048 (cpu mode: 250)",
        },
        "warm_start": ("rmsprop", 5e-4),
        "first_order": {"sgd": 1e-2, "adagrad": 1e-2, "rmsprop": 1e-4, "adam": 1e-3},
    },
    "autoencoder": {
        "loss": "mse",
        "trust_region": {
            name: dict(initial_radius=1e-3, max_radius=10.0, eta1=1e-5, eta2=0.9, increase=1.1,
                       decrease_divisor=1.25)
            for name in ("identity", "adagrad", "rmsprop")
        },
        "sources": {
            "identity": f"{_CODE}/fashion_mnist/autoenc/TR_uniform.txt (MSE, batch 512)",
            "adagrad": f"{_CODE}/fashion_mnist/autoenc/TR_adagrad.txt",
            "rmsprop": f"{_CODE}/fashion_mnist/autoenc/TR_rms.txt",
            "warm_start": f"{_CODE}/fashion_mnist/autoenc/TR_*.txt (one Adagrad epoch, lr 0.01)",
            "first_order": f"{_CODE}/fashion_mnist/autoenc/{{SGD,Adagrad,Rmsprop}}.txt; Adam "
                           "1e-3: torch default",
            "batch": f"{_CODE}/fashion_mnist/autoenc/TR_*.txt sample_size 512",
        },
        "warm_start": ("adagrad", 0.01),
        "first_order": {"sgd": 0.05, "adagrad": 0.01, "rmsprop": 1e-3, "adam": 1e-3},
    },
}

# Named departures from the defaults: {variant: {network: {ellipsoid: {constant: value}}}}.
VARIANTS = {
    "authors_config": {
        "fc": {"rmsprop": {"increase": 1.01}},
        "source": f"{_CODE}/mnist/fc/TR_rms.txt (increase_mult 1.01)",
    },
}

TR_LABELS = {"identity": "TR sphere", "adagrad": "TR Adagrad", "rmsprop": "TR RMSProp"}
FO_LABELS = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam"}

# Per mode and network: data size (None: all 5,000), batches, the common backprop budget, CG
# cap, evaluation subset, tuning extensions. Batches: the authors' (FC/autoencoder TR 512,
# first-order 128) except where a mode shrinks them.
#
# cpu sizing (an estimate from single runs, not a full run): CPU seconds (user + sys) per run,
# measured on the 2-core machine under a load of 8-10: FC (1,200 backprops) first-order 2-3 s,
# TR 2-5 s; ConvNet (150 backprops) first-order ~8 s, TR ~16-17 s, plus ~5 s / ~15 s of
# compilation per method; autoencoder (150) first-order ~3 s, TR ~7 s. With at most 5 tuning
# points per method (3 + 2 extensions) and 5 seeds, 7 methods per network: about 3 + 15 + 6 =
# 24 CPU minutes, so under 30 minutes of wall time on 2 idle cores (XLA uses both). At these
# budgets the trust regions at the authors' Δ₀ leave their radius-limited start before the
# limit window on FC and for the ConvNet's ellipsoids, not for the ConvNet's sphere (72 steps,
# all very successful, at Δ₀ = 1e-4); the tuning rule treats such a run as invalid and moves the
# grid up, so the chosen Δ₀ leaves it on the tuning seed.
_QUICK = dict(num_samples=750, tr_batch=200, fo_batch=50, budget=120, max_cg=10,
              eval_size=150, max_extensions=1)
SETTINGS = {
    "quick": {"networks": ("fc",), "fc": _QUICK, "conv": _QUICK, "autoencoder": _QUICK},
    "cpu": {
        "networks": ("fc", "conv", "autoencoder"),
        "fc": dict(num_samples=None, tr_batch=512, fo_batch=128, budget=1200, max_cg=50,
                   eval_size=1000, max_extensions=2),
        "conv": dict(num_samples=1250, tr_batch=250, fo_batch=128, budget=150, max_cg=10,
                     eval_size=250, max_extensions=2),
        "autoencoder": dict(num_samples=1250, tr_batch=250, fo_batch=128, budget=150,
                            max_cg=10, eval_size=250, max_extensions=2),
    },
    "full": {
        "networks": ("fc", "conv", "autoencoder"),
        "fc": dict(num_samples=None, tr_batch=512, fo_batch=128, budget=4000, max_cg=50,
                   eval_size=4000, max_extensions=3),
        "conv": dict(num_samples=None, tr_batch=2048, fo_batch=128, budget=4000, max_cg=50,
                     eval_size=4000, max_extensions=3),
        "autoencoder": dict(num_samples=None, tr_batch=512, fo_batch=128, budget=4000,
                            max_cg=50, eval_size=4000, max_extensions=3),
    },
}


def constants(network: str, ellipsoid: str, variant: str | None = None) -> dict:
    """The trust-region constants of `network`/`ellipsoid`, with `variant`'s changes."""
    out = dict(PRESETS[network]["trust_region"][ellipsoid])
    if variant:
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
        out.update(VARIANTS[variant].get(network, {}).get(ellipsoid, {}))
    return out


def _task(network: str, setting: dict) -> training.Task:
    data = datasets.load_mnist(num_samples=setting["num_samples"])
    if PRESETS[network]["loss"] == "mse":
        y_train, y_test = data.flat()
    else:
        y_train, y_test = data.y_train, data.y_test
    return training.make_task(network, PRESETS[network]["loss"], data.x_train, y_train,
                              data.x_test, y_test, eval_size=setting["eval_size"])


def _warm(network: str, setting: dict) -> training.MethodSpec:
    warm_name, warm_lr = PRESETS[network]["warm_start"]
    return training.MethodSpec(
        f"warm-start {warm_name}", lambda: optimizers.first_order(warm_name, warm_lr),
        batch_size=setting["fo_batch"], key=warm_name)


def _tr_spec(network: str, ell: str, setting: dict, radius: float, variant: str | None):
    config = dict(constants(network, ell, variant), max_cg_iters=setting["max_cg"])
    config["initial_radius"] = float(radius)
    key = "tr-" + ell + "-" + repr(sorted((k, v) for k, v in config.items()
                                          if k != "initial_radius"))
    warm_name, warm_lr = PRESETS[network]["warm_start"]
    return training.MethodSpec(
        TR_LABELS[ell], lambda config=config: optimizers.trust_region(ell, **config),
        batch_size=setting["tr_batch"], kind="trust_region",
        warm_start=(_warm(network, setting), 1),
        key=key, config=dict(config, ellipsoid=ell, warm_start=[warm_name, warm_lr]))


def _fo_spec(name: str, setting: dict, lr: float):
    return training.MethodSpec(
        FO_LABELS[name], lambda: optimizers.first_order(name, lr), batch_size=setting["fo_batch"],
        key=name, config={"learning_rate": float(lr)})


def _train(task, spec, seed, setting):
    # Epoch cap: enough for the budget at one backprop per sample-batch (first-order), plus
    # the warm start; the budget stops every run.
    steps_per_epoch = max(1, task.n_train // spec.batch_size)
    epochs = int(np.ceil(setting["budget"] / steps_per_epoch)) + 2
    return training.train(task, spec, seed=seed, epochs=epochs, max_backprops=setting["budget"])


def _left_in_time(run: dict, budget: float) -> bool:
    """Whether a trust-region run left its radius-limited start before the limit window
    (`protocol.limit_window_start`): otherwise its limit loss measures Δ₀ and γ_inc."""
    left_at = run.get("tr_left_at_backprops")
    return left_at is not None and left_at <= protocol.limit_window_start(budget)


def _lean(run: dict) -> dict:
    """A run without its per-epoch probes (kept small in the record)."""
    return {k: v for k, v in run.items() if k != "probes"}


def run_experiment(*, mode: str, seeds: int | None = None, networks: Sequence[str] | None = None,
                   progress: bool = True, variant: str | None = None) -> dict:
    """Tunes, then runs every method on every network and seed; returns the JSON-ready record."""
    settings = SETTINGS[mode]
    networks = tuple(networks or settings["networks"])
    for net in networks:
        if net not in PRESETS:
            raise SystemExit(f"reproduce kohler2019: unknown network {net!r} "
                             f"(choose from {sorted(PRESETS)})")
    if variant is not None and variant not in VARIANTS:
        raise SystemExit(f"reproduce kohler2019: unknown variant {variant!r} "
                         f"(choose from {sorted(VARIANTS)})")
    seed_list = protocol.seeds_for(mode, seeds)
    record = {"paper": "Kohler, Adolphs & Lucchi 2019 (arXiv:1905.09201)", "networks": {},
              "variant": variant, "variants": copy.deepcopy(VARIANTS), "tables": [],
              "verdicts": []}
    for net in networks:
        setting = settings[net]
        base = _task(net, setting)
        tune_task = training.with_split(base, protocol.TUNING_SEED, protocol.VALIDATION_FRACTION)
        budget = setting["budget"]

        def score(spec, tune_task=tune_task, setting=setting, budget=budget):
            # A trust region that never left its radius-limited start is not a valid point
            # (it measured Δ₀ and γ_inc, not the method): +inf, and the grid moves up.
            run = _train(tune_task, spec, protocol.TUNING_SEED, setting)
            if spec.kind == "trust_region" and not _left_in_time(run, budget):
                return None
            return protocol.limit_value(run["backprops"], run["val_loss"], budget)

        tuning, chosen = {}, {}
        for ell in TR_LABELS:
            center = constants(net, ell, variant)["initial_radius"]
            res = protocol.tune(
                lambda r, ell=ell, net=net, setting=setting: score(
                    _tr_spec(net, ell, setting, r, variant)),
                center, max_extensions=setting["max_extensions"], when_all_invalid="up")
            tuning[TR_LABELS[ell]] = dict(res, what="initial radius")
            chosen[TR_LABELS[ell]] = _tr_spec(net, ell, setting, res["best"], variant)
        for name, lr in PRESETS[net]["first_order"].items():
            res = protocol.tune(
                lambda v, name=name, setting=setting: score(_fo_spec(name, setting, v)), lr,
                max_extensions=setting["max_extensions"], when_all_invalid="down")
            tuning[FO_LABELS[name]] = dict(res, what="learning rate")
            chosen[FO_LABELS[name]] = _fo_spec(name, setting, res["best"])
        if progress:
            for label, res in tuning.items():
                training.progress(f"[kohler2019 {mode}] {net} tuned "
                                  + protocol.tuning_note(label, res, res["what"]))
        best_fo = min(FO_LABELS.values(),
                      key=lambda lab: min(tuning[lab]["scores"]))
        runs = {}
        for label, spec in chosen.items():
            runs[label] = {"config": spec.config, "batch_size": spec.batch_size, "seeds": []}
            for seed in seed_list:
                task = training.with_split(base, seed, protocol.VALIDATION_FRACTION)
                run = _train(task, spec, seed, setting)
                runs[label]["seeds"].append(_lean(run))
                if progress:
                    training.progress(
                        f"[kohler2019 {mode}] {net} {label} seed {seed}: loss "
                        f"{run['final_train_loss']:.4g}, {run['backprops'][-1]} backprops, "
                        f"{run['wall_s'][-1]:.1f}s (+{run['compile_s']:.1f}s compile)")
        record["networks"][net] = {
            "setting": setting, "budget": budget, "n_train": len(tune_task.x_train),
            "n_val": len(tune_task.x_val), "n_test": len(base.x_test),
            "metric": "accuracy" if base.loss_kind == "ce" else "reconstruction MSE",
            "sources": PRESETS[net]["sources"], "tuning": tuning, "best_first_order": best_fo,
            "runs": runs,
        }
    summarise(record)
    record["deviations"] = [
        "5,000 bundled MNIST digits (4,000 train / 1,000 test), the authors' 'small' size; "
        f"{protocol.VALIDATION_FRACTION:.0%} of the training images (rounded to the evaluation "
        "chunk) held out per seed for tuning",
        "no L2 term (the authors add 1e-4 * sum of per-tensor norms)",
        "no 'pivot' safeguard (undoing steps, growing the batch)",
        "backprops = gradients + HVPs (the authors count HVPs only, min 1 per step)",
        "step sizes and initial radii tuned on a validation split by one rule (the authors "
        "used fixed values); every method run to the same backprop budget",
        "cpu mode: ConvNet and autoencoder on 1,250-image subsets, TR batch 250, 10 CG steps",
        "autoencoder: the fashion_mnist/autoenc constants (batch 512, MSE)",
    ]
    return record


def summarise(record: dict) -> dict:
    """Fills `record["tables"]` and `record["verdicts"]` from the saved runs (a pure function
    of the record, so a saved record can be re-summarised without training)."""
    record["tables"], record["verdicts"], record["tuning_notes"] = [], [], []
    for net, info in record["networks"].items():
        record["tuning_notes"] += [f"{net}: " + protocol.tuning_note(label, res, res["what"])
                                   for label, res in info["tuning"].items()]
        record["tuning_notes"].append(
            f"{net}: best first-order method by tuning-seed validation loss: "
            f"{info['best_first_order']}")
        table, out = _summarise(net, info)
        record["tables"].append(table)
        record["verdicts"].extend(v.to_json() for v in out)
    return record


def _summarise(net: str, info: dict):
    budget = info["budget"]
    runs = {label: entry["seeds"] for label, entry in info["runs"].items()}
    half = budget / 2.0

    def limit(r, key="train_loss"):
        return protocol.limit_value(r["backprops"], r[key], budget)

    def at(r, x, key="train_loss"):
        return protocol.curve_at(r["backprops"], r[key], [x])[0]

    def limited(label):
        """Reasons that make this label's runs invalid (radius-limited on some seeds)."""
        if not label.startswith("TR"):
            return []
        bad = sum(1 for r in runs[label] if not _left_in_time(r, budget))
        return ([f"{label} still radius-limited at the limit window on {bad} seed(s)"]
                if bad else [])

    classify = info["metric"] == "accuracy"
    scale = 100.0 if classify else 1.0
    rows = []
    for label, rs in runs.items():
        tun = info["tuning"][label]
        cells = [label, f"{tun['best']:.3g}" + (" (edge)" if tun["at_edge"] else "")]
        for values in ([limit(r) for r in rs], [at(r, half) for r in rs],
                       [None if at(r, budget, "test_metric") is None
                        else at(r, budget, "test_metric") * scale for r in rs],
                       [r["backprops"][-1] for r in rs], [r["wall_s"][-1] for r in rs]):
            cells.append(protocol.format_interval(values))
        if label.startswith("TR"):
            cells.append(f"{sum(r['tr_accepted'] for r in rs)}/{sum(r['tr_steps'] for r in rs)}")
            left = [r.get("tr_left_at_backprops") for r in rs]
            cells.append(f"{sum(_left_in_time(r, budget) for r in rs)}/{len(rs)} "
                         f"(at {protocol.format_interval(left, empty='never')} bp)")
            cells.append(protocol.format_interval([r["tr_final_radius"] for r in rs]))
        else:
            cells += ["-", "-", "-"]
        rows.append(cells)
    metric_name = "test acc %" if classify else "test recon MSE"
    n_seeds = len(next(iter(runs.values())))
    table = {"title": f"{net}: {info['n_train']} training images, {n_seeds} seeds, "
                      f"budget {budget:g} backprops",
             "columns": ["method", "tuned lr / Δ₀", "limit train loss", f"loss at {half:g} bp",
                         f"{metric_name} at budget", "backprops run", "wall s (measured)",
                         "TR accepted/steps", "TR left start by the limit window",
                         "TR final radius"],
             "rows": rows}
    name = {"fc": "FC", "conv": "ConvNet", "autoencoder": "autoencoder"}[net]
    sphere = "TR sphere"
    out = []
    for ell in ("TR RMSProp", "TR Adagrad"):
        invalid = limited(ell) + limited(sphere)
        a, b = [at(r, half) for r in runs[ell]], [at(r, half) for r in runs[sphere]]
        out.append(protocol.compare(
            f"{ell} ellipsoid beats TR sphere in training loss at equal backprops "
            f"({half:g}) on {name}", a, b, invalid=invalid,
            note=f"loss {protocol.format_interval(a)} vs {protocol.format_interval(b)}"))
        a, b = [limit(r) for r in runs[ell]], [limit(r) for r in runs[sphere]]
        out.append(protocol.compare(
            f"{ell} ellipsoid reaches a lower limit training loss than TR sphere at "
            f"{budget:g} backprops on {name}", a, b, invalid=invalid,
            note=f"loss {protocol.format_interval(a)} vs {protocol.format_interval(b)}"))
    fo = info["best_first_order"]
    for ell in ("TR RMSProp", "TR Adagrad"):
        a, b = [], []
        for r, f in zip(runs[ell], runs[fo], strict=False):
            la, lb = limit(r), limit(f)
            if la is None or lb is None:
                a.append(None), b.append(None)
                continue
            target = max(la, lb)
            a.append(protocol.first_reaching(r["backprops"], r["train_loss"], target))
            b.append(protocol.first_reaching(f["backprops"], f["train_loss"], target))
        out.append(protocol.ratio_band(
            f"{ell} comparable (within 2x) to the best first-order method ({fo}) in backprops "
            f"to the worse of their two limit losses on {name}", a, b, invalid=limited(ell),
            note=f"backprops {protocol.format_interval(a)} vs {protocol.format_interval(b)}"))
    return table, out


def plot(record: dict, stem: str) -> list[str]:
    """Training loss against backprops and wall time, and the trust regions' radii against
    backprops; one row per network, one line per seed."""
    nets = list(record["networks"])
    fig, axes = report.new_figure(len(nets), 3, figsize=(13, 3.4 * len(nets)), squeeze=False)
    colors = report.COLORS
    for row, net in enumerate(nets):
        info = record["networks"][net]
        for i, (label, entry) in enumerate(info.get("runs", {}).items()):
            if not isinstance(entry, dict) or "seeds" not in entry:
                continue
            style = "-" if label.startswith("TR") else "--"
            for s, run in enumerate(entry["seeds"]):
                kw = dict(color=colors[i % len(colors)], alpha=1.0 if s == 0 else 0.35,
                          label=label if s == 0 else None)
                axes[row, 0].plot(run["backprops"], run["train_loss"], style, **kw)
                axes[row, 1].plot(run["wall_s"], run["train_loss"], style, **kw)
                if "tr_radius" in run:
                    pts = [(x, r) for x, r in zip(run["backprops"], run["tr_radius"], strict=False)
                           if r is not None]
                    if pts:
                        axes[row, 2].plot(*zip(*pts, strict=False), style, **kw)
        if "budget" in info:
            axes[row, 0].axvline(info["budget"], color="0.6", lw=0.8)
        for col, (xlabel, ylabel) in enumerate((
                ("backprops (gradients + HVPs)", f"{net}: training loss"),
                ("wall time (s, measured)", f"{net}: training loss"),
                ("backprops", "trust-region radius"))):
            ax = axes[row, col]
            ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
        axes[row, 0].legend(fontsize=7)
    fig.suptitle(f"Kohler et al. 2019 on MNIST ({record['mode']} mode)")
    fig.tight_layout()
    path = stem + ".png"
    report.save_figure(fig, path, dpi=90)
    return [path]
