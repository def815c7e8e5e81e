# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The outside fuzz campaign, part 3: the command line's bad paths, closed pipes and interrupts.

Every subcommand validates ``--output-dir`` before computing (a file, a path under a file, an
unwritable path or '' are argparse errors at once), rejects seeds jax cannot take, writes
``results.json`` through a temporary file and ``os.replace`` (an interrupt leaves the previous
results intact and no temporary file behind), and treats a closed stdout (``--json | head``) as
normal. A fake subcommand registered for the test stands in for the computation where a real
one would take minutes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from complexity_optax.demo import cli, report


def _subparsers():
    parser = cli.build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


def _positionals(subcommand):
    """Valid values for a subcommand's positional arguments (the first of their choices)."""
    sub = _subparsers()[subcommand]
    return [str(next(iter(a.choices))) if a.choices else "x" for a in sub._actions
            if not a.option_strings and a.dest != "help"]


SUBCOMMANDS = [name for name, sub in _subparsers().items()
               if any("--output-dir" in a.option_strings for a in sub._actions)]


def _bad_dirs(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    return {
        "empty": ("", "must not be empty"),
        "blank": ("   ", "must not be empty"),
        "a_file": (str(a_file), "is a file"),
        "under_a_file": (str(a_file / "sub"), "is under the file"),
        "deep_under_a_file": (str(a_file / "x" / "y" / "z"), "is under the file"),
        "unwritable": ("/proc/complexity_optax_fuzz/out", "not writable"),
    }


BAD_DIR_LABELS = ["empty", "blank", "a_file", "under_a_file", "deep_under_a_file", "unwritable"]


def _main(argv):
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = cli.main(argv)
        except SystemExit as e:
            code = e.code
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture
def fake(monkeypatch):
    """Registers ``fake``: --output-dir, --json, --seed; records whether it computed."""
    calls = {"computed": 0, "raise": None, "document": {"numbers": list(range(2000))}}

    def add_arguments(parser):
        parser.add_argument("--output-dir", default="outputs/fake")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--seed", type=cli.int_at_least(0), default=0)

    def run(args):
        calls["computed"] += 1
        if calls["raise"] is not None:
            raise calls["raise"]
        path = os.path.join(args.output_dir, "results.json")
        report.publish(calls["document"], "table", path, as_json=args.json, out=sys.stderr)
        return 0

    monkeypatch.setitem(cli.SUBCOMMANDS, "fake", ("a fake subcommand", add_arguments, run))
    return calls


@pytest.mark.parametrize("label", BAD_DIR_LABELS)
@pytest.mark.parametrize("subcommand", SUBCOMMANDS)
def test_bad_output_dir_fails_before_computing(subcommand, label, tmp_path, monkeypatch):
    def must_not_run(args):
        raise AssertionError("the subcommand computed before its output folder was checked")

    help_text, add_arguments, _ = cli.SUBCOMMANDS[subcommand]
    monkeypatch.setitem(cli.SUBCOMMANDS, subcommand, (help_text, add_arguments, must_not_run))
    path, message = _bad_dirs(tmp_path)[label]
    code, _, err = _main([subcommand, *_positionals(subcommand), "--output-dir", path])
    assert code == 2
    assert "--output-dir" in err and message in err


@pytest.mark.parametrize("seed, message", [
    (str(2**63), "must be <="), (str(2**64), "must be <="), ("-1", ">= 0"), ("1e3", "integer"),
    ("", "integer"),
])
def test_bad_seed_is_an_argparse_error(seed, message, fake, tmp_path):
    code, _, err = _main(["fake", "--seed", seed, "--output-dir", str(tmp_path)])
    assert code == 2 and "--seed" in err and message in err
    assert fake["computed"] == 0


def test_largest_seed_accepted(fake, tmp_path):
    code, _, _ = _main(["fake", "--seed", str(2**63 - 1), "--output-dir", str(tmp_path)])
    assert code == 0 and fake["computed"] == 1


def test_results_written_atomically_with_the_usual_mode(fake, tmp_path):
    (tmp_path / "results.json").write_text('{"old": true}')
    code, _, _ = _main(["fake", "--output-dir", str(tmp_path)])
    assert code == 0
    assert json.loads((tmp_path / "results.json").read_text()) == fake["document"]
    assert sorted(os.listdir(tmp_path)) == ["results.json"]  # no temporary file, no probe
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(tmp_path / "results.json").st_mode & 0o777 == 0o666 & ~umask


def test_output_dir_is_created(fake, tmp_path):
    code, _, _ = _main(["fake", "--output-dir", str(tmp_path / "new" / "folder")])
    assert code == 0 and (tmp_path / "new" / "folder" / "results.json").exists()


@pytest.mark.parametrize("when", ["computing", "writing"])
def test_interrupt_leaves_previous_results_intact(when, fake, tmp_path, monkeypatch):
    previous = '{"previous": "run"}'
    (tmp_path / "results.json").write_text(previous)
    if when == "computing":
        fake["raise"] = KeyboardInterrupt()
    else:
        def interrupted_write(path, text):
            def write(tmp):
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(text[: len(text) // 2])  # half written, then Ctrl-C
                raise KeyboardInterrupt
            return report._replace_atomically(path, write)

        monkeypatch.setattr(report, "atomic_write_text", interrupted_write)
    code, _, err = _main(["fake", "--output-dir", str(tmp_path)])
    assert code == 130 and "interrupted" in err and "left intact" in err
    assert (tmp_path / "results.json").read_text() == previous
    assert sorted(os.listdir(tmp_path)) == ["results.json"]


def test_closed_stdout_is_quiet(fake, tmp_path, monkeypatch):
    class ClosedPipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self):
            raise io.UnsupportedOperation("no fd")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = cli.main(["fake", "--json", "--output-dir", str(tmp_path)])
    assert code == 0 and "Traceback" not in stderr.getvalue()
    assert json.loads((tmp_path / "results.json").read_text()) == fake["document"]


# ------------------------------------------------------------ real processes: pipes, signals
_FAKE_MAIN = textwrap.dedent("""
    import os, signal, sys, time
    from complexity_optax.demo import cli, report

    # Ctrl-C as in a terminal: a test runner's worker may ignore SIGINT, and an ignored signal
    # is inherited by its children (Python then never raises KeyboardInterrupt).
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def add(parser):
        parser.add_argument("--output-dir")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--sleep", type=float, default=0.0)

    def run(args):
        print("computing", file=sys.stderr, flush=True)
        time.sleep(args.sleep)
        doc = {"numbers": list(range(200000))}
        report.publish(doc, "table", os.path.join(args.output_dir, "results.json"),
                       as_json=args.json, out=sys.stderr)
        return 0

    cli.SUBCOMMANDS["fake"] = ("fake", add, run)
    sys.exit(cli.main(sys.argv[1:]))
""")


def _popen(args, **kwargs):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-c", _FAKE_MAIN, *args], env=env, text=True,
                            **kwargs)


@pytest.mark.integration
def test_json_piped_into_head_exits_quietly(tmp_path):
    producer = _popen(["fake", "--json", "--output-dir", str(tmp_path)],
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = producer.stdout.read(10)  # `| head -c 10`
    producer.stdout.close()
    _, err = producer.communicate(timeout=120)
    assert first.startswith("{")
    assert producer.returncode == 0, err
    assert "BrokenPipeError" not in err and "Traceback" not in err
    assert len(json.loads((tmp_path / "results.json").read_text())["numbers"]) == 200000


@pytest.mark.integration
def test_sigint_while_computing_keeps_previous_results(tmp_path):
    (tmp_path / "results.json").write_text('{"previous": "run"}')
    proc = _popen(["fake", "--sleep", "60", "--output-dir", str(tmp_path)],
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stderr.readline().strip() == "computing"
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert (tmp_path / "results.json").read_text() == '{"previous": "run"}'
    assert sorted(os.listdir(tmp_path)) == ["results.json"]
