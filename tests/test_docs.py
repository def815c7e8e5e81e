# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The documentation site: strict build, complete API reference, runnable examples.

* ``mkdocs build --strict`` succeeds (integration; skipped if the ``docs`` extras are missing).
* Every public name of ``complexity_optax`` and ``complexity_optax.landscape`` has a
  ``::: <module>.<name>`` entry in some ``docs/api/*.md`` page, and every entry names a real object.
* The docstrings are Markdown (no reST roles or directives), once converted (until then the
  build renders them through ``docs/rst_roles.py``).
* The ```` ```python ```` blocks of the guide pages run (```` ```py ```` marks fragments that are
  not run); blocks of one page share a namespace, in order (integration).
"""

from __future__ import annotations

import importlib
import importlib.util
import pathlib
import re
import subprocess
import sys
import types

import pytest

import complexity_optax
from complexity_optax import landscape

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API_ENTRY = re.compile(r"^::: ([\w.]+)\s*$", re.MULTILINE)
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _public_names(module: types.ModuleType) -> list[str]:
    """``__all__`` if defined, else the non-underscore attributes that are not submodules."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    return sorted(n for n in names if not isinstance(getattr(module, n), types.ModuleType))


def _api_entries() -> set[str]:
    entries = set()
    for page in sorted((DOCS / "api").glob("*.md")):
        entries.update(API_ENTRY.findall(page.read_text(encoding="utf-8")))
    return entries


def _resolve(dotted: str):
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _has_docs_tooling() -> str | None:
    """None if mkdocs, mkdocs-material and mkdocstrings[python] are importable, else a reason."""
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "griffe"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[docs]')"
    return None


# ------------------------------------------------------------------------------ API reference
@pytest.mark.parametrize(
    "module, prefix",
    [(complexity_optax, "complexity_optax"), (landscape, "complexity_optax.landscape")],
    ids=["complexity_optax", "landscape"],
)
def test_every_public_name_is_in_the_api_reference(module, prefix):
    names = _public_names(module)
    assert len(names) >= 20  # the modules export dozens of names; guards against an empty scan
    entries = _api_entries()
    missing = [f"{prefix}.{n}" for n in names if f"{prefix}.{n}" not in entries]
    assert not missing, f"public names without a '::: name' entry in docs/api/*.md: {missing}"


def test_every_api_entry_names_a_public_object():
    entries = _api_entries()
    assert entries
    for dotted in sorted(entries):
        obj = _resolve(dotted)  # raises if the entry is stale
        assert obj is not None, dotted
        assert not dotted.rpartition(".")[2].startswith("_"), dotted


def test_nav_lists_every_page():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert "robustness.md" in pages and "api/landscape.md" in pages
    missing = [p for p in pages if p not in nav]
    assert not missing, f"pages not in the mkdocs.yml nav: {missing}"


# ------------------------------------------------------------------------ Markdown docstrings
RST_MARKUP = re.compile(r"\.\. math::|:math:`|:(?:py:)?(?:func|class|mod|meth|data|attr|obj|exc):`|"
                        r"`[^`<]+<https?://[^>]+>`_")


def _docstrings():
    import ast

    for path in sorted((ROOT / "complexity_optax").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                 ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node, clean=False)
                if doc:
                    yield f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 1)}", doc


def test_docstrings_are_markdown():
    """mkdocstrings renders the docstrings natively: Markdown, no reST roles or directives."""
    if (DOCS / "rst_roles.py").exists():
        pytest.skip("docstrings not converted yet: python /tmp/convert_docstrings.py, then remove "
                    "docs/rst_roles.py and its 'extensions' entry in mkdocs.yml")
    found = [where for where, doc in _docstrings() if RST_MARKUP.search(doc)]
    assert len(list(_docstrings())) > 100  # the scan found the docstrings
    assert not found, f"reST markup left in docstrings: {found}"


# ------------------------------------------------------------------------------ strict build
@pytest.mark.integration
def test_mkdocs_strict_build(tmp_path):
    reason = _has_docs_tooling()
    if reason is not None:
        pytest.skip(reason)
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    # The API pages were rendered from the docstrings, with the maths handed to MathJax.
    api_page = (site / "api" / "transformations" / "index.html").read_text(encoding="utf-8")
    assert 'id="complexity_optax.complexity_weight_decay"' in api_page
    assert "arithmatex" in api_page
    assert ".. math::" not in api_page and ":func:`" not in api_page
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "python -m complexity_optax demo" in index


def test_index_has_the_readme_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    commands = [line for line in readme.splitlines() if line.startswith("python3 -m venv")]
    assert len(commands) == 2
    for command in commands:
        assert command in index.splitlines(), command


# -------------------------------------------------------------------------- runnable examples
#: Every page of docs/ with a ```python block: all of them run (``` ```text ``` is output,
#: ``` ```bash ``` the CLI, which tests/test_demo.py and tests/test_cli_*.py run).
GUIDE_PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")
                     if PYTHON_BLOCK.search(p.read_text(encoding="utf-8")))
CODE_FENCE = re.compile(r"^```(\w*)$", re.MULTILINE)


def test_every_code_block_of_the_docs_runs_or_is_output():
    """No fragment fences (``` ```py ```) left: a block is Python that runs, a shell command, or
    printed output."""
    assert {"which-tool.md", "clients/optimistix.md", "methods/trust-region.md"} <= set(GUIDE_PAGES)
    for page in sorted(DOCS.rglob("*.md")):
        languages = set(CODE_FENCE.findall(page.read_text(encoding="utf-8"))) - {""}
        assert languages <= {"python", "bash", "text"}, (page, languages)


def test_which_tool_calls_every_function_its_table_names():
    """The table's `use` column names functions; its Python block calls each one (so a row whose
    signature changed fails the run, not a reader)."""
    text = (DOCS / "which-tool.md").read_text(encoding="utf-8")
    table = "\n".join(line for line in text.splitlines() if line.startswith("| "))
    named = set()
    for row in table.splitlines()[2:]:
        use = row.split("|")[2]
        for span in re.findall(r"`([^`]+)`", use):
            named.update(re.findall(r"([a-z_][a-z0-9_]*)\(", span))
            named.update(re.findall(r"^(?:landscape\.)?([a-z_][a-z0-9_]*)$", span))
    assert len(named) >= 35  # 39 names today
    code = "\n".join(PYTHON_BLOCK.findall(text))
    missing = sorted(name for name in named if not re.search(rf"\b{name}\(", code))
    assert not missing, f"which-tool.md names these without calling them: {missing}"


@pytest.mark.integration
@pytest.mark.parametrize("page", GUIDE_PAGES)
def test_guide_examples_run(page):
    blocks = PYTHON_BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))
    assert blocks, f"{page} has no ```python example"
    namespace: dict = {"__name__": "docs_example"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{page}[{i}]", "exec"), namespace)  # noqa: S102


@pytest.mark.integration
def test_readme_first_loop_trains_a_cnn(capsys):
    """The README's ```python block (a Flax NNX CNN on the bundled MNIST) runs as written."""
    blocks = PYTHON_BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert blocks, "README.md has no ```python example"
    namespace: dict = {"__name__": "readme_example"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"README.md[{i}]", "exec"), namespace)  # noqa: S102
    assert float(namespace["accuracy"]) > 0.5  # 0.88 measured; chance is 0.1


def test_trust_region_problem_table_is_the_benchmark_record():
    """The solvers x problems table (``benchmarks/trust_region.py --problems``) is shown from its
    record only: docs/benchmarks.md holds the record's rows verbatim (white space aside) and the
    trust-region page links there instead of typing a copy; the record has all 14 problems and a
    column group for scipy and each of the four solvers."""
    record = (ROOT / "benchmarks" / "results" / "trust_region_problems_cpu.txt").read_text()
    lines = [line for line in record.splitlines() if line and not line.startswith("#")]
    header, rows = lines[0], lines[1:]
    assert len(rows) == 14
    for column in ("scipy trust-ncg", "tr:", "tr_rmsprop:", "arc:", "sfn:"):
        assert column in header
    assert all(row.count("|") == 5 for row in rows)
    bench = re.sub(r"\s+", " ", (DOCS / "benchmarks.md").read_text(encoding="utf-8"))
    for row in rows:
        assert re.sub(r"\s+", " ", row).strip() in bench, row[:60]
    page = (DOCS / "methods" / "trust-region.md").read_text(encoding="utf-8")
    assert "benchmarks.md#solvers-problems" in page
    assert not any(line.startswith("| rosenbrock") for line in page.splitlines())
