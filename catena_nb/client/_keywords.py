"""Keyword arguments declared once, as a `TypedDict`, and checked and shown like a spelled-out signature.

The sync and async twin of a method take the same keywords; spelling them out twice would repeat every
name, type and default. So the method takes `**kwargs: Unpack[SomeKeywords]` (type checkers and IDEs read
each key from the `TypedDict`), and `@keywords(SomeKeywords, size=1000)` does at run time what a signature
would: it refuses an unknown or missing keyword with Python's own `TypeError`, and gives the method a
`__signature__` listing each keyword with its default, for `help()`, Jupyter's inspector and its keyword
completion.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ForwardRef, TypeVar, cast

__all__ = ["keywords"]

F = TypeVar("F", bound=Callable[..., Any])


def keywords(declared: Any, /, **defaults: Any) -> Callable[[F], F]:
    """Check and show the keys of the `TypedDict` `declared` as the keyword-only arguments of a method.

    Args:
        declared: the `TypedDict` of the method's `**kwargs`; its required keys have no default.
        defaults: the default of each optional key that is not None.
    """
    required: frozenset[str] = declared.__required_keys__
    names = list(declared.__annotations__)
    unknown_defaults = set(defaults) - set(names)
    if unknown_defaults:
        raise TypeError(f"defaults for keys {declared.__name__} does not declare: {sorted(unknown_defaults)}")

    def decorate(method: F) -> F:
        own = inspect.signature(method)
        kept = [p for p in own.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        shown = kept + [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if name in required else defaults.get(name),
                annotation=_shown(declared.__annotations__[name]),
            )
            for name in names
            if name not in own.parameters
        ]
        where = method.__qualname__

        @functools.wraps(method)
        def checked(*args: Any, **kwargs: Any) -> Any:
            for name in kwargs:
                if name not in declared.__annotations__ and name not in own.parameters:
                    raise TypeError(f"{where}() got an unexpected keyword argument {name!r}")
            missing = [name for name in names if name in required and name not in kwargs]
            if missing:
                listed = ", ".join(repr(m) for m in missing)
                plural = "s" * (len(missing) != 1)
                raise TypeError(
                    f"{where}() missing {len(missing)} required keyword argument{plural}: {listed}"
                )
            return method(*args, **kwargs)

        # sorted as Python wants it: positional parameters, then the keyword-only ones
        checked.__signature__ = own.replace(  # type: ignore[attr-defined]
            parameters=sorted(shown, key=lambda p: p.kind)
        )
        return cast(F, checked)

    return decorate


def _shown(annotation: Any) -> Any:
    # under `from __future__ import annotations` a TypedDict keeps its annotations as forward references
    return annotation.__forward_arg__ if isinstance(annotation, ForwardRef) else annotation
