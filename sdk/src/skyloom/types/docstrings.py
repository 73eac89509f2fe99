"""Parameter and return descriptions from Google, numpy and Sphinx style docstrings."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

_SPHINX_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+):\s*(.*)$")
_SPHINX_RETURN = re.compile(r"^:returns?:\s*(.*)$")
_GOOGLE_ITEM = re.compile(r"^(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ITEM = re.compile(r"^(\w+)\s*(?::\s*.*)?$")
_GOOGLE_OTHER = re.compile(r"^[A-Z][A-Za-z ]{1,30}:\s*$")
_GOOGLE_HEADERS = {
    "args": "params",
    "arguments": "params",
    "parameters": "params",
    "returns": "returns",
    "return": "returns",
    "yields": "returns",
}


@dataclass
class Docstring:
    """What :func:`parse_docstring` found. ``returns`` maps output names (or ``""``) to text."""

    summary: str = ""
    params: dict[str, str] = field(default_factory=dict)
    returns: dict[str, str] = field(default_factory=dict)


def parse_docstring(doc: str | None) -> Docstring:
    """Parse ``doc`` leniently: unknown sections are ignored, never an error."""
    out = Docstring()
    if not doc:
        return out
    lines = inspect.cleandoc(doc).splitlines()
    out.summary = lines[0].strip() if lines else ""
    _parse_sphinx(lines, out)
    _parse_sections(lines, out)
    return out


def _parse_sphinx(lines: list[str], out: Docstring) -> None:
    current: tuple[dict[str, str], str] | None = None
    for raw in lines:
        line = raw.strip()
        if m := _SPHINX_PARAM.match(line):
            out.params[m.group(1)] = m.group(2).strip()
            current = (out.params, m.group(1))
        elif m := _SPHINX_RETURN.match(line):
            out.returns[""] = m.group(1).strip()
            current = (out.returns, "")
        elif line.startswith(":"):
            current = None
        elif current and line and raw.startswith((" ", "\t")):
            target, key = current
            target[key] = f"{target[key]} {line}".strip()
        elif not line:
            current = None


def _section_of(lines: list[str], i: int) -> tuple[str, bool] | None:
    """(section kind, is_numpy) if line ``i`` starts a known section."""
    text = lines[i].strip()
    numpy = i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}
    key = text.rstrip(":").lower()
    if key in _GOOGLE_HEADERS and (numpy or text.endswith(":")):
        return _GOOGLE_HEADERS[key], numpy
    if numpy and text:
        return "other", True  # e.g. "Examples\n--------": ends the previous section
    if _GOOGLE_OTHER.match(lines[i]):
        return "other", False  # e.g. "Raises:" at the margin
    return None


def _parse_sections(lines: list[str], out: Docstring) -> None:
    i = 0
    while i < len(lines):
        found = _section_of(lines, i)
        if found is None:
            i += 1
            continue
        kind, numpy = found
        i += 2 if numpy else 1
        body: list[str] = []
        while i < len(lines) and _section_of(lines, i) is None:
            # A Google section ends at unindented text after a blank line (items are usually
            # indented, but not when the header was the docstring's first line).
            after_blank = bool(body) and not body[-1].strip()
            if not numpy and after_blank and not lines[i].startswith((" ", "\t")):
                break
            body.append(lines[i])
            i += 1
        if kind == "other":
            continue
        target = out.params if kind == "params" else out.returns
        _parse_items(body, target, numpy=numpy, is_returns=kind == "returns")


def _parse_items(body: list[str], target: dict[str, str], *, numpy: bool, is_returns: bool) -> None:
    if not body:
        return
    base = (
        min(len(line) - len(line.lstrip()) for line in body if line.strip())
        if any(line.strip() for line in body)
        else 0
    )
    key: str | None = None
    free: list[str] = []
    for raw in body:
        if not raw.strip():
            continue
        indent = len(raw) - len(raw.lstrip())
        line = raw.strip()
        if indent == base:
            m = (_NUMPY_ITEM if numpy else _GOOGLE_ITEM).match(line)
            if m and (numpy or not is_returns or _GOOGLE_ITEM.match(line)):
                key = m.group(1)
                target[key] = "" if numpy else m.group(2).strip()
                continue
            if is_returns:
                free.append(line)
                key = None
                continue
        if key is not None:
            target[key] = f"{target[key]} {line}".strip()
        elif is_returns:
            free.append(line)
    if free and is_returns:
        target.setdefault("", " ".join(free))
