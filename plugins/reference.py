"""The hook reference, generated from the hook specifications so it cannot drift from them.

``python -m jiceng.plugins.reference > docs/vendors/hooks.md``; a test fails
when the committed file differs from what this prints.
"""

from __future__ import annotations

import inspect

from jiceng.plugins import hookspecs
from jiceng.plugins.markers import PROJECT

HEADER = """\
# Hook reference

Generated from `plugins/hookspecs.py` by `python -m jiceng.plugins.reference`; do not edit by hand.

Implement a hook by defining a function with its name in your scenario module,
decorated with `@hookimpl` from `jiceng.sdk`, taking any of the arguments
listed (by name, without defaults).
"""


def specs() -> list[tuple[str, inspect.Signature, str, dict[str, object]]]:
    """``(name, signature, docstring, options)`` for every hook, in source order."""
    found = []
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        options = getattr(fn, f"{PROJECT}_spec", None)
        if options is not None:
            found.append(
                (inspect.getsourcelines(fn)[1], name, inspect.signature(fn), inspect.getdoc(fn) or "", dict(options))
            )
    return [(name, sig, doc, opts) for _line, name, sig, doc, opts in sorted(found)]


def heading(name: str, signature: inspect.Signature) -> str:
    """``name(arg: Type, …) -> Type`` with the annotations as written in the source."""
    args = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    return f"{name}({args}) -> {signature.return_annotation}"


def render() -> str:
    conventions = (inspect.getdoc(hookspecs) or "").split("\n\n", 1)[-1].strip()
    parts = [HEADER, "## Conventions\n", conventions + "\n"]
    for name, signature, doc, options in specs():
        parts.append(f"## `{heading(name, signature)}`\n")
        if options.get("firstresult"):
            parts.append(
                "*First result wins:* the first implementation to return something other than `None` answers.\n"
            )
        parts.append(doc + "\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
