# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Progress of a long command-line run, on stderr, whether or not stderr is a terminal.

On a terminal it is a tqdm bar (or, without a known total, one status line rewritten in place).
Piped to a file or a CI log it is plain lines: the first update, every change of phase (the
description: a method, a seed, an instance) and otherwise at most one line every `interval`
seconds, then a closing line with the elapsed time. `enabled=False` (the CLI's `--no-progress`)
prints nothing. Stdout is never touched, so tables and JSON stay clean.

Examples:
  >>> import io
  >>> stream = io.StringIO()
  >>> with Progress(3, unit="epoch", stream=stream, interval=0.0, clock=lambda: 0.0) as bar:
  ...     bar.update(description="sgd seed 0", postfix="loss=0.5")
  ...     bar.update(2, postfix="loss=0.1")
  >>> print(stream.getvalue(), end="")
  1/3 epochs (33%) sgd seed 0 loss=0.5 [0 s]
  3/3 epochs (100%) sgd seed 0 loss=0.1 [0 s]
  done: 3/3 epochs in 0 s
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress"]

#: Seconds between two plain lines when stderr is not a terminal (a phase change prints at once).
DEFAULT_INTERVAL = 10.0


class Progress:
    """A progress report of `total` units (None: unknown) on `stream` (default: stderr).

    Args:
      total: the number of units the run will do, or None.
      enabled: False prints nothing at all.
      unit: the unit's name, singular ("epoch"; printed with an "s").
      stream: where to write; stderr by default (read when the object is made).
      interval: the least number of seconds between two plain lines (non-terminal only).
      tty: whether the stream is a terminal; by default `stream.isatty()`.
      clock: seconds, monotonic (for tests).
    """

    def __init__(self, total: int | None = None, *, enabled: bool = True, unit: str = "step",
                 stream: TextIO | None = None, interval: float = DEFAULT_INTERVAL,
                 tty: bool | None = None, clock: Callable[[], float] = time.monotonic):
        self.total = total
        self.enabled = enabled
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.interval = float(interval)
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) if tty is None else tty
        self._clock = clock
        self._start = clock()
        self._last_line = None
        self.count = 0
        self.description = ""
        self.postfix = ""
        self._bar = None
        self._status_width = 0
        if enabled and self.tty and total is not None:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # pragma: no cover - tqdm is a demo dependency
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, file=self.stream, unit=unit, leave=False)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close(done=exc_info[0] is None)

    def _elapsed(self) -> float:
        return self._clock() - self._start

    def _line(self) -> str:
        if self.total:
            head = f"{self.count}/{self.total} {self.unit}s ({100 * self.count / self.total:.0f}%)"
        elif self.total is None and self.count:
            head = f"{self.count} {self.unit}s"
        else:
            head = ""
        text = " ".join(part for part in (head, self.description, self.postfix) if part)
        return f"{text} [{self._elapsed():.0f} s]"

    def update(self, n: int = 1, *, description: str | None = None,
               postfix: str | None = None) -> None:
        """Adds `n` units done; a new `description` is a new phase (printed at once)."""
        if not self.enabled:
            return
        phase_changed = description is not None and description != self.description
        if description is not None:
            self.description = description
        if postfix is not None:
            self.postfix = postfix
        self.count += n
        if self._bar is not None:
            self._bar.set_description(self.description, refresh=False)
            self._bar.set_postfix_str(self.postfix, refresh=False)
            self._bar.update(n)
            return
        if self.tty:
            self._status(self._line())
            return
        now = self._clock()
        due = self._last_line is None or now - self._last_line >= self.interval
        if due or phase_changed or (self.total is not None and self.count >= self.total):
            self._last_line = now
            print(self._line(), file=self.stream, flush=True)

    def message(self, text: str) -> None:
        """A phase without units done (e.g. "slices along eigen directions ...")."""
        self.update(0, description=text)

    def _status(self, text: str) -> None:
        pad = max(self._status_width - len(text), 0)
        self._status_width = len(text)
        print(f"\r{text}{' ' * pad}", end="", file=self.stream, flush=True)

    def close(self, done: bool = True) -> None:
        """Ends the report: clears a terminal's bar or line; a plain closing line otherwise."""
        if not self.enabled:
            return
        self.enabled = False
        if self._bar is not None:
            self._bar.close()
            return
        if self.tty:
            self._status("")
            print("\r", end="", file=self.stream, flush=True)
            return
        if done:
            count = f"{self.count}/{self.total} {self.unit}s" if self.total else "finished"
            print(f"done: {count} in {self._elapsed():.0f} s", file=self.stream, flush=True)
