"""The `ask --json` object as JSON Schema, read off the dataclasses that produce it.

`Answer.to_dict` is what `newsdesk ask --json` prints and what `GET /ask` returns; this module
derives the schema from the same dataclasses (retrieval/types.py), so a field added there, such
as a score on each evidence sentence, shows up in the API and in /openapi.json without an edit
here or in the server.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from retrieval.types import Answer

_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
}

# What the CLI prints for a question it cannot ask (`ask --json`), and the API's 4xx/5xx body.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "What went wrong and how to fix it."},
        "question": {"type": "string", "description": "The question as sent, cut at 200 characters."},
        "evidence": {"type": "array", "maxItems": 0},
    },
}


def error_object(message: str, question: str | None = None) -> dict[str, Any]:
    """The error body shared by `ask --json` and the API (ERROR_SCHEMA)."""
    if question is None:
        return {"error": message}
    return {"question": question[:200], "error": message, "evidence": []}


def component_schemas(root: type = Answer) -> dict[str, dict[str, Any]]:
    """JSON Schemas of ``root`` and every dataclass it refers to, keyed by class name."""
    schemas: dict[str, dict[str, Any]] = {}
    _schema_for(root, schemas)
    return schemas


def _schema_for(tp: Any, schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if tp in _SCALARS:
        return dict(_SCALARS[tp])
    if dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in schemas:
            schemas[name] = {}  # placeholder first: a dataclass may refer to itself
            schemas[name] = _dataclass_schema(tp, schemas)
        return {"$ref": f"#/components/schemas/{name}"}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_schema_for(arg, schemas) for arg in args]}
    if origin is list:
        return {"type": "array", "items": _schema_for(args[0], schemas) if args else {}}
    if origin is tuple:
        # to_dict writes tuples as JSON arrays; a fixed-length tuple is a fixed-length array.
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _schema_for(args[0], schemas)}
        items = [_schema_for(arg, schemas) for arg in args]
        return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
    if origin is dict or tp is dict:
        return {"type": "object"}
    if tp is Any:
        return {}
    raise TypeError(f"no JSON Schema for {tp!r}: extend bot/answer_schema.py for this field type")


def _dataclass_schema(cls: type, schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties = {f.name: _schema_for(hints[f.name], schemas) for f in dataclasses.fields(cls)}
    doc = (cls.__doc__ or "").strip().splitlines()
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": list(properties)}
    if doc:
        schema["description"] = doc[0]
    return schema
