# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""`complexity-optax reproduce NAME`: the papers' experiments on real MNIST, with verdicts.

`NAME` is one of

* `kohler2019`: ellipsoidal vs spherical trust regions against SGD/Adagrad/RMSprop/Adam on the
  authors' FC network, ConvNet and autoencoder (Kohler, Adolphs & Lucchi 2019);
* `chaudhari2015`: AnnealSGD vs Adam, momentum SGD and the resampled-noise baseline on mnistfc
  and LeNet (Chaudhari & Soatto 2015);
* `richemond2019`: weight-decay annealing schemes (none, constant, matched, cosine, two-step,
  lr-matched), on and off the sphere (Richemond & Guo 2019).

Each run writes `reproduce_<NAME>_<mode>.json` (atomically) and `.md` (the table and the
verdict lines) to `--output-dir`, and its figures to `--figures-dir` (default: the same).
Modes: `--quick` (tiny subsets, a few steps: CI), the default `cpu` mode (sized for 2 CPU
cores, under 30 minutes) and `--scale full` (sized for one GPU).

Examples:
  >>> import argparse
  >>> from complexity_optax.demo import reproduce
  >>> parser = argparse.ArgumentParser()
  >>> reproduce.add_arguments(parser)
  >>> args = parser.parse_args(["kohler2019", "--quick", "--seeds", "2"])
  >>> reproduce.mode_of(args), args.seeds
  ('quick', 2)

Every experiment follows the one protocol of `protocol` (tuning on a validation split, equal
budgets, 95% intervals over seeds, holds / fails / inconclusive), and every record carries the
library version and a fingerprint of the source that produced it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from typing import Any

from complexity_optax.demo import report
from complexity_optax.demo.arguments import add_output_options, positive_int

__all__ = ["EXPERIMENTS", "add_arguments", "format_markdown", "mode_of", "run", "write_json"]

EXPERIMENTS = {
    "kohler2019": "ellipsoidal vs spherical trust region, FC / ConvNet / autoencoder on MNIST",
    "chaudhari2015": "AnnealSGD vs Adam and resampled noise on mnistfc and LeNet",
    "richemond2019": "weight-decay annealing schemes on and off the sphere, ConvNet on MNIST",
}
MODES = ("quick", "cpu", "full")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `reproduce`."""
    parser.add_argument("name", choices=sorted(EXPERIMENTS), help="the experiment (paper)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny subsets and a few steps (what CI runs; under 2 minutes)")
    parser.add_argument("--scale", choices=MODES, default=None,
                        help="quick, cpu (default; 2 CPU cores, < 30 min) or full (one GPU)")
    parser.add_argument("--seeds", type=positive_int, default=None,
                        help="number of seeds (default: 2 quick, 5 cpu, 5 full)")
    parser.add_argument("--variant", default=None,
                        help="a named variant of the paper's constants (kohler2019: "
                             "authors_config, the authors' config files where they differ "
                             "from the paper's table)")
    parser.add_argument("--networks", default=None,
                        help="comma-separated subset of the experiment's networks")
    add_output_options(parser, "reproduce", "the JSON record and the table",
                       "print the JSON record to stdout instead of the table")
    parser.add_argument("--figures-dir", default=None,
                        help="folder for the figures (default: --output-dir)")


def mode_of(args: argparse.Namespace) -> str:
    """`quick` if `--quick`, else `--scale` (default `cpu`)."""
    if args.quick:
        if args.scale not in (None, "quick"):
            raise SystemExit(f"reproduce: --quick contradicts --scale {args.scale}")
        return "quick"
    return args.scale or "cpu"


def write_json(document: Any, path: str) -> str:
    """Writes a record atomically (`report.write_json`, one space of indent); non-finite numbers
    (a diverged run's loss) are written as `null`: the file is strict JSON."""
    return report.write_json(document, path, indent=1)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_markdown(document: dict) -> str:
    """The tables (mean ± std over seeds) and verdict lines of a record, as Markdown."""
    lines = [f"# {document['experiment']} ({document['mode']} mode, {document['seeds']} seeds)", ""]
    if document["mode"] == "quick":
        lines += [("Quick mode: tiny subsets and a few steps. A smoke test, not the "
                   "paper-scale result."), ""]
    if "source_fingerprint" in document:
        lines += [f"Library {document.get('library_version')}, source fingerprint "
                  f"`{document['source_fingerprint'][:12]}`, protocol "
                  f"v{document.get('protocol_version')}. Numbers: mean [95% t-interval over "
                  "seeds]; verdicts: holds / fails / inconclusive on the paired interval.", ""]
    for table in document["tables"]:
        lines += [f"## {table['title']}", "",
                  "| " + " | ".join(table["columns"]) + " |",
                  "|" + "---|" * len(table["columns"])]
        lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in table["rows"]]
        lines.append("")
    lines += ["## Verdicts", ""]
    lines += [f"- {v['line']}" for v in document["verdicts"]]
    lines.append("")
    notes = document.get("tuning_notes")
    if notes:
        lines += ["## Tuning", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


_ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16",
              "avx512_fp16", "amx_tile")


def _cpu_model() -> str:
    """The CPU's model name and the vector extensions XLA may target (float32 rounding, hence
    a run's numbers, can depend on them)."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                if flags and not name.startswith(platform.machine()):
                    break
    except OSError:
        pass
    isa = [f for f in _ISA_FLAGS if f in flags]
    return name + (f" ({' '.join(isa)})" if isa else "")


def run(args: argparse.Namespace) -> int:
    """Runs one experiment; writes the JSON record, the Markdown table and the figures.

    Returns 0, or 1 if the experiment reports `failed` (its numbers are still written).
    """
    mode = mode_of(args)
    module = importlib.import_module(f"complexity_optax.demo.reproduce.{args.name}")
    from complexity_optax.demo.reproduce import protocol

    seeds = args.seeds or protocol.SEEDS[mode]
    networks = tuple(args.networks.split(",")) if args.networks else None
    figures_dir = args.figures_dir or args.output_dir
    os.makedirs(args.output_dir, exist_ok=True)
    os.makedirs(figures_dir, exist_ok=True)
    variant = getattr(args, "variant", None)
    if variant and not hasattr(module, "VARIANTS"):
        raise SystemExit(f"reproduce {args.name}: no variants (--variant {variant})")
    # A variant's record never overwrites the default one.
    stem = f"reproduce_{args.name}_{mode}" + (f"_{variant}" if variant else "")
    provenance = protocol.provenance()  # of the source as the run starts
    start = time.perf_counter()
    extra = {"variant": variant} if variant else {}
    document = module.run_experiment(mode=mode, seeds=seeds, networks=networks,
                                     progress=not args.no_progress, **extra)
    import jax
    document.update(provenance)
    document.update({
        "experiment": args.name, "mode": mode, "seeds": seeds,
        "command": " ".join(["reproduce", args.name] + (["--quick"] if mode == "quick" else
                            ([] if mode == "cpu" else ["--scale", mode]))
                            + ([f"--seeds {args.seeds}"] if args.seeds else [])
                            + ([f"--networks {args.networks}"] if args.networks else [])
                            + ([f"--variant {args.variant}"] if extra else [])),
        "wall_s": round(time.perf_counter() - start, 1),
        "platform": {"python": platform.python_version(), "jax": jax.__version__,
                     "backend": jax.default_backend(), "cpu_count": os.cpu_count(),
                     "cpu_model": _cpu_model(), "xla_flags": os.environ.get("XLA_FLAGS", "")},
    })
    document["figures"] = [os.path.relpath(p) for p in
                           module.plot(document, os.path.join(figures_dir, stem))]
    write_json(document, os.path.join(args.output_dir, stem + ".json"))
    markdown = format_markdown(document)
    report.atomic_write_text(os.path.join(args.output_dir, stem + ".md"), markdown)
    if args.json:
        json.dump(report.finite_or_none(document), sys.stdout, indent=1, allow_nan=False)
        print()
    else:
        print(markdown)
    return 1 if document.get("failed") else 0
