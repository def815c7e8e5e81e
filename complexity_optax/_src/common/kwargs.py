# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The one router from `update`'s extra keyword arguments to a user's `value_fn`/`grad_fn`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["fn_kwargs"]


def fn_kwargs(fn: Callable[..., Any], extra_args: dict[str, Any]) -> dict[str, Any]:
    """The extra keyword arguments that `fn` accepts, by parameter name.

    Like optax's line searches, a keyword argument of `update` whose name is a parameter of
    `fn` (other than its first, the parameters) is passed on to it; if `fn` takes
    `**kwargs`, every extra argument is. Unlike the line searches, the others are ignored rather
    than an error, since a transformation in an `optax.chain` sees the extra arguments of all
    its siblings. A callable without a signature (a builtin) gets nothing.

    Examples:
      >>> def loss(params, batch): ...
      >>> fn_kwargs(loss, {"batch": 1, "value": 2.0})
      {'batch': 1}
      >>> fn_kwargs(lambda p, **kw: 0.0, {"batch": 1, "value": 2.0})
      {'batch': 1, 'value': 2.0}
    """
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins without a signature: pass nothing.
        return {}
    parameters = list(signature.parameters.values())
    first = parameters[0].name if parameters and parameters[0].kind in (
        inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD) else None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return {k: v for k, v in extra_args.items() if k != first}
    names = {
        p.name for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and p.name != first
    }
    return {k: v for k, v in extra_args.items() if k in names}
