# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The demo's report: a results table, a JSON document of every number, and a figure.

The table has one row per method: final training loss and test accuracy as mean ± standard
deviation over seeds (population std, 0 for a single seed), gradients, HVPs and backprops per run
(mean over seeds), and training wall time (excluding compilation, reported separately).
The figure plots the full training loss against backprops (gradients + HVPs), log-log, one line per
method (the mean over seeds, at each epoch's mean backprop count).

Outputs are atomic: `write_json` and `save_figure` write a temporary file in the
output folder and `os.replace` it onto the target, so an interrupted run leaves the previous
results intact; `check_output_dir` validates the folder before any computation.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from complexity_optax.demo.train import RunResult


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=np.float64)
    return float(np.mean(a)), float(np.std(a))


def summarize(runs: Sequence[RunResult]) -> dict[str, Any]:
    """Mean and std over seeds of the final numbers, plus the per-epoch mean curves.

    The std is the population standard deviation √(Σ(x − x̄)²/K) over the K seeds (0 for one).

    Examples:
      >>> r = RunResult("sgd", 0, [2.3, 0.5], [0, 11], [0, 0], [0.0, 0.1], 1.0, 0.9, 0.4)
      >>> s = summarize([r])
      >>> s["final_train_loss_mean"], s["final_train_loss_std"], s["backprops_mean"]
      (0.5, 0.0, 11.0)
    """
    loss_mean, loss_std = _mean_std([r.train_loss[-1] for r in runs])
    acc_mean, acc_std = _mean_std([r.test_accuracy for r in runs])
    curves = np.asarray([r.train_loss for r in runs], dtype=np.float64)
    backprops = np.asarray([r.backprops for r in runs], dtype=np.float64)
    return {
        "final_train_loss_mean": loss_mean,
        "final_train_loss_std": loss_std,
        "test_accuracy_mean": acc_mean,
        "test_accuracy_std": acc_std,
        "gradients_mean": float(np.mean([r.gradients[-1] for r in runs])),
        "hvps_mean": float(np.mean([r.hvps[-1] for r in runs])),
        "backprops_mean": float(np.mean([r.backprops[-1] for r in runs])),
        "wall_time_mean": _mean_std([r.wall_time[-1] for r in runs])[0],
        "compile_time_total": float(sum(r.compile_time for r in runs)),
        "train_loss_curve_mean": curves.mean(axis=0).tolist(),
        "backprops_curve_mean": backprops.mean(axis=0).tolist(),
    }


def finite_or_none(x: Any) -> Any:
    """JSON has no NaN/inf: they become null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: finite_or_none(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite_or_none(v) for v in x]
    return x


def build_document(
    config: dict[str, Any],
    results: dict[str, list[RunResult]],
    method_info: dict[str, dict[str, Any]],
    failed: dict[str, str],
    figure_path: str | None,
) -> dict[str, Any]:
    """The JSON document: configuration, per-method summaries and per-run, per-epoch records."""
    methods = {}
    for name, runs in results.items():
        methods[name] = {
            **method_info[name],
            "summary": summarize(runs),
            "runs": [
                {
                    "seed": r.seed,
                    "epoch": list(range(len(r.train_loss))),
                    "train_loss": r.train_loss,
                    "gradients": r.gradients,
                    "hvps": r.hvps,
                    "backprops": r.backprops,
                    "wall_time": r.wall_time,
                    "compile_time": r.compile_time,
                    "test_accuracy": r.test_accuracy,
                    "test_loss": r.test_loss,
                }
                for r in runs
            ],
        }
    return finite_or_none(
        {
            "config": config,
            "methods": methods,
            "failed": failed,
            "figure": figure_path,
        }
    )


def format_table(document: dict[str, Any]) -> str:
    """The results table as fixed-width text."""
    header = (
        f"{'method':<24} {'final train loss':>19} {'test accuracy':>17} {'gradients':>10} "
        f"{'HVPs':>8} {'wall time (s)':>14} {'compile (s)':>12}"
    )
    lines = [header, "-" * len(header)]

    n_seeds = document["config"]["seeds"]

    def pm(mean, std, digits):
        if mean is None:
            return "nan"
        if n_seeds < 2:  # one seed has no spread: say so rather than print a zero
            return f"{mean:.{digits}f} ± –"
        return f"{mean:.{digits}f} ± {std:.{digits}f}"

    for name, entry in document["methods"].items():
        s = entry["summary"]
        lines.append(
            f"{name:<24} {pm(s['final_train_loss_mean'], s['final_train_loss_std'], 4):>19} "
            f"{pm(s['test_accuracy_mean'], s['test_accuracy_std'], 3):>17} "
            f"{s['gradients_mean']:>10.0f} {s['hvps_mean']:>8.0f} {s['wall_time_mean']:>14.2f} "
            f"{s['compile_time_total']:>12.2f}"
        )
    for name, why in document["failed"].items():
        lines.append(f"{name:<24} FAILED: {why}")
    plural = "s" if n_seeds != 1 else ""
    lines.append(
        f"(mean ± std over {n_seeds} seed{plural}; gradients, HVPs and wall time per run; "
        "wall time excludes compilation, shown on its own)"
    )
    return "\n".join(lines)


#: Twenty distinguishable colours: matplotlib's tab10, then the light halves of tab20.
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#aec7e8", "#ffbb78", "#98df8a",
          "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5")
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*", "h", "<", ">", "p", "d", "8")
LINESTYLES = ("-", "--", "-.", ":")


def method_styles(names: Sequence[str]) -> dict[str, dict[str, str]]:
    """A distinct colour, marker and line style for each name (in order), for every figure.

    Examples:
      >>> styles = method_styles(["sgd", "adam", "entropy_sgd"])
      >>> styles["sgd"]["color"] != styles["entropy_sgd"]["color"]
      True
      >>> len({tuple(s.values()) for s in method_styles(list("abcdefghijklmn")).values()})
      14
    """
    return {name: {"color": COLORS[i % len(COLORS)], "marker": MARKERS[i % len(MARKERS)],
                   "linestyle": LINESTYLES[i % len(LINESTYLES)]}
            for i, name in enumerate(names)}


def new_figure(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """`(figure, axes)` like `plt.subplots`, without pyplot: no backend is chosen or switched, no
    global figure list is touched, so a notebook that calls this keeps its inline plots. The
    figure renders with Agg when saved (`save_figure`)."""
    from matplotlib.figure import Figure

    subplot_keys = ("sharex", "sharey", "squeeze", "subplot_kw", "gridspec_kw", "width_ratios",
                    "height_ratios")
    subplots = {k: kwargs.pop(k) for k in subplot_keys if k in kwargs}
    fig = Figure(**kwargs)
    return fig, fig.subplots(nrows, ncols, **subplots)


def plot_losses(document: dict[str, Any], path: str) -> str:
    """Writes the loss-vs-backprops figure (PNG) and returns its path."""
    fig, ax = new_figure(figsize=(8, 5), dpi=120)
    styles = method_styles(list(document["methods"]))
    plotted = 0
    for i, (name, entry) in enumerate(document["methods"].items()):
        s = entry["summary"]
        x = np.asarray(s["backprops_curve_mean"], dtype=np.float64)
        y = np.asarray([np.nan if v is None else v for v in s["train_loss_curve_mean"]])
        keep = (x > 0) & np.isfinite(y) & (y > 0)
        plotted += int(keep.sum())
        # Markers every `every` points, each method starting at its own offset, so that methods
        # whose curves coincide (SGD and AnnealSGD with a small field) still show both markers.
        every = max(3, int(keep.sum()) // 10)
        ax.plot(x[keep], y[keep], markersize=4, markevery=(i % every, every), linewidth=1.5,
                alpha=0.9, label=entry.get("label", name), **styles[name],
                zorder=len(document["methods"]) - i)  # earlier lines on top
    if plotted:
        ax.set_xscale("log")
        ax.set_yscale("log")
    else:
        ax.text(0.5, 0.5, "no finite training loss to plot", ha="center", transform=ax.transAxes)
    ax.set_xlabel("backprops (gradients + Hessian-vector products)")
    ax.set_ylabel("full training loss (cross-entropy)")
    n_seeds = document["config"]["seeds"]
    ax.set_title(
        f"Digits, 64-64-10 tanh MLP: mean over {n_seeds} seed{'s' if n_seeds != 1 else ''}, "
        "one point per epoch"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    return path


class OutputDirError(ValueError):
    """An output folder that cannot hold the results (its message starts with `output-dir`)."""


def check_output_dir(path: str) -> str:
    """Checks, before any computation, that `path` is (or can become) a writable folder.

    Creates the folder if needed and writes and removes a probe file in it, so that a bad path
    fails at once instead of after the whole run. Returns the absolute path.

    Raises:
      OutputDirError: for `''`, a path that is a file, a path under a file, or a folder that
        cannot be created or written; the message names the path and the reason.

    Examples:
      >>> check_output_dir("")
      Traceback (most recent call last):
      ...
      complexity_optax.demo.report.OutputDirError: output-dir must not be empty
    """
    if not isinstance(path, str) or not path.strip():
        raise OutputDirError("output-dir must not be empty")
    full = os.path.abspath(path)
    if os.path.exists(full) and not os.path.isdir(full):
        raise OutputDirError(f"output-dir {path!r} is a file, not a folder")
    parent = full
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise OutputDirError(f"output-dir {path!r} is under the file {parent!r}")
    try:
        os.makedirs(full, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=full)
        os.close(fd)
        os.remove(probe)
    except OSError as e:
        raise OutputDirError(
            f"output-dir {path!r} is not writable: {e.strerror or e}") from None
    return full


def _replace_atomically(path: str, write: Callable[[str], None]) -> str:
    """Calls `write(tmp)` on a temporary file next to `path`, then `os.replace`s it.

    An interrupt or error before the rename leaves the previous `path` intact and removes the
    temporary file.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                               dir=directory)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; the result gets the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_write_text(path: str, text: str) -> str:
    """Writes `text` to `path` through a temporary file and `os.replace` (all or nothing)."""

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    return _replace_atomically(path, write)


def save_figure(fig: Any, path: str, **kwargs: Any) -> str:
    """`fig.savefig` through a temporary file and `os.replace` (the format from `path`)."""
    fmt = os.path.splitext(path)[1].lstrip(".") or "png"
    return _replace_atomically(path, lambda tmp: fig.savefig(tmp, format=fmt, **kwargs))


def write_json(document: dict[str, Any], path: str, indent: int = 2) -> str:
    """Writes the JSON document (NaN/inf as null: strict JSON) atomically; returns its path.

    The one record writer of the command line (the demo's `results.json`, the reproduce
    records): the text goes to a temporary file that replaces `path` only once complete, so an
    interrupt never leaves a truncated record and never destroys the previous one.
    """
    text = json.dumps(finite_or_none(document), indent=indent, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def quiet_broken_pipe() -> None:
    """After a `BrokenPipeError` on stdout (`--json | head`): point stdout at `/dev/null`
    so that Python's final flush does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor
        pass


def publish(document: dict[str, Any], text: str, json_path: str, *, as_json: bool,
            out: Any) -> None:
    """What every subcommand ends with: writes `results.json`, prints `text` and the paths of
    the figure and the JSON to `out`, and with `as_json` prints the document to stdout."""
    write_json(document, json_path)
    try:
        print(text, file=out)
        if document.get("figure"):
            print(f"figure: {document['figure']}", file=out)
        print(f"results: {os.path.abspath(json_path)}", file=out)
        if as_json:
            json.dump(finite_or_none(document), sys.stdout, indent=2, allow_nan=False)
            sys.stdout.write("\n")
            sys.stdout.flush()
    except BrokenPipeError:  # the reader closed stdout (--json | head): results are on disk
        quiet_broken_pipe()
