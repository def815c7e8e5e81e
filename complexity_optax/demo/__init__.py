# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""`python -m complexity_optax demo`: the methods side by side on real data.

Trains the same small tanh MLP on scikit-learn's digits with SGD, Adam, AnnealSGD, complexity
gradient descent (matched, cosine and two-step annealing) and the spherical and RMSProp-ellipsoid
trust regions, over several seeds, then prints a table, writes a JSON document of every number and
a figure of training loss against backpropagations.

Examples:
  >>> from complexity_optax.demo import DemoConfig, run_demo
  >>> config = DemoConfig(epochs=2, seeds=1, methods=("sgd",), output_dir="/tmp/demo")
  >>> document = run_demo(config)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
import traceback
from typing import Any

from complexity_optax.demo import methods as methods_lib
from complexity_optax.demo.progress import Progress

QUICK_EPOCHS = 10
DEFAULT_EPOCHS = 30
DEFAULT_SEEDS = 3


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    """What to run and where to write it."""

    epochs: int = DEFAULT_EPOCHS
    seeds: int = DEFAULT_SEEDS
    methods: tuple[str, ...] = methods_lib.DEFAULT_METHODS
    output_dir: str = os.path.join("outputs", "demo")
    as_json: bool = False
    progress: bool = True
    quick: bool = False


def run_demo(config: DemoConfig) -> dict[str, Any]:
    """Runs the demo and writes `results.json` and `loss_vs_backprops.png`; returns the JSON
    document. With `config.as_json` the document goes to stdout and the table to stderr;
    otherwise the table and the paths go to stdout."""
    from complexity_optax.demo import report
    from complexity_optax.demo.data import load_digits_split
    from complexity_optax.demo.train import Trainer

    out = sys.stderr if config.as_json else sys.stdout
    registry = methods_lib.METHODS
    runnable = [registry[name] for name in config.methods]

    start = time.perf_counter()
    data = load_digits_split()
    bar = Progress(len(runnable) * config.seeds * config.epochs, enabled=config.progress,
                   unit="epoch")

    def on_epoch(name: str, seed: int, epoch: int, loss: float) -> None:
        bar.update(description=f"{name} seed {seed}", postfix=f"loss={loss:.4f}")

    trainer = Trainer(data, config.epochs, on_epoch=on_epoch)
    results, failed = {}, {}
    for method in runnable:
        try:
            runs = []
            for seed in range(config.seeds):
                runs.append(trainer.run(method, seed))
            results[method.name] = runs
        except Exception as e:  # One broken method must not hide the others' results.
            failed[method.name] = f"{type(e).__name__}: {e}".splitlines()[0][:300]
            print(f"{method.name} failed:\n{traceback.format_exc()}", file=sys.stderr)
    bar.close()

    os.makedirs(config.output_dir, exist_ok=True)
    figure_path = os.path.join(config.output_dir, "loss_vs_backprops.png")
    json_path = os.path.join(config.output_dir, "results.json")
    info = {
        m.name: {
            "label": m.label,
            "batch_size": m.batch_size,
            "hyperparameters": m.hyperparameters,
        }
        for m in runnable
    }
    document = report.build_document(
        config={
            "epochs": config.epochs,
            "seeds": config.seeds,
            "methods": list(config.methods),
            "quick": config.quick,
            "dataset": {
                "name": "sklearn digits",
                "train": int(data.x_train.shape[0]),
                "test": int(data.x_test.shape[0]),
            },
            "model": "MLP 64-64-10, tanh",
        },
        results=results,
        method_info=info,
        failed=failed,
        figure_path=os.path.abspath(figure_path),
    )
    if results:
        report.plot_losses(document, figure_path)
    else:
        document["figure"] = None
    document["total_time"] = time.perf_counter() - start
    report.publish(document, report.format_table(document), json_path, as_json=config.as_json,
                   out=out)
    return document


__all__ = ["DemoConfig", "run_demo"]
