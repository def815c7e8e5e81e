# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Data-parallel training across 2 local processes on JAX's distributed runtime (CPU, loopback).

Each process runs ``tests/multiprocess_worker.py`` with ``jax.distributed.initialize`` at a free
``127.0.0.1`` port and gloo CPU collectives, one device per process, the global batch sharded over
them: ``complexity_sgd``, ``anneal_sgd`` and ``trust_region`` for 5 steps, with a multi-process
orbax checkpoint after step 3 that is restored and replayed. A third process runs the same script
alone (``num_processes=1``) as the reference. Skipped only where the platform lacks CPU
collectives (the reason is printed).
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "multiprocess_worker.py")
METHODS = ("complexity_sgd", "anneal_sgd", "trust_region")
TIMEOUT_S = 900  # a ceiling against a hang; loaded 2-core machines are slow to compile


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(process_id, num_processes, port, out):
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": "",
           "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))}
    env.pop("JAX_NUM_CPU_DEVICES", None)
    return subprocess.Popen(
        [sys.executable, WORKER, "--process-id", str(process_id), "--num-processes",
         str(num_processes), "--port", str(port), "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def _lacks_cpu_collectives(log: str) -> bool:
    words = ("jax_cpu_collectives_implementation", "gloo", "collectives")
    return any(w in log for w in words) and ("Unrecognized" in log or "not supported" in log
                                             or "not available" in log or "No module" in log)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    multi, single = tmp_path_factory.mktemp("multi"), tmp_path_factory.mktemp("single")
    port = _free_port()
    procs = [_start(i, 2, port, multi) for i in range(2)] + [_start(0, 1, 0, single)]
    logs = []
    try:
        for p in procs:
            out, _ = p.communicate(timeout=TIMEOUT_S)
            logs.append(out)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    codes = [p.returncode for p in procs]
    if codes[:2] != [0, 0] and _lacks_cpu_collectives(logs[0] + logs[1]):
        pytest.skip("this platform lacks CPU collectives (gloo) for jax.distributed: "
                    + (logs[0] + logs[1])[-300:])
    assert codes == [0, 0, 0], "\n\n".join(log[-3000:] for log in logs)
    load = lambda d: (dict(np.load(d / "result.npz")),  # noqa: E731
                      json.loads((d / "report.json").read_text()))
    return load(multi), load(single)


@pytest.mark.integration
def test_two_processes_joined_one_global_mesh(runs):
    (_, report), (_, single_report) = runs
    assert report["process_count"] == 2 and len(report["devices"]) == 2
    assert single_report["process_count"] == 1
    print(f"\nmulti-process: {report['process_count']} processes, devices {report['devices']}")


@pytest.mark.integration
@pytest.mark.parametrize("method", METHODS)
def test_data_parallel_training_equals_single_process(runs, method):
    (multi, report), (single, single_report) = runs
    for leaf in ("kernel", "bias"):
        np.testing.assert_allclose(multi[f"{method}/final/{leaf}"],
                                   single[f"{method}/final/{leaf}"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(report["methods"][method]["losses"],
                               single_report["methods"][method]["losses"], rtol=1e-5)
    losses = report["methods"][method]["losses"]
    assert losses[-1] < 0.95 * losses[0]  # it trained: not a comparison of two initial points


@pytest.mark.integration
@pytest.mark.parametrize("method", METHODS)
def test_multi_process_checkpoint_resume_is_bit_identical(runs, method):
    (multi, _), (single, _) = runs
    for leaf in ("kernel", "bias"):
        np.testing.assert_array_equal(multi[f"{method}/resumed/{leaf}"],
                                      multi[f"{method}/final/{leaf}"])
        np.testing.assert_array_equal(single[f"{method}/resumed/{leaf}"],
                                      single[f"{method}/final/{leaf}"])
