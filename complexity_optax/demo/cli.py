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
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from complexity_optax.demo.arguments import (  # noqa: F401
    add_output_options,
    int_at_least,
    positive_int,
)


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
    add_output_options(parser, "demo", "results.json and loss_vs_backprops.png",
                       "print the JSON document of all numbers to stdout")


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

    Bad options raise `SystemExit(2)` with argparse's message on stderr. An interrupt (Ctrl-C,
    SIGINT) at any point after the package is imported prints one line on stderr and ends with
    status 130; outputs are replaced atomically, so the previous results are left intact and no
    temporary file remains. Called as the program (`argv` omitted: the `complexity-optax`
    script and `python -m complexity_optax`), the process then ends at once with
    `os._exit(130)` after flushing stdout and stderr, see `_exit_interrupted`; called with an
    explicit `argv` (from Python), it returns 130.

    Examples:
      >>> main(["demo", "--quick", "--output-dir", "/tmp/demo"])  # doctest: +SKIP
      0
    """
    command, where = None, None
    previous_hook = sys.unraisablehook
    hook = sys.unraisablehook = _rearm_lost_interrupt(previous_hook)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command, where = args.command, getattr(args, "output_dir", None)
        _check_arguments(parser, args)
        _, _, run = SUBCOMMANDS[args.command]
        try:
            return run(args)
        except BrokenPipeError:  # stdout closed by the reader (--json | head): results are on disk
            from complexity_optax.demo.report import quiet_broken_pipe

            quiet_broken_pipe()
            return 0
    except KeyboardInterrupt:
        program = argv is None
        if program:
            _ignore_further_interrupts()
        name = f"complexity-optax {command}" if command else "complexity-optax"
        kept = f"; previous results in {where!r} left intact" if where else ""
        newline = "\n" if _isatty(sys.stderr) else ""  # end a progress line (\r ...) first
        _print_quietly(f"{newline}{name}: interrupted{kept}", sys.stderr)
        if program:
            _exit_interrupted()
        return INTERRUPTED
    finally:
        if sys.unraisablehook is hook:
            sys.unraisablehook = previous_hook


def _rearm_lost_interrupt(previous: Callable[[Any], Any]) -> Callable[[Any], None]:
    """The `sys.unraisablehook` while `main` runs: re-delivers a Ctrl-C that Python had to drop.

    Python runs the SIGINT handler at the next bytecode boundary of the main thread, which may be
    inside a garbage-collector callback or a `__del__`; a KeyboardInterrupt raised there cannot
    propagate: Python reports it as "Exception ignored in: <function _xla_gc_callback ...>"
    (jax's gc callback, which runs at every collection, often while jax traces) and drops it,
    and the program went on and overwrote its results with exit status 0 (measured: 3 runs in 3
    of `demo --quick` on a terminal, 1 in 8 of `spectrum --quick`, interrupted 1 s after their
    first compilation). The hook
    re-delivers it with `_thread.interrupt_main()` (the signal again), from a short-lived thread
    10 ms later: called here, the handler would run at once, inside this hook, and be dropped
    again ("Exception ignored in sys.unraisablehook"). Should the re-delivered one land in a gc
    callback again, it comes back here and is re-delivered once more. Other unraisable
    exceptions go to the `previous` hook.
    """
    import _thread
    import threading

    def hook(unraisable) -> None:
        exc_type = getattr(unraisable, "exc_type", None)
        if isinstance(exc_type, type) and issubclass(exc_type, KeyboardInterrupt):
            timer = threading.Timer(0.01, _thread.interrupt_main)
            timer.daemon = True
            timer.start()
            return
        previous(unraisable)

    return hook


INTERRUPTED = 130
"""The exit status after an interrupt (128 + SIGINT, the shells' convention)."""


def _ignore_further_interrupts() -> None:
    """Ignores SIGINT from now on (the program is ending): a second Ctrl-C must not raise a new
    KeyboardInterrupt while the message is printed and the streams are flushed."""
    import signal

    # Not the main thread, or no such signal: nothing to do.
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _print_quietly(text: str, stream) -> None:
    # A closed or broken stream: the exit status still says it.
    with contextlib.suppress(OSError, ValueError):
        print(text, file=stream, flush=True)


def _exit_interrupted() -> None:
    """Flushes stdout and stderr, then ends the process at once with status 130 (`os._exit`).

    Why not `return 130` / `sys.exit(130)`: a Ctrl-C often lands while jaxlib waits for an XLA
    compilation, which runs on a worker thread of the PjRt client's thread pool; the wait is
    interrupted (KeyboardInterrupt) but the compilation goes on. A normal interpreter exit then
    destroys the jax client (jax's atexit `clean_up`, or the final garbage collection):
    `~PjRtClient` frees the CPU devices and joins the thread pool while the orphaned compilation
    still runs, and that compilation dereferences a freed device
    (`xla::ifrt::SingleDeviceSharding::Create`, a call through a null pointer): SIGSEGV, exit -11,
    after the "interrupted" message (a core dump of `spectrum --quick` shows exactly these two
    threads; jax 0.10.2). It is a race, so some runs exited 130. The compile cannot be cancelled or
    awaited from Python, so the process must not run the interpreter's teardown: `os._exit` ends it
    without finalisation. Nothing is lost by that here: every output file was written atomically and
    each writer's temporary file was removed while the KeyboardInterrupt unwound through it; stdout
    and stderr are flushed below; the atexit handlers skipped write no results (jax's tear its
    runtime down; matplotlib's removes the temporary config folder it makes only when `MPLCONFIGDIR`
    is not writable).
    """
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (--json | head) or no stream.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    os._exit(INTERRUPTED)


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
