# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The `complexity-optax` command line (also `python -m complexity_optax`).

Subcommands are registered in `SUBCOMMANDS`: name -> `(help, add_arguments, run)`, where
`add_arguments(parser)` declares the subcommand's options and `run(args) -> int` executes it
and returns the exit status. Bad options are argparse errors (exit status 2), and so is an output
folder that cannot be written (checked before any computation). A closed stdout (``--json |
head``) is not an error; an interrupt (Ctrl-C) exits with status 130 and leaves the previous
results intact (outputs are replaced atomically).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from complexity_optax.demo.arguments import int_at_least, positive_int  # noqa: F401


# --------------------------------------------------------------------------------------- demo
def _method_list(text: str) -> tuple[str, ...]:
    from complexity_optax.demo.methods import parse_method_list

    try:
        return tuple(parse_method_list(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `demo`."""
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
    """Runs `demo`; exit status 1 if a method failed."""
    from complexity_optax.demo import (
        DEFAULT_EPOCHS,
        DEFAULT_SEEDS,
        QUICK_EPOCHS,
        DemoConfig,
        run_demo,
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
    "landscape": (
        "loss slices, contours and a trained mode-connecting curve between two trained MLPs",
        lambda parser: _demo_module("landscape").add_arguments(parser),
        lambda args: _demo_module("landscape").run_command(args),
    ),
    "reproduce": (
        "the papers' experiments on real MNIST (kohler2019, chaudhari2015, richemond2019)",
        lambda parser: _demo_module("reproduce").add_arguments(parser),
        lambda args: _demo_module("reproduce").run(args),
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per entry of `SUBCOMMANDS`."""
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
    """Parses `argv` (default `sys.argv[1:]`), runs the subcommand, returns its exit status.

    Bad options raise `SystemExit(2)` with argparse's message on stderr.

    Examples:
      >>> main(["demo", "--quick", "--output-dir", "/tmp/demo"])  # doctest: +SKIP
      0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_arguments(parser, args)
    _, _, run = SUBCOMMANDS[args.command]
    try:
        return run(args)
    except BrokenPipeError:  # stdout closed by the reader (--json | head): results are on disk
        from complexity_optax.demo.report import quiet_broken_pipe

        quiet_broken_pipe()
        return 0
    except KeyboardInterrupt:
        where = getattr(args, "output_dir", None)
        kept = f"; previous results in {where!r} left intact" if where else ""
        print(f"complexity-optax {args.command}: interrupted{kept}", file=sys.stderr)
        return 130


SEED_MAX = 2**63 - 1
"""The largest seed ``jax.random.key`` accepts (an int64)."""


def _check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Checks that need the parsed values, before any computation (argparse errors, exit 2):
    the output folder (a file, a path under a file, an unwritable path or '' fail at once) and
    the seed range."""
    seed = getattr(args, "seed", None)
    if isinstance(seed, int) and seed > SEED_MAX:
        parser.error(f"argument --seed: must be <= {SEED_MAX} (2**63 - 1), got {seed}")
    if hasattr(args, "output_dir"):
        from complexity_optax.demo.report import OutputDirError, check_output_dir

        try:
            check_output_dir(args.output_dir)
        except OutputDirError as e:
            parser.error(f"argument --{e}")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
