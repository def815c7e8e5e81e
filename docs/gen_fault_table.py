# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Writes docs/robustness.md: invalid hyperparameters and run-time faults, from the shared contract,
and the fuzz campaign's counts (it runs ``tests/fuzz``: a few minutes).

Run from the repository root: ``python docs/gen_fault_table.py``.
"""

import pathlib

import numpy as np

from complexity_optax.testing import contract as C

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def invalid_table():
    rows = ["| constructor | invalid arguments | parameter | error |", "|---|---|---|---|"]
    for fn, kwargs, param in C.INVALID_CASES:
        shown = {k: v for k, v in kwargs.items() if k == param or k not in (
            "key", "matvec", "like", "hvp_fn", "grad", "fun", "x0", "params")}
        args = ", ".join(f"{k}={v!r}" if not callable(v) else f"{k}=<callable>"
                         for k, v in shown.items())
        try:
            fn(**kwargs)
            error = "**no error**"
        except (ValueError, TypeError) as e:
            error = f"`{type(e).__name__}`: {e}"
        rows.append(f"| `{C.constructor_name(fn)}` | `{_cell(args)}` | `{param}` | "
                    f"{_cell(error)} |")
    return "\n".join(rows)


def fault_table():
    params, batch = C.make_problem()
    rows = ["| case | transformation | guard | outcome |", "|---|---|---|---|"]
    for case in C.FAULT_CASES:
        for entry in C.REGISTRY:
            wrapper = C.guard_wrapper(entry, case)
            guard = "`optax.apply_if_finite`" if wrapper else (
                entry.guard if entry.guards_nan_grads else "none needed")
            p0, _, p1, s1, p2, s2 = C.run_fault(entry.name, case, params, batch)
            finite = C.all_finite((p1, s1, p2, s2))
            moved = not np.array_equal(np.asarray(p0["kernel"]), np.asarray(p1["kernel"]))
            outcome = ("finite, step applied" if moved else "finite, step skipped") \
                if finite else "**NON-FINITE**"
            rows.append(f"| {case} | `{entry.name}` | {guard} | {outcome} |")
    return "\n".join(rows)


FUZZ_FILES = {
    "tests/fuzz/test_fuzz_api.py": "bad values in every parameter of every public callable",
    "tests/fuzz/test_fuzz_runtime.py": "run-time faults, int32 limits, tree mismatches, pytrees",
    "tests/fuzz/test_fuzz_cli.py": "CLI bad paths and seeds, closed stdout, interrupts",
    "tests/fuzz/test_fuzz_methods.py": "second-order and Entropy-SGD methods: bad input, "
                                       "loss faults, dtypes",
    "tests/fuzz/test_fuzz_clients.py": "Flax NNX and Equinox helpers: bad input, NaN batches",
    "tests/fuzz/test_fuzz_cli_args.py": "`landscape` and `reproduce` bad arguments",
    "tests/fuzz/test_fuzz_long_runs.py": "10⁶-step schedules and first-order runs, 10⁴-step "
                                         "second-order runs",
    "tests/fuzz/test_fuzz_round3.py": "round three (item 5): validation across the library, "
                                      "compile caches",
}

# The areas of the breakdown: the first rule whose file and test-name prefix match a case.
AREAS = (
    ("bad input: every public parameter", "test_fuzz_api.py", ""),
    ("bad input: methods (hyperparameters, schedules, keys, pytrees)", "test_fuzz_methods.py",
     ("test_bad_", "test_non_", "test_lr_matched", "test_int64", "test_empty", "test_campaign",
      "test_hvp_fn")),
    ("run-time faults (gradients, values, value_fn)", "test_fuzz_methods.py",
     ("test_value_fn", "test_minimizers_on", "test_traced")),
    ("dtypes (bfloat16, float16, float32, float64)", "test_fuzz_methods.py",
     ("test_one_step", "test_minimizers_reach")),
    ("long runs and int32 limits", "test_fuzz_runtime.py", ("test_long_run",)),
    ("unusual and empty pytrees", "test_fuzz_runtime.py", ("test_unusual",)),
    ("run-time faults (gradients, values, value_fn)", "test_fuzz_runtime.py", ""),
    ("long runs and int32 limits", "test_fuzz_long_runs.py", ""),
    ("NNX / Equinox helpers", "test_fuzz_clients.py", ""),
    ("command line", "test_fuzz_cli", ""),
    ("round three findings (library-wide validation)", "test_fuzz_round3.py", ""),
)


def area_of(path: str, test_name: str) -> str:
    for area, file_part, prefixes in AREAS:
        if file_part in path and (not prefixes or test_name.startswith(prefixes)):
            return area
    return "other"


def run_fuzz_suite():
    """Runs ``tests/fuzz`` (integration cases included) and counts its cases per file.

    Returns ``(rows, areas, known, seconds)``: per file and per area (`AREAS`)
    ``(tried, survived, known, skipped, failed)``, the reasons of the known (strict-xfail) cases,
    and the suite's wall time.
    """
    import collections
    import subprocess
    import sys
    import tempfile
    import time
    import xml.etree.ElementTree as ET

    with tempfile.TemporaryDirectory() as tmp:
        xml = pathlib.Path(tmp) / "fuzz.xml"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "tests/fuzz", "-q", "-p", "no:xdist",
                        "-m", "not slow", f"--junitxml={xml}"], cwd=ROOT, check=False,
                       stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        tree = ET.parse(xml)
    counts = collections.defaultdict(lambda: collections.Counter())
    by_area = collections.defaultdict(lambda: collections.Counter())
    known = collections.Counter()
    for case in tree.iter("testcase"):
        name = case.get("classname", "").replace(".", "/") + ".py"
        outcome = "survived"
        for child in case:
            if child.tag == "skipped" and child.get("type") == "pytest.xfail":
                outcome = "known"
                known[child.get("message", "").replace("xfail", "").strip(" :")] += 1
            elif child.tag == "skipped":
                outcome = "skipped"
            elif child.tag in ("failure", "error"):
                outcome = "failed"
        counts[name][outcome] += 1
        by_area[area_of(name, case.get("name", ""))][outcome] += 1

    def row(c):
        return (sum(c.values()), c["survived"], c["known"], c["skipped"], c["failed"])

    rows = {f: row(c) for f, c in counts.items()}
    areas = {a: row(c) for a, c in by_area.items()}
    return rows, areas, known, seconds


def fuzz_table():
    rows, areas, known, seconds = run_fuzz_suite()
    lines = ["| suite | what | tried | survived | known (xfail) | skipped | failed |",
             "|---|---|---|---|---|---|---|"]
    totals = [0, 0, 0, 0, 0]
    for path, what in FUZZ_FILES.items():
        row = rows.get(path, (0, 0, 0, 0, 0))
        totals = [a + b for a, b in zip(totals, row)]
        lines.append(f"| `{path}` | {what} | " + " | ".join(str(x) for x in row) + " |")
    lines.append("| **total** | | " + " | ".join(f"**{x}**" for x in totals) + " |")
    text = "\n".join(lines)
    lines = ["| area | tried | survived | known (xfail) | skipped | failed |",
             "|---|---|---|---|---|---|"]
    order = list(dict.fromkeys(a for a, _, _ in AREAS)) + ["other"]
    for area in order:
        if area in areas:
            lines.append(f"| {area} | " + " | ".join(str(x) for x in areas[area]) + " |")
    text += "\n\nBy area:\n\n" + "\n".join(lines)
    text += f"\n\nWall time of the whole fuzz suite on this machine: {seconds:.0f} s."
    if known:
        text += ("\n\nKnown cases (strict `xfail`: findings of the outside campaigns owned by "
                 "modules outside this suite's fixes; they must pass once fixed):\n\n")
        text += "\n".join(f"- {_cell(reason)} ({n} case{'s' if n != 1 else ''})"
                           for reason, n in sorted(known.items()))
    return text


def main():
    text = f"""# Robustness

Generated by `docs/gen_fault_table.py` from the registry in `complexity_optax/testing/contract.py`; do not edit by
hand. The same cases are asserted by `tests/test_contract.py` and `tests/test_faults.py`.

## Invalid hyperparameters

Every public constructor validates its hyperparameters at construction and raises a `ValueError`
(bad value) or `TypeError` (bad kind) whose message names the parameter.

{invalid_table()}

## Run-time faults

Each case is one faulty step in the middle of a run (after one honest step), followed by one
honest step; "finite" means no NaN/inf in the parameters or the optimizer state after either.
Transformations that cannot guard non-finite gradients themselves are safe wrapped in
`optax.apply_if_finite`, which is what the table uses for them; even bare, none of them lets NaN
into its own state (`tests/test_faults.py`). A NaN loss value is skipped by `matched_annealing`
and the trust region.

{fault_table()}

## Fuzz campaign

The outside fuzz campaigns (issue 13; "Reliability, round three", item 5), kept as a suite in
`tests/fuzz/`: generated and tabulated cases over every public callable
(`complexity_optax.__all__` and `complexity_optax.landscape.__all__`), the second-order and
Entropy-SGD methods (bad input, loss faults, four dtypes), every run-time fault of every
registry transformation, the Flax NNX and Equinox helpers, long runs (10⁶ steps of every schedule
and first-order method in `lax.scan`, 10⁴ of the second-order ones, the int32 limit), and the
command line. Counted here: the default suite (`-m "not slow"`); the `slow` cases (10⁶-step
Langevin runs, 10⁵-step second-order runs, the compile-cache checks, expensive accepted values)
run under `pytest -m slow`. Each case asserts a clear error that names
the problem, or a finite correct result with nothing lost (or, where the formula's value is
infinite by definition, that exact value: the complexity Θ(−∞) = log 0 = −∞). "Survived" counts
the cases that pass.

{fuzz_table()}
"""
    out = ROOT / "docs" / "robustness.md"
    out.write_text(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
