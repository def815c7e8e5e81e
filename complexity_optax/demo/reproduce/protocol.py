# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""The one comparison protocol of the reproductions (`kohler2019`, `chaudhari2015`,
`richemond2019`): budgets, seeds, splits, tuning, confidence intervals, verdicts, provenance.

**Seeds and splits.** `SEEDS[mode]` seeds by default (2 in quick mode, 5 at `cpu`/`full` scale).
Every seed has its own validation split, carved from the training images
(`VALIDATION_FRACTION` of them, `split_for_seed`), its own initialisation and its own data order;
the test split is the fixed one of `datasets.load_mnist` and is never used for any choice.

**Tuning.** Every method's step size (and a trust region's initial radius) is chosen by one rule,
`tune`: a log grid of factors `GRID` (×1/3, ×1, ×3) around the paper's value, scored by the
method's limit *validation* loss on a separate tuning seed (`TUNING_SEED`, not one of the seeds
the verdicts use); when the best point is at an edge of the grid, the grid is extended by one
more factor of 3 in that direction, up to `max_extensions` times. The record keeps the whole
grid, the scores and whether the optimum still sits at an edge (`at_edge`).

**Budgets.** Methods compared on loss are all run to the same budget (backprops for the trust
region experiment, epochs = gradients for the first-order ones) and their curves are read at
`CURVE_POINTS` equally spaced points of that budget (`curve_at`: linear interpolation between
evaluations); the **limit loss** is the mean of the last `LIMIT_K` = 3 of those points (80, 90
and 100% of the budget). A run that stopped short of a point (diverged) has no value there.

**Intervals and verdicts.** A number is reported as mean and 95% t-interval over seeds
(`t_interval`). A comparison "A is better than B" is made on the per-seed paired differences
(on $\log(A/B)$ for positive quantities such as losses and backprops, so the interval reads as
a ratio; plain differences for accuracies), with the 95% t-interval of their mean:
**holds** when the interval lies entirely on A's side of 0, **fails** when it lies entirely on
the other side, and **inconclusive** when it contains 0, when fewer than 2 seeds have both
values, or when a run the claim rests on was not a valid measurement (a trust region that never
left its radius-limited start, a budget that did not reach the comparison point: `invalid=`).
Wall time is reported as measured, never turned into a verdict.

**Provenance.** `provenance()` gives the library version and `source_fingerprint()`, a SHA-256
over the sorted paths and bytes of the package's `.py` files; a record whose fingerprint differs
from the current source is stale (`docs/gen_experiments.py` marks it).

Examples:
  >>> from complexity_optax.demo.reproduce import protocol
  >>> v = protocol.compare("A beats B", [1.0, 1.1, 0.9, 1.0], [2.0, 2.1, 2.2, 1.9])
  >>> v.outcome, round(v.ratio, 2)
  ('holds', 0.49)
  >>> protocol.compare("A beats B", [1.0, 3.0], [2.0, 2.0]).outcome
  'inconclusive'
  >>> protocol.curve_at([0, 10, 20], [4.0, 2.0, 1.0], [5, 20, 30])
  [3.0, 1.0, None]
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import pathlib
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "CONFIDENCE",
    "CURVE_POINTS",
    "GRID",
    "LIMIT_K",
    "PROTOCOL_VERSION",
    "SEEDS",
    "TUNING_SEED",
    "VALIDATION_FRACTION",
    "Verdict",
    "budget_points",
    "compare",
    "curve_at",
    "format_interval",
    "limit_value",
    "limit_window_start",
    "provenance",
    "ratio_band",
    "seeds_for",
    "source_fingerprint",
    "split_for_seed",
    "t_interval",
    "tune",
    "tuning_note",
]

PROTOCOL_VERSION = 2
SEEDS = {"quick": 2, "cpu": 5, "full": 5}
TUNING_SEED = 1000
VALIDATION_FRACTION = 0.1
GRID = (1.0 / 3.0, 1.0, 3.0)
CURVE_POINTS = 10
LIMIT_K = 3
CONFIDENCE = 0.95

_PACKAGE = pathlib.Path(__file__).resolve().parents[2]  # .../complexity_optax


# --------------------------------------------------------------------------------- provenance
def source_fingerprint(root: str | pathlib.Path | None = None) -> str:
    """SHA-256 over the sorted relative paths and bytes of every `.py` file under `root`
    (default: the installed `complexity_optax` package), as a hex string."""
    root = pathlib.Path(root) if root is not None else _PACKAGE
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def provenance() -> dict:
    """`{"library_version", "source_fingerprint", "protocol_version"}` for a record."""
    import complexity_optax

    return {"library_version": complexity_optax.__version__,
            "source_fingerprint": source_fingerprint(),
            "protocol_version": PROTOCOL_VERSION}


# ------------------------------------------------------------------------------- data splits
def split_for_seed(n_train: int, seed: int, fraction: float = VALIDATION_FRACTION
                   ) -> tuple[np.ndarray, np.ndarray]:
    """`(train indices, validation indices)` of a seed: a seed-specific permutation of the
    `n_train` training images, the first `round(fraction * n_train)` (at least 1) held out."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}")
    perm = np.random.default_rng([int(seed), 0x5EED]).permutation(int(n_train))
    n_val = max(1, int(round(fraction * n_train)))
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


# ----------------------------------------------------------------------------------- curves
def budget_points(budget: float, points: int = CURVE_POINTS) -> list[float]:
    """`points` equally spaced positions `budget * i / points`, i = 1..points."""
    return [budget * i / points for i in range(1, points + 1)]


def _finite(x) -> bool:
    return (x is not None and isinstance(x, (int, float, np.floating, np.integer))
            and math.isfinite(x))


def curve_at(xs: Sequence[float], ys: Sequence[float | None], at: Sequence[float]
             ) -> list[float | None]:
    """The curve `(xs, ys)` read at the positions `at` (linear interpolation between the
    evaluations; None beyond the last finite evaluation, i.e. where the run did not get)."""
    pts = [(float(x), float(y)) for x, y in zip(xs, ys, strict=False) if _finite(y)]
    out: list[float | None] = []
    for a in at:
        val = None
        for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
            if x0 <= a <= x1:
                val = y0 if x1 == x0 else y0 + (y1 - y0) * (a - x0) / (x1 - x0)
                break
        if val is None and pts and pts[-1][0] == a:
            val = pts[-1][1]
        out.append(val)
    return out


def first_reaching(xs: Sequence[float], ys: Sequence[float | None], target: float):
    """The first `xs[i]` with a finite `ys[i] <= target` (None if never reached).

    Examples:
      >>> first_reaching([0, 10, 20, 30], [2.0, 1.0, 0.4, 0.3], 0.5)
      20
    """
    for x, y in zip(xs, ys, strict=False):
        if _finite(y) and y <= target:
            return x
    return None


def limit_window_start(budget: float, k: int = LIMIT_K, points: int = CURVE_POINTS) -> float:
    """Where the limit window begins: the first of the last `k` of the `points` budget
    positions (80% of the budget by default). A run must be a valid measurement by then."""
    return budget * (points - k + 1) / points


def limit_value(xs: Sequence[float], ys: Sequence[float | None], budget: float,
                k: int = LIMIT_K, points: int = CURVE_POINTS) -> float | None:
    """The mean of the curve at the last `k` of the `points` budget positions (None when the
    run did not reach all of them)."""
    vals = curve_at(xs, ys, budget_points(budget, points)[-k:])
    return None if any(v is None for v in vals) else float(np.mean(vals))


# -------------------------------------------------------------------------------- intervals
def _t_quantile(df: int, confidence: float = CONFIDENCE) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2.0, df))


def t_interval(values: Sequence[float | None], confidence: float = CONFIDENCE
               ) -> tuple[float | None, float | None, float | None, int]:
    """`(mean, low, high, n)`: the t-interval of the mean of the finite values (low = high =
    None for fewer than 2 values; all None for none)."""
    vals = np.asarray([float(v) for v in values if _finite(v)])
    n = len(vals)
    if n == 0:
        return None, None, None, 0
    mean = float(vals.mean())
    if n < 2:
        return mean, None, None, 1
    half = _t_quantile(n - 1, confidence) * float(vals.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half, n


def format_interval(values: Sequence[float | None], empty: str = "n/a") -> str:
    """`"mean [low, high]"` (95% t-interval over seeds), `"mean"` for one value.

    Examples:
      >>> format_interval([1.0, 2.0, 3.0])
      '2 [-0.4841, 4.484]'
    """
    mean, low, high, n = t_interval(values)
    if n == 0:
        return empty
    missing = len(values) - n
    # One precision for all three: rounding is monotone, so the text keeps low <= mean <= high.
    text = f"{mean:.4g}" if low is None else f"{mean:.4g} [{low:.4g}, {high:.4g}]"
    return text + (f" ({missing} n/a)" if missing else "")


# --------------------------------------------------------------------------------- verdicts
@dataclasses.dataclass
class Verdict:
    """The outcome of one claim: `holds`, `fails` or `inconclusive`.

    Attributes:
      claim: the claim in words, with the network and scale.
      outcome: "holds", "fails" or "inconclusive".
      n: seeds with both values.
      ratio: geometric mean of A/B over those seeds (log scale), or None.
      ratio_low, ratio_high: its 95% interval (None below 2 seeds).
      diff, diff_low, diff_high: the mean difference A - B and its 95% interval (linear scale).
      reasons: why it is inconclusive beyond the interval (invalid runs, missing seeds).
      note: the compared numbers.
    """

    claim: str
    outcome: str
    n: int
    ratio: float | None = None
    ratio_low: float | None = None
    ratio_high: float | None = None
    diff: float | None = None
    diff_low: float | None = None
    diff_high: float | None = None
    reasons: list = dataclasses.field(default_factory=list)
    note: str = ""

    def line(self) -> str:
        """`"<claim>: holds|fails|inconclusive (n seeds, ratio r [lo, hi]; ...)"`."""
        parts = [f"{self.n} seeds"]
        if self.ratio is not None:
            ci = ("" if self.ratio_low is None
                  else f" [{self.ratio_low:.3g}, {self.ratio_high:.3g}]")
            parts.append(f"ratio {self.ratio:.3g}{ci}")
        elif self.diff is not None:
            ci = "" if self.diff_low is None else f" [{self.diff_low:.3g}, {self.diff_high:.3g}]"
            parts.append(f"difference {self.diff:.3g}{ci}")
        parts += list(self.reasons)
        if self.note:
            parts.append(self.note)
        return f"{self.claim}: {self.outcome} ({'; '.join(parts)})"

    def to_json(self) -> dict:
        return {**dataclasses.asdict(self), "line": self.line()}


def _pairs(a, b):
    return [(float(x), float(y)) for x, y in zip(a, b, strict=False) if _finite(x) and _finite(y)]


def compare(claim: str, a: Sequence[float | None], b: Sequence[float | None], *,
            lower_is_better: bool = True, log: bool | None = None,
            invalid: Sequence[str] = (), note: str = "") -> Verdict:
    """Paired "A is better than B" over seeds (see the module docstring).

    Args:
      a, b: per-seed values (None / non-finite: that seed is left out, and the verdict is
        inconclusive if any seed is left out).
      lower_is_better: the direction of "better".
      log: compare $\\log(A/B)$ (default: when every value is positive).
      invalid: reasons that make the measurement invalid (the verdict is then inconclusive).
    """
    pairs = _pairs(a, b)
    reasons = list(invalid)
    missing = len(list(zip(a, b, strict=False))) - len(pairs)
    if missing:
        reasons.append(f"{missing} seed(s) without both values")
    use_log = all(x > 0 and y > 0 for x, y in pairs) if log is None else log
    if use_log and not all(x > 0 and y > 0 for x, y in pairs):
        raise ValueError("log=True needs positive values")
    v = Verdict(claim, "inconclusive", len(pairs), reasons=reasons, note=note)
    if not pairs:
        return v
    diffs = [(math.log(x / y) if use_log else x - y) for x, y in pairs]
    mean, low, high, _ = t_interval(diffs)
    lin = t_interval([x - y for x, y in pairs])
    v.diff, v.diff_low, v.diff_high = lin[0], lin[1], lin[2]
    if use_log:
        v.ratio = math.exp(mean)
        if low is not None:
            v.ratio_low, v.ratio_high = math.exp(low), math.exp(high)
    if low is None:
        v.reasons.append("one seed: no interval")
        return v
    if reasons:
        return v
    better_side = high < 0 if lower_is_better else low > 0
    worse_side = low > 0 if lower_is_better else high < 0
    v.outcome = "holds" if better_side else ("fails" if worse_side else "inconclusive")
    return v


def ratio_band(claim: str, a: Sequence[float | None], b: Sequence[float | None], *,
               low: float = 0.5, high: float = 2.0, invalid: Sequence[str] = (),
               note: str = "") -> Verdict:
    """Paired "A is comparable to B": holds when the 95% interval of the geometric-mean ratio
    A/B lies inside `[low, high]`, fails when it lies entirely outside, else inconclusive."""
    v = compare(claim, a, b, log=True, invalid=invalid, note=note)
    if v.ratio_low is None or v.reasons:
        v.outcome = "inconclusive"
        return v
    if low <= v.ratio_low and v.ratio_high <= high:
        v.outcome = "holds"
    elif v.ratio_high < low or v.ratio_low > high:
        v.outcome = "fails"
    else:
        v.outcome = "inconclusive"
    return v


# ----------------------------------------------------------------------------------- tuning
def tune(score: Callable[[float], float], center: float, *, grid: Sequence[float] = GRID,
         max_extensions: int = 2, when_all_invalid: str | None = None) -> dict:
    """The grid rule: `score(value)` (lower is better; non-finite counts as +inf) at
    `center * f` for `f` in `grid`, extended by one more grid step beyond an edge optimum, up to
    `max_extensions` times.

    A score of None or a non-finite one marks an invalid point (a diverged run, a trust region
    that never left its radius-limited start). When every point so far is invalid the grid is
    extended towards `when_all_invalid` ("up": larger values, "down": smaller, None: stop).

    Returns:
      `{"best", "center", "values", "scores", "extended", "at_edge"}`; `at_edge` is true when
      the optimum still sits at an edge of the final grid (the record then says so).

    Examples:
      >>> r = tune(lambda v: (math.log10(v) - 2.0) ** 2, 1.0)
      >>> round(r["best"], 3), r["extended"], r["at_edge"]
      (27.0, 2, True)
    """
    step = max(grid) / 1.0 if max(grid) > 1 else 3.0
    scores: dict[float, float] = {}

    def evaluate(v):
        if v not in scores:
            s = score(v)
            scores[v] = float(s) if _finite(s) else math.inf
        return scores[v]

    values = sorted(center * f for f in grid)
    for v in values:
        evaluate(v)
    if when_all_invalid not in (None, "up", "down"):
        raise ValueError(f"when_all_invalid must be None, 'up' or 'down', got {when_all_invalid!r}")
    extended = 0
    while True:
        ordered = sorted(scores)
        best = min(ordered, key=lambda v: (scores[v], v))
        if extended >= max_extensions:
            break
        if math.isinf(scores[best]):
            if when_all_invalid is None:
                break
            nxt = ordered[-1] * step if when_all_invalid == "up" else ordered[0] / step
            evaluate(nxt)
            extended += 1
            continue
        edge = best in (ordered[0], ordered[-1]) and len(ordered) > 1
        if not edge:
            break
        nxt = best * step if best == ordered[-1] else best / step
        evaluate(nxt)
        extended += 1
    ordered = sorted(scores)
    best = min(ordered, key=lambda v: (scores[v], v))
    return {"best": best, "center": center, "values": ordered,
            "scores": [scores[v] for v in ordered], "extended": extended,
            "at_edge": best in (ordered[0], ordered[-1]),
            "all_invalid": math.isinf(scores[best])}


def tuning_note(name: str, result: dict, what: str = "step size") -> str:
    """One line describing a tuning result, for the record's notes."""
    text = (f"{name}: {what} {result['best']:.3g} "
            f"(grid {', '.join(f'{v:.3g}' for v in result['values'])}"
            f" around {result['center']:.3g}")
    if result["extended"]:
        text += f"; extended {result['extended']}x past an edge"
    if result.get("all_invalid"):
        text += "; no valid point: every run diverged or stayed radius-limited"
    elif result["at_edge"]:
        text += "; optimum still at the grid's edge"
    return text + ")"


def seeds_for(mode: str, seeds: int | None) -> list[int]:
    """The evaluation seeds `0..n-1` (n: `seeds`, default `SEEDS[mode]`)."""
    return list(range(int(seeds) if seeds else SEEDS[mode]))
