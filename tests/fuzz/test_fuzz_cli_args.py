# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The fuzz campaign, part 5: bad arguments of the `landscape` and `reproduce` subcommands.

Every case is fast: the computation (`run_landscape`, each experiment's `run_experiment`) is
replaced by a function that fails the test if it is reached, so a case passes only when the
bad argument is refused first, with a non-zero exit (2 for argparse) and a message that names
the option. A case that reaches the computation today is a known finding of the demo's owner
(strict `xfail`: it must pass once fixed).
"""

from __future__ import annotations

import contextlib
import importlib
import io

import pytest

from complexity_optax.demo import cli

EXPERIMENTS = ("chaudhari2015", "kohler2019", "richemond2019")


class Computed(AssertionError):
    """The subcommand started computing with a bad argument."""


def _must_not_run(*args, **kwargs):
    raise Computed("the subcommand computed with a bad argument")


@pytest.fixture
def no_compute(monkeypatch):
    from complexity_optax.demo import landscape

    monkeypatch.setattr(landscape, "run_landscape", _must_not_run)
    for name in EXPERIMENTS:
        module = importlib.import_module(f"complexity_optax.demo.reproduce.{name}")
        monkeypatch.setattr(module, "run_experiment", _must_not_run)
        monkeypatch.setattr(module, "plot", _must_not_run, raising=False)


def _main(argv):
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = cli.main(argv)
        except SystemExit as e:
            code = e.code
    return code, stdout.getvalue(), stderr.getvalue()


INT_OPTION_VALUES = {"zero": "0", "negative": "-1", "word": "abc", "float": "1.5",
                     "exponent": "1e3", "empty": "", "space": " ", "hex": "0x10",
                     "nan": "nan", "inf": "inf"}
LANDSCAPE_INT_OPTIONS = ("--epochs", "--points", "--curve-steps")
LANDSCAPE_CASES = (
    [(opt, label, value) for opt in LANDSCAPE_INT_OPTIONS
     for label, value in INT_OPTION_VALUES.items()]
    + [("--seed", label, value) for label, value in INT_OPTION_VALUES.items()
       if label != "zero"]
    + [("--seed", "2**63", str(2**63)), ("--seed", "2**64", str(2**64)),
       ("--points", "two", "2"), ("--method", "unknown", "newton"), ("--method", "empty", ""),
       ("--method", "case", "ADAM"), ("--output-dir", "empty", "")]
)
# Values argparse accepts but no run can use (astronomical sizes); refused by the demo?
LANDSCAPE_HUGE = [("--points", "huge", str(10**9)), ("--epochs", "huge", str(10**12)),
                  ("--curve-steps", "huge", str(10**15))]
KNOWN_LANDSCAPE = {
    ("--points", "huge"): "landscape --points 1e9 is accepted (a 1e18-point grid)",
    ("--epochs", "huge"): "landscape --epochs 1e12 is accepted",
    ("--curve-steps", "huge"): "landscape --curve-steps 1e15 is accepted",
}


def _option_named(option, code, err):
    text = err + (code if isinstance(code, str) else "")
    return option in text or option.lstrip("-").replace("-", "_") in text


def _param(case, known):
    option, label, value = case
    reason = known.get((option, label))
    marks = [pytest.mark.xfail(strict=True, raises=Computed, reason=f"known: {reason}")] \
        if reason else []  # landscape only
    return pytest.param(option, value, marks=marks, id=f"{option.lstrip('-')}-{label}")


@pytest.mark.parametrize("option, value",
                         [_param(c, KNOWN_LANDSCAPE) for c in LANDSCAPE_CASES + LANDSCAPE_HUGE])
def test_landscape_bad_argument_is_refused_before_computing(option, value, no_compute,
                                                            tmp_path):
    argv = ["landscape", option, value]
    if option != "--output-dir":
        argv += ["--output-dir", str(tmp_path)]
    code, _, err = _main(argv)
    assert code not in (0, None), f"exit code {code!r}"
    assert _option_named(option, code, err), err


REPRODUCE_CASES = (
    [("--seeds", label, value) for label, value in INT_OPTION_VALUES.items()]
    + [("--scale", "unknown", "gpu"), ("--scale", "empty", ""), ("--scale", "case", "CPU"),
       ("name", "unknown", "lecun1998"), ("name", "empty", ""),
       ("--variant", "unknown", "no_such_variant"),
       ("--networks", "unknown", "no_such_network"), ("--networks", "empty_item", ","),
       ("--networks", "blank", " "),
       ("--seeds", "huge", str(10**9)),
       ("--figures-dir", "a_file", "@file"), ("--figures-dir", "under_a_file", "@file/sub"),
       ("--figures-dir", "empty", ""),
       ("--output-dir", "empty", ""), ("--output-dir", "a_file", "@file")]
)
KNOWN_REPRODUCE = {
    # (option, label[, experiment]) -> (what goes wrong, the exception it ends in)
    ("--variant", "unknown", "kohler2019"): (
        "reproduce kohler2019 --variant <unknown> reaches run_experiment", Computed),
    ("--networks", "unknown"): ("reproduce --networks <unknown> reaches run_experiment",
                                Computed),
    ("--networks", "empty_item"): ("reproduce --networks ',' reaches run_experiment", Computed),
    ("--networks", "blank"): ("reproduce --networks ' ' reaches run_experiment", Computed),
    ("--seeds", "huge"): ("reproduce --seeds 1e9 is accepted", Computed),
    ("--figures-dir", "a_file"): (
        ("reproduce --figures-dir <a file> is not checked by argparse: os.makedirs raises "
         "FileExistsError"), FileExistsError),
    ("--figures-dir", "under_a_file"): (
        ("reproduce --figures-dir <a path under a file> is not checked by argparse: "
         "os.makedirs raises NotADirectoryError"), NotADirectoryError),
    ("--figures-dir", "empty"): (
        ("reproduce --figures-dir '' is silently replaced by --output-dir (--output-dir '' "
         "is an error)"), Computed),
}


def _reproduce_params():
    out = []
    for option, label, value in REPRODUCE_CASES:
        for experiment in EXPERIMENTS:
            known = KNOWN_REPRODUCE.get((option, label, experiment)) or KNOWN_REPRODUCE.get(
                (option, label))
            marks = [pytest.mark.xfail(strict=True, raises=known[1], reason=f"known: {known[0]}")
                     ] if known else []
            out.append(pytest.param(experiment, option, value, marks=marks,
                                    id=f"{option.lstrip('-')}-{label}-{experiment}"))
    return out


@pytest.mark.parametrize("experiment, option, value", _reproduce_params())
def test_reproduce_bad_argument_is_refused_before_computing(experiment, option, value,
                                                            no_compute, tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    value = value.replace("@file", str(a_file))
    out = tmp_path / "out"
    if option == "name":
        argv = ["reproduce", value, "--output-dir", str(out)]
    else:
        argv = ["reproduce", experiment, option, value]
        if option != "--output-dir":
            argv += ["--output-dir", str(out)]
    code, _, err = _main(argv)
    assert code not in (0, None), f"exit code {code!r}"
    assert _option_named("name" if option == "name" else option, code, err) or (
        option == "name" and "invalid choice" in err), err


@pytest.mark.parametrize("subcommand", ["landscape", "reproduce"])
@pytest.mark.parametrize("flag", ["--no-such-flag", "--quick=yes", "--json=1"])
def test_unknown_or_malformed_flags_are_argparse_errors(subcommand, flag, no_compute, tmp_path):
    argv = [subcommand] + (["kohler2019"] if subcommand == "reproduce" else []) + [
        flag, "--output-dir", str(tmp_path)]
    code, _, err = _main(argv)
    assert code == 2 and flag.split("=")[0] in err, err


@pytest.mark.parametrize("argv", [[], ["--help"], ["landscape", "--help"],
                                  ["reproduce", "--help"]], ids=["none", "help", "landscape",
                                                                 "reproduce"])
def test_help_and_no_command_exit_cleanly(argv, no_compute):
    code, out, err = _main(argv)
    if argv:
        assert code == 0 and "usage:" in out
    else:
        assert code not in (0, None) and ("usage:" in err or "usage:" in out)
