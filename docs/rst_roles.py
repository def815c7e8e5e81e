# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""A griffe extension for the docs build: renders the reST bits of our docstrings as Markdown.

The docstrings follow optax's style (Google sections, reST markup inside), while mkdocstrings
renders Markdown. Before rendering, this extension rewrites, in every docstring:

* ``.. math::`` blocks into ``$$ ... $$`` display maths (wrapped in ``aligned`` when they use
  ``&`` or ``\\\\``), and ``:math:`x``` into inline ``\\(x\\)`` (pymdownx.arithmatex, generic mode);
* the roles ``:func:`name```, ``:class:`...```, ``:mod:``, ``:meth:``, ``:data:``, ``:attr:``
  into code spans;
* reST hyperlinks ```text <url>`_`` into ``[text](url)``;
* a paragraph ending in ``::`` (a literal block follows) into one ending in ``:``.

It touches only the docs build (listed under ``extensions`` in ``mkdocs.yml``); the docstrings
in the code are unchanged.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|data|attr|obj|exc):`~?([^`]+)`")
_INLINE_MATH = re.compile(r":math:`([^`]+)`")
_LINK = re.compile(r"`([^`<]+?)\s*<(https?://[^>]+)>`_{1,2}")
_LITERAL_INTRO = re.compile(r"(\S)::$")


def _math_block(lines: list[str], start: int) -> tuple[list[str], int]:
    """Converts the ``.. math::`` block starting at ``lines[start]``; returns (new lines, next)."""
    header = lines[start]
    indent = header[: len(header) - len(header.lstrip())]
    first = header.strip()[len(".. math::"):].strip()
    body = [first] if first else []
    i = start + 1
    while i < len(lines):
        line = lines[i]
        if line.strip() and (len(line) - len(line.lstrip())) <= len(indent):
            break
        body.append(line)
        i += 1
    while body and not body[-1].strip():
        body.pop()
    while body and not body[0].strip():
        body.pop(0)
    tex = textwrap.dedent("\n".join(body)).strip("\n").splitlines()
    if any("&" in t or t.rstrip().endswith("\\\\") for t in tex):
        tex = [r"\begin{aligned}"] + tex + [r"\end{aligned}"]
    out = [""] + [indent + "$$"] + [indent + t for t in tex] + [indent + "$$", ""]
    return out, i


def rst_to_markdown(text: str) -> str:
    """The Markdown rendering of a docstring written with reST markup (see the module doc)."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i].strip().startswith(".. math::"):
            block, i = _math_block(lines, i)
            out.extend(block)
            continue
        out.append(lines[i])
        i += 1
    text = "\n".join(out)
    text = _INLINE_MATH.sub(lambda m: r"\(" + m.group(1) + r"\)", text)
    text = _ROLE.sub(lambda m: "`" + m.group(1) + "`", text)
    text = _LINK.sub(lambda m: f"[{m.group(1)}]({m.group(2)})", text)
    text = "\n".join(_LITERAL_INTRO.sub(r"\1:", line) for line in text.splitlines())
    return text


class RstRoles(griffe.Extension):
    """Rewrites each loaded docstring with :func:`rst_to_markdown`."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        del kwargs
        docstring = getattr(obj, "docstring", None)
        if docstring is not None and docstring.value:
            docstring.value = rst_to_markdown(docstring.value)
