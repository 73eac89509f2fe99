"""Where the author's code is: caller locations and tracebacks without SDK frames."""

from __future__ import annotations

import os
import sys
import traceback
from types import FrameType, TracebackType

_SDK_DIR = os.path.dirname(os.path.abspath(__file__))
_SKIP_PREFIXES = (_SDK_DIR, os.path.dirname(os.path.abspath(traceback.__file__)))


_PLUMBING = ("/importlib/", "/asyncio/", "/concurrent/futures/", "/threading.py")


def is_sdk_file(filename: str) -> bool:
    """True for files of the SDK itself and of the standard library's runtime plumbing."""
    path = os.path.abspath(filename)
    if path.startswith(_SDK_DIR + os.sep):
        return True
    return any(part in path for part in _PLUMBING)


def caller_location() -> str:
    """``file.py:LINE`` of the innermost frame outside the SDK (the author's call site)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and is_sdk_file(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


def object_location(obj: object) -> str:
    """``file.py:LINE`` where a function was defined."""
    code = getattr(obj, "__code__", None)
    if code is None:
        return "<unknown>"
    return f"{os.path.basename(code.co_filename)}:{code.co_firstlineno}"


def author_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and its cause chain with SDK frames left out."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    chain: list[BaseException] = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    for i, err in enumerate(reversed(chain)):
        if i:
            parts.append("\nThe above exception was the direct cause of the following:\n\n")
        frames = [f for f in traceback.extract_tb(_tb(err)) if not is_sdk_file(f.filename)]
        if frames:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_list(frames))
        parts.extend(traceback.format_exception_only(type(err), err))
    return "".join(parts)


def strip_sdk_frames(exc: BaseException) -> BaseException:
    """Drop the SDK's frames from ``exc``'s traceback (in place), keeping the author's."""
    kept: list[TracebackType] = []
    tb = exc.__traceback__
    while tb is not None:
        if not is_sdk_file(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    new: TracebackType | None = None
    for entry in reversed(kept):
        new = TracebackType(new, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return exc.with_traceback(new)


def _tb(err: BaseException) -> TracebackType | None:
    return err.__traceback__
