# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The notebooks of ``notebooks/``: jupytext pairs that execute from their sources.

Every ``notebooks/NN_name.py`` (py:percent, the source of truth) has its ``NN_name.ipynb`` pair
with the same cells and no outputs (refresh with ``jupytext --sync notebooks/NN_name.py``). Each
notebook is one test: its ``.py`` is read by jupytext and executed top to bottom in a fresh
``python3`` kernel by nbclient, in quick mode (``COMPLEXITY_OPTAX_QUICK=1``), without saving figures
(``COMPLEXITY_OPTAX_FIGDIR`` removed). New notebooks are picked up by their ``NN_`` prefix.
"""

from __future__ import annotations

import os
import pathlib
import re

import pytest

pytestmark = pytest.mark.integration

nbformat = pytest.importorskip("nbformat", reason="the notebooks need nbformat")
nbclient = pytest.importorskip("nbclient", reason="executing the notebooks needs nbclient")
jupytext = pytest.importorskip("jupytext", reason="the paired notebook sources need jupytext")
pytest.importorskip("ipykernel", reason="executing the notebooks needs ipykernel")

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
SOURCE = re.compile(r"^\d\d_[a-z0-9_]+\.py$")
SOURCES = sorted(p.name for p in NOTEBOOK_DIR.glob("*.py") if SOURCE.match(p.name))
CELL_TIMEOUT_S = 300
# Imports that would hide the model or the loop of a notebook in the demo's internals.
HIDDEN_INTERNALS = re.compile(r"complexity_optax\.demo\.(model|train|methods)\b|"
                              r"from complexity_optax\.demo import (model|train|methods)\b")


def _kernel_available() -> bool:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return False
    return True


def _cells(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def test_notebooks_are_numbered_in_order():
    numbers = [int(name[:2]) for name in SOURCES]
    assert numbers[:5] == [1, 2, 3, 4, 5], SOURCES
    assert numbers == list(range(1, len(numbers) + 1)), f"gaps or duplicates: {SOURCES}"
    # Only the paired sources and their pairs live there (no generator script).
    others = sorted(p.name for p in NOTEBOOK_DIR.iterdir()
                    if p.is_file() and p.suffix in (".py", ".ipynb")
                    and p.stem not in {s[:-3] for s in SOURCES})
    assert not others, f"unpaired files in notebooks/: {others}"


@pytest.mark.parametrize("name", SOURCES)
def test_pair_is_in_sync_and_has_no_outputs(name):
    source = jupytext.read(NOTEBOOK_DIR / name)
    pair_path = NOTEBOOK_DIR / name.replace(".py", ".ipynb")
    assert pair_path.exists(), f"run: jupytext --sync notebooks/{name}"
    pair = nbformat.read(pair_path, as_version=4)
    assert _cells(pair) == _cells(source), f"out of sync: jupytext --sync notebooks/{name}"
    assert "ipynb" in pair.metadata.get("jupytext", {}).get("formats", ""), "not a jupytext pair"
    for cell in pair.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "committed outputs"
    first = source.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "title cell first"
    assert f"/notebooks/{name.replace('.py', '.ipynb')})" in first.source, "Colab badge link"
    # The badge opens it in Colab, which has no complexity_optax: the first code cell installs
    # it there (and only there).
    first_code = next(cell.source for cell in source.cells if cell.cell_type == "code")
    assert 'if "google.colab" in sys.modules:' in first_code, "no Colab install cell"
    assert '"pip", "install"' in first_code, "no Colab install cell"


@pytest.mark.parametrize("name", SOURCES)
def test_text_has_no_hard_coded_results_and_code_no_hidden_internals(name):
    notebook = jupytext.read(NOTEBOOK_DIR / name)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            # Numbers of a run are printed by the run (display(Markdown(f"..."))), never typed.
            assert "in our run" not in cell.source.lower(), cell.source[:200]
        else:
            assert not HIDDEN_INTERNALS.search(cell.source), cell.source[:200]


@pytest.mark.parametrize("name", SOURCES)
def test_notebook_runs_in_quick_mode(name, monkeypatch):
    if not _kernel_available():
        pytest.skip("no 'python3' Jupyter kernel: python -m ipykernel install --user")
    monkeypatch.setenv("COMPLEXITY_OPTAX_QUICK", "1")
    monkeypatch.delenv("COMPLEXITY_OPTAX_FIGDIR", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("JAX_PLATFORMS", os.environ.get("JAX_PLATFORMS", "cpu"))
    notebook = jupytext.read(NOTEBOOK_DIR / name)
    client = nbclient.NotebookClient(
        notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()  # raises CellExecutionError with the failing cell's traceback
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.get("output_type") == "error"]
    # Every computed Markdown cell rendered (display(Markdown(...)) gives text/markdown).
    displays = sum("display(Markdown(" in cell.source for cell in notebook.cells
                   if cell.cell_type == "code")
    rendered = sum("text/markdown" in out.get("data", {}) for out in outputs)
    assert rendered == displays
