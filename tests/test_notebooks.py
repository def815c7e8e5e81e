# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Executes every notebook of ``notebooks/`` in quick mode (``COMPLEXITY_OPTAX_QUICK=1``).

Each notebook is one test: it runs top to bottom in a fresh ``python3`` kernel with a per-cell
timeout, figures are not saved (``COMPLEXITY_OPTAX_FIGDIR`` is removed from the kernel's
environment), and the test also checks that the committed ``.ipynb`` files carry no outputs and are
exactly what ``notebooks/build_notebooks.py`` generates.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

nbformat = pytest.importorskip("nbformat", reason="executing the notebooks needs nbformat")
nbclient = pytest.importorskip("nbclient", reason="executing the notebooks needs nbclient")
pytest.importorskip("ipykernel", reason="executing the notebooks needs ipykernel")

NOTEBOOK_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "notebooks")
NOTEBOOKS = sorted(name for name in os.listdir(NOTEBOOK_DIR) if name.endswith(".ipynb"))
CELL_TIMEOUT_S = 300


def _load_builder():
    spec = importlib.util.spec_from_file_location(
        "build_notebooks", os.path.join(NOTEBOOK_DIR, "build_notebooks.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kernel_available() -> bool:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return False
    return True


def test_every_notebook_is_built():
    assert sorted(_load_builder().NOTEBOOKS) == NOTEBOOKS
    assert len(NOTEBOOKS) == 5


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_matches_builder_and_has_no_outputs(name, tmp_path):
    builder = _load_builder()
    builder.build(str(tmp_path / name), builder.NOTEBOOKS[name])
    committed = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
    generated = nbformat.read(str(tmp_path / name), as_version=4)
    assert committed == generated, f"run python notebooks/build_notebooks.py to refresh {name}"
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    first = committed.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert f"colab.research.google.com/github/complexity-optax/complexity_optax/blob/main/" \
           f"notebooks/{name}" in first.source
    assert 'if "google.colab" in sys.modules' in committed.cells[1].source


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_quick_mode(name, monkeypatch):
    if not _kernel_available():
        pytest.skip("no 'python3' Jupyter kernel: python -m ipykernel install --user")
    monkeypatch.setenv("COMPLEXITY_OPTAX_QUICK", "1")
    monkeypatch.delenv("COMPLEXITY_OPTAX_FIGDIR", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
        resources={"metadata": {"path": NOTEBOOK_DIR}},
    )
    client.execute()  # raises CellExecutionError with the failing cell's traceback
    text = "".join(
        out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
        for out in cell.outputs if out.get("output_type") == "stream"
    )
    assert "quick mode" in text
