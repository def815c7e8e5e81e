# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""argparse types and options shared by the command-line subcommands."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

__all__ = ["add_output_options", "demo_method", "int_at_least", "positive_int"]


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer that is at least `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


positive_int = int_at_least(1)


def demo_method(text: str) -> str:
    """An argparse type: the name of one of the demo's methods (`demo.methods.METHODS`)."""
    from complexity_optax.demo import methods as methods_lib

    if text not in methods_lib.METHODS:
        raise argparse.ArgumentTypeError(
            f"unknown method {text!r}; valid: {', '.join(methods_lib.METHODS)}")
    return text


def add_output_options(parser: argparse.ArgumentParser, command: str, files: str,
                       json_help: str = "print the JSON document to stdout (the report goes "
                                        "to stderr)") -> None:
    """The options every subcommand shares: `--output-dir` (default `./outputs/<command>`),
    `--json` and `--no-progress`."""
    parser.add_argument("--output-dir", default=os.path.join("outputs", command),
                        help=f"folder for {files} (default: ./outputs/{command})")
    parser.add_argument("--json", action="store_true", help=json_help)
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (on a terminal) or lines (piped)")
