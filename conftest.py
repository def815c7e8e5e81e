# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Root pytest configuration: shared by ``tests/`` and the doctests of ``complexity_optax/``.

The README's test command collects both (``testpaths`` and ``--doctest-modules`` in
``pyproject.toml``). Every run is CPU-only and headless unless the caller says otherwise, so that
the docstring examples give the same numbers on every machine.

One run compiles cheaply. The settings below are made in the controller before the xdist
workers and the subprocess tests (notebooks, CLI, multi-device) start, so they inherit them:
LLVM's optimisation passes are off for the tiny test shapes. No persistent compilation cache is
shared between the processes any more (a worker once crashed while serialising an entry, late
in a run: most likely the memory-mapping limit handled at the end of this file, but the cache
saved only about a tenth of the CPU time). A caller who sets `JAX_COMPILATION_CACHE_DIR` still
gets jax's cache, with jax's own thresholds.
"""

import os

import pytest

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")
# One OpenBLAS thread per LAPACK call (jax's CPU eigh/svd go through scipy's OpenBLAS, called
# from XLA's own thread pool): no nested threading on a 2-core machine. Set before the workers
# start (they inherit it) and before scipy loads OpenBLAS.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# The tests' shapes are tiny, so XLA's CPU backend spends its time compiling, not running: compile
# without LLVM's optimisation passes (the HLO passes, fusion and buffer assignment are unchanged)
# and without its expensive ones, and fusions go through XLA's classic LLVM IR emitter instead of
# its newer MLIR fusion emitters (much slower to compile). Measured side by side: a third less CPU
# time for `reproduce kohler2019 --quick`, a fifth less for the dtype/cubic/spectral unit tests
# (level 0); for 17 contract and Steihaug tests 88 CPU-s (level 0), 78 (expensive passes off)
# and 39 (classic emitter). The few tests whose cost is running large programs compile those
# with the defaults (`tests/optimised_jit.py`). Set any of the flags yourself to override it.
_XLA_FLAGS = os.environ.get("XLA_FLAGS", "")
if "--xla_backend_optimization_level" not in _XLA_FLAGS:
    _XLA_FLAGS += " --xla_backend_optimization_level=0"
if "--xla_llvm_disable_expensive_passes" not in _XLA_FLAGS:
    _XLA_FLAGS += " --xla_llvm_disable_expensive_passes=true"
if "--xla_cpu_use_fusion_emitters" not in _XLA_FLAGS:
    _XLA_FLAGS += " --xla_cpu_use_fusion_emitters=false"
os.environ["XLA_FLAGS"] = _XLA_FLAGS.strip()

# ``python -m complexity_optax`` is the CLI entry point, not a module with examples.
collect_ignore = ["complexity_optax/__main__.py"]



# Every compiled executable keeps about six memory mappings (its JIT-linked code) until jax's
# caches drop it, and a worker of this suite compiles thousands of programs: near the end of a
# run a worker passed Linux's vm.max_map_count (65,530 here), after which XLA's next compilation
# segfaulted or aborted (three times this session, each time late in a run, each time a
# different test that passes alone). So after each module, once a process holds more than
# _MAP_LIMIT mappings, its compiled programs are released (they recompile if needed again).
_MAP_LIMIT = 30_000


def _mapping_count() -> int:
    try:
        with open("/proc/self/maps", "rb") as f:
            return sum(1 for _ in f)
    except OSError:  # not Linux: nothing to watch
        return 0


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    yield
    if _mapping_count() > _MAP_LIMIT:
        import gc

        import jax

        jax.clear_caches()
        gc.collect()
