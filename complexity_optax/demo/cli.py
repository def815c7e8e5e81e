# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The ``complexity-optax`` command line (also ``python -m complexity_optax``).

Subcommands are registered in :data:`SUBCOMMANDS`: name -> ``(help, add_arguments, run)``, where
``add_arguments(parser)`` declares the subcommand's options and ``run(args) -> int`` executes it
and returns the exit status. Bad options are argparse errors (exit status 2).
"""

from __future__ import annotations

import argparse
import os
from typing import Callable, Sequence

from complexity_optax.demo.arguments import int_at_least, positive_int  # noqa: F401


# --------------------------------------------------------------------------------------- demo
def _method_list(text: str) -> tuple[str, ...]:
    from complexity_optax.demo.methods import parse_method_list

    try:
        return tuple(parse_method_list(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``demo``."""
    from complexity_optax.demo import DEFAULT_EPOCHS, DEFAULT_SEEDS, QUICK_EPOCHS
    from complexity_optax.demo.methods import METHODS

    parser.add_argument(
        "--quick", action="store_true",
        help=f"1 seed and {QUICK_EPOCHS} epochs (unless --seeds/--epochs say otherwise)",
    )
    parser.add_argument(
        "--epochs", type=positive_int, default=None,
        help=f"epochs per run (default {DEFAULT_EPOCHS}, {QUICK_EPOCHS} with --quick)",
    )
    parser.add_argument(
        "--seeds", type=positive_int, default=None,
        help=f"number of seeds (default {DEFAULT_SEEDS}, 1 with --quick)",
    )
    parser.add_argument(
        "--methods", type=_method_list, default=None,
        help=f"comma-separated methods (default: all): {', '.join(METHODS)}",
    )
    parser.add_argument(
        "--output-dir", default=os.path.join("outputs", "demo"),
        help="folder for results.json and loss_vs_backprops.png (default: ./outputs/demo)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the JSON document of all numbers to stdout"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_demo_command(args: argparse.Namespace) -> int:
    """Runs ``demo``; exit status 1 if a method failed."""
    from complexity_optax.demo import (
        DEFAULT_EPOCHS, DEFAULT_SEEDS, QUICK_EPOCHS, DemoConfig, run_demo,
    )
    from complexity_optax.demo.methods import DEFAULT_METHODS

    config = DemoConfig(
        epochs=args.epochs or (QUICK_EPOCHS if args.quick else DEFAULT_EPOCHS),
        seeds=args.seeds or (1 if args.quick else DEFAULT_SEEDS),
        methods=args.methods or DEFAULT_METHODS,
        output_dir=args.output_dir,
        as_json=args.json,
        progress=not args.no_progress,
        quick=args.quick,
    )
    document = run_demo(config)
    return 1 if document["failed"] else 0


# ---------------------------------------------------------------------- spin-glass, spectrum
def _demo_module(name: str):
    import importlib

    return importlib.import_module(f"complexity_optax.demo.{name}")


# ------------------------------------------------------------------------------- registration
AddArguments = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]

SUBCOMMANDS: dict[str, tuple[str, AddArguments, Run]] = {
    "demo": (
        "train one MLP on the digits with every method; table, JSON and figure",
        add_demo_arguments,
        run_demo_command,
    ),
    "spin-glass": (
        "projected GD and AnnealSGD minima on p-spin glasses vs theory; field trivialisation",
        lambda parser: _demo_module("spin_glass").add_arguments(parser),
        lambda args: _demo_module("spin_glass").run_command(args),
    ),
    "spectrum": (
        "Hessian spectrum (SLQ) of the trained digits MLP against a Wigner semicircle",
        lambda parser: _demo_module("spectrum").add_arguments(parser),
        lambda args: _demo_module("spectrum").run_command(args),
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per entry of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="complexity-optax",
        description=(
            "complexity_optax: optimizers and loss-landscape tools from statistical physics"
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, add_arguments, _) in SUBCOMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parses ``argv`` (default ``sys.argv[1:]``), runs the subcommand, returns its exit status.

    Bad options raise ``SystemExit(2)`` with argparse's message on stderr.

    Examples:
      >>> main(["demo", "--quick", "--output-dir", "/tmp/demo"])  # doctest: +SKIP
      0
    """
    args = build_parser().parse_args(argv)
    _, _, run = SUBCOMMANDS[args.command]
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
