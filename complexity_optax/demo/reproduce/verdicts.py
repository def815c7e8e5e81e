# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Seed-count verdicts and curve helpers (`first_reaching`, `mean_std`).

The reproductions judge their claims with `protocol.compare` / `protocol.ratio_band` (paired
95% intervals: holds / fails / inconclusive); the majority-of-seeds `compare` below is kept for
callers of the earlier API and for reading records made before the protocol existed.

A claim compares a quantity of method A with the same quantity of method B, seed by seed (the
seeds are paired: same initialisation and data order). It **held** on a seed when A is better
(lower, or higher for accuracies) by the claim's direction, and it holds overall when it held on
a strict majority of the seeds where both values exist. The ratio reported is the median over
seeds of $A/B$ (so < 1 means A needed fewer backprops, or reached a lower loss).

Examples:
  >>> from complexity_optax.demo.reproduce import verdicts
  >>> v = verdicts.compare("ellipsoid beats sphere in backprops to loss 0.5 on FC",
  ...                      [62.0, 70.0, 90.0], [100.0, 100.0, 80.0])
  >>> v.line()
  'ellipsoid beats sphere in backprops to loss 0.5 on FC: yes, 2/3 seeds, ratio 0.70'
  >>> verdicts.first_reaching([0, 10, 20, 30], [2.0, 1.0, 0.4, 0.3], 0.5)
  20
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["Verdict", "compare", "first_reaching", "mean_std", "ratio_band"]


@dataclasses.dataclass
class Verdict:
    """The outcome of one claim.

    Attributes:
      claim: the claim, in words, with the scale ("on FC", "quick mode").
      held: True / False, or None when it could not be measured (no seed with both values).
      seeds_held: seeds on which it held.
      seeds: seeds on which it was measured.
      ratio: median over those seeds of A/B (None if not measured).
      note: what was measured, with the numbers.
    """

    claim: str
    held: bool | None
    seeds_held: int
    seeds: int
    ratio: float | None
    note: str = ""

    def line(self) -> str:
        """`"<claim>: yes|no|n/a, k/n seeds, ratio r"` (plus the note, if any)."""
        if self.held is None:
            text = f"{self.claim}: n/a (not measurable: {self.note or 'no values'})"
            return text
        text = (f"{self.claim}: {'yes' if self.held else 'no'}, "
                f"{self.seeds_held}/{self.seeds} seeds")
        if self.ratio is not None and math.isfinite(self.ratio):
            text += f", ratio {self.ratio:.2f}"
        if self.note:
            text += f" ({self.note})"
        return text

    def to_json(self) -> dict:
        return {**dataclasses.asdict(self), "line": self.line()}


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def compare(claim: str, a: Sequence[float | None], b: Sequence[float | None], *,
            lower_is_better: bool = True, rtol: float = 0.01, note: str = "") -> Verdict:
    """Seed-paired comparison: the claim is "A is better than B" (lower, unless told otherwise).

    A seed counts as held only when A is better by more than `rtol` of $|B|$ (default 1%): a
    tie is not a win.

    Seeds where either value is missing or non-finite are left out; a seed where only A has a
    value (B never reached the target) counts as held, and one where only B has one as not held
    (both are reported in `seeds`), with no ratio contribution.
    """
    held = measured = 0
    ratios = []
    for x, y in zip(a, b, strict=False):
        fx, fy = _finite(x), _finite(y)
        if not fx and not fy:
            continue
        measured += 1
        if fx and not fy:
            held += 1
            continue
        if fy and not fx:
            continue
        margin = rtol * abs(y)
        better = x < y - margin if lower_is_better else x > y + margin
        held += int(better)
        if y != 0:
            ratios.append(x / y)
    if measured == 0:
        return Verdict(claim, None, 0, 0, None, note or "no seed had a value")
    ratio = float(np.median(ratios)) if ratios else None
    return Verdict(claim, held * 2 > measured, held, measured, ratio, note)


def ratio_band(claim: str, a: Sequence[float | None], b: Sequence[float | None], *,
               low: float = 0.5, high: float = 2.0, note: str = "") -> Verdict:
    r"""Seed-paired "A is comparable to B": held on a seed when $A/B \in [low, high]$."""
    held = measured = 0
    ratios = []
    for x, y in zip(a, b, strict=False):
        if not (_finite(x) and _finite(y)) or y == 0:
            continue
        measured += 1
        r = x / y
        ratios.append(r)
        held += int(low <= r <= high)
    if measured == 0:
        return Verdict(claim, None, 0, 0, None, note or "no seed had both values")
    return Verdict(claim, held * 2 > measured, held, measured, float(np.median(ratios)), note)


def first_reaching(xs: Sequence[float], losses: Sequence[float], target: float):
    """The first `xs[i]` with `losses[i] <= target` (None if never reached)."""
    for x, loss in zip(xs, losses, strict=False):
        if _finite(loss) and loss <= target:
            return x
    return None


def mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None, int]:
    """`(mean, std, n)` of the finite values (population std; None, None, 0 if none)."""
    vals = [float(v) for v in values if _finite(v)]
    if not vals:
        return None, None, 0
    return float(np.mean(vals)), float(np.std(vals)), len(vals)


def format_mean_std(values: Sequence[float | None], empty: str = "n/a") -> str:
    """"mean ± std" of the finite values; "–" for the spread of one value, `empty` for none.

    Examples:
      >>> format_mean_std([1.0, 3.0]), format_mean_std([2.0]), format_mean_std([None])
      ('2 ± 1', '2 ± –', 'n/a')
    """
    mean, std, n = mean_std(values)
    if n == 0:
        return empty
    return f"{mean:.4g} ± {f'{std:.2g}' if n > 1 else '–'}"
