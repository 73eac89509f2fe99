"""pydantic v2 models as STRUCT, with the same field encoding as dataclasses.

pydantic is never imported here: a class can only be a pydantic model if pydantic is already
imported, so :meth:`PydanticTransformer.matches` looks it up in ``sys.modules``. Decoding builds
the instance with ``model_validate`` (validators run; fields holding ``File`` need the model's
``arbitrary_types_allowed``).
"""

from __future__ import annotations

import sys
import typing

from skyloom.types.hints import TypeHint
from skyloom.types.structs import FieldSpec, RecordTransformer


def _base_model() -> type | None:
    module = sys.modules.get("pydantic")
    base = getattr(module, "BaseModel", None) if module is not None else None
    return base if isinstance(base, type) else None


class PydanticTransformer(RecordTransformer):
    """``pydantic.BaseModel`` subclasses ↔ STRUCT."""

    name = "pydantic"

    def matches(self, python_type: TypeHint) -> bool:
        base = _base_model()
        return base is not None and isinstance(python_type, type) and issubclass(python_type, base)

    def fields(self, cls: type) -> dict[str, FieldSpec]:
        hints = typing.get_type_hints(cls, include_extras=True)
        model_fields: dict[str, object] = getattr(cls, "model_fields", {})
        out: dict[str, FieldSpec] = {}
        for name, info in model_fields.items():
            is_required = getattr(info, "is_required", None)
            required = bool(is_required()) if callable(is_required) else True
            out[name] = FieldSpec(
                hints.get(name, getattr(info, "annotation", object)), not required
            )
        return out

    def build(self, cls: type, values: dict[str, object]) -> object:
        validate = getattr(cls, "model_validate")  # noqa: B009 - cls is only known at run time
        return validate(values)
