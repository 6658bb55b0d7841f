"""docs/configuration.md, written from the fields of `Settings`: `python -m config.reference > docs/configuration.md`.

A test compares the committed document with what this writes, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Literal, get_args, get_origin

from pydantic.fields import FieldInfo

from config import Settings

INTRO = """\
# Configuration

<!-- Written by `python -m config.reference` from the fields of `Settings` in config/__init__.py: edit their
     descriptions there, then write this file again. -->

Warm Transfer reads its configuration from environment variables prefixed `WT_`, or from a `.env` file in the
directory it runs in. A bad value stops the process at start with one line per variable, naming it.

A running transfer keeps the timings it started with.

| variable | default | accepts | meaning |
|---|---|---|---|
"""
_BOUNDS = (("ge", "at least"), ("gt", "more than"), ("le", "at most"), ("lt", "less than"))


def render() -> str:
    return INTRO + "".join(_row(name, field) for name, field in Settings.model_fields.items())


def _row(name: str, field: FieldInfo) -> str:
    meaning = (field.description or "") + _needed(field)
    cells = (f"`WT_{name.upper()}`", _default(field.default), _accepts(field), meaning)
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |\n"


def _needed(field: FieldInfo) -> str:
    """What `config.needed_by` marks: the scale-out processes must be given it."""
    processes = (field.json_schema_extra or {}).get("needed_by")
    if not processes:
        return ""
    named = " and ".join(f"`{process}`" for process in processes)
    return f". **{named} need{'s' if len(processes) == 1 else ''} it set.**"


def _default(value: object) -> str:
    if value is None or value == []:
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _accepts(field: FieldInfo) -> str:
    if field.annotation in (bool, bool | None):
        return "`true` or `false`"
    if get_origin(field.annotation) is Literal:
        return " or ".join(f"`{choice}`" for choice in get_args(field.annotation))
    return ", ".join(f"{words} {getattr(bound, attr)}" for attr, words in _BOUNDS
                     for bound in field.metadata if getattr(bound, attr, None) is not None)


if __name__ == "__main__":
    print(render(), end="")
