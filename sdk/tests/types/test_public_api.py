"""``skyloom.types.__all__`` is exactly the public surface, sorted."""

from __future__ import annotations

import skyloom.types


def test_all_is_sorted_and_complete() -> None:
    exported = skyloom.types.__all__
    assert exported == sorted(exported)
    public = {
        name
        for name in vars(skyloom.types)
        if not name.startswith("_") and not isinstance(getattr(skyloom.types, name), type(skyloom))
    }
    assert set(exported) == public
