# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The documentation site: strict build, complete API reference, runnable examples.

* ``mkdocs build --strict`` succeeds (skipped if the ``docs`` extras are not installed).
* Every public name of ``complexity_optax`` and ``complexity_optax.landscape`` has a
  ``::: <module>.<name>`` entry in some ``docs/api/*.md`` page, and every entry names a real object.
* The reST-to-Markdown rewriting of ``docs/rst_roles.py`` (used by the build) gives the expected
  Markdown.
* The ```` ```python ```` blocks of the guide pages run (```` ```py ```` marks fragments that are
  not run); blocks of one page share a namespace, in order.
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


# --------------------------------------------------------------------------- reST rewriting
def _rst_roles():
    pytest.importorskip("griffe", reason="griffe (mkdocstrings[python]) is not installed")
    spec = importlib.util.spec_from_file_location("rst_roles", DOCS / "rst_roles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rst_roles_rewrites_math_roles_and_links():
    rst = _rst_roles()
    text = (
        "Adds :math:`2\\lambda\\theta`, see :func:`complexity_optax.hvp` and\n"
        ":class:`~optax.GradientTransformation`.\n"
        "\n"
        "  .. math::\n"
        "\n"
        "      a &= b \\\\\n"
        "      c &= d\n"
        "\n"
        "  The chain is::\n"
        "\n"
        "      x = 1\n"
        "\n"
        "`Paper <https://arxiv.org/abs/1902.02881>`_."
    )
    expected = (
        "Adds \\(2\\lambda\\theta\\), see `complexity_optax.hvp` and\n"
        "`optax.GradientTransformation`.\n"
        "\n"
        "\n"
        "  $$\n"
        "  \\begin{aligned}\n"
        "  a &= b \\\\\n"
        "  c &= d\n"
        "  \\end{aligned}\n"
        "  $$\n"
        "\n"
        "  The chain is:\n"
        "\n"
        "      x = 1\n"
        "\n"
        "[Paper](https://arxiv.org/abs/1902.02881)."
    )
    assert rst.rst_to_markdown(text) == expected


def test_rst_roles_leaves_plain_markdown_alone():
    rst = _rst_roles()
    text = "Returns ``x`` (a pytree).\n\nArgs:\n  x: the input, :math:`x \\ge 0`."
    assert rst.rst_to_markdown(text) == (
        "Returns ``x`` (a pytree).\n\nArgs:\n  x: the input, \\(x \\ge 0\\)."
    )


# ------------------------------------------------------------------------------ strict build
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
        timeout=300,
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
GUIDE_PAGES = [
    "getting-started.md",
    "methods/complexity-annealing.md",
    "methods/annealsgd.md",
    "methods/trust-region.md",
    "methods/landscape.md",
]


@pytest.mark.parametrize("page", GUIDE_PAGES)
def test_guide_examples_run(page):
    blocks = PYTHON_BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))
    assert blocks, f"{page} has no ```python example"
    namespace: dict = {"__name__": "docs_example"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{page}[{i}]", "exec"), namespace)  # noqa: S102
