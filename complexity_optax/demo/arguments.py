# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""argparse types shared by the command-line subcommands."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["int_at_least", "positive_int"]


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
