"""Kimi K2.5's TypeScript-style tool declarations (the text its chat template puts in ``tool_declare``).

Same output as the encoder Moonshot ships with the K2.5 tokenizer (and the cookbook vendors): each
function becomes ``type NAME = (_: {...}) => any;`` inside ``namespace functions``, required fields
first (both groups sorted by name), descriptions and constraints as ``//`` comments, ``$defs`` as
``interface`` blocks. Schemas are parsed first (which registers ``$defs``), then written.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["encode_tools_to_typescript_style"]

_INDENT = "  "
_FIELD_SEP = ",\n"
_UNION_NAMES = {
    "string": "string",
    "number": "number",
    "integer": "number",
    "boolean": "boolean",
    "null": "null",
    "object": "{}",
    "array": "Array<any>",
}


def _comment(text: str, indent: str = "") -> str:
    return "\n".join(f"{indent}// {line}" if line else "" for line in text.split("\n"))


@dataclass
class _Defs:
    """``$defs`` seen while parsing, and whether the schema refers to itself (``$ref: "#"``)."""

    definitions: dict[str, Any] = field(default_factory=dict)
    self_ref: bool = False


@dataclass
class _Type:
    """One parsed schema node; ``kind`` picks how :meth:`ts` writes it."""

    kind: str  # scalar | object | array | enum | anyof | union | ref
    description: str = ""
    constraints: dict[str, Any] = field(default_factory=dict)
    name: str = ""  # scalar type name, or the ref's interface name
    items: list[_Type] = field(default_factory=list)  # array item / anyOf members
    fields: list[_Field] = field(default_factory=list)
    extra: Any = None  # object additionalProperties: None, bool or _Type
    values: list[Any] = field(default_factory=list)  # enum values / union names

    def docstring(self, indent: str) -> str:
        lines = []
        if self.description:
            lines.append(_comment(self.description, indent))
        if self.constraints:
            lines.append(f"{indent}// " + ", ".join(f"{k}: {v}" for k, v in sorted(self.constraints.items())))
        return "".join(line + "\n" for line in lines)

    def ts(self, indent: str = "") -> str:
        if self.kind == "scalar":
            return "number" if self.name == "integer" else self.name
        if self.kind == "enum":
            return " | ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in self.values)
        if self.kind == "anyof":
            return " | ".join(t.ts(indent) for t in self.items)
        if self.kind == "union":
            return " | ".join(self.values)
        if self.kind == "ref":
            return self.name
        if self.kind == "array":
            item = self.items[0]
            doc = item.docstring(indent + _INDENT)
            if doc:
                return f"Array<\n{doc}{indent}{_INDENT}{item.ts(indent + _INDENT)}\n{indent}>"
            return f"Array<{item.ts(indent)}>"
        return self._object_ts(indent)

    def _object_ts(self, indent: str) -> str:
        ordered = sorted((f for f in self.fields if not f.optional), key=lambda f: f.name)
        ordered += sorted((f for f in self.fields if f.optional), key=lambda f: f.name)
        lines = [f.ts(indent + _INDENT) for f in ordered]
        if self.extra is not None:
            if self.extra is True:
                extra = "any"
            elif self.extra is False:
                extra = "never"
            elif isinstance(self.extra, _Type):
                extra = self.extra.ts(indent + _INDENT)
            else:
                raise ValueError(f"Unknown additionalProperties: {self.extra}")
            lines.append(f"{indent}{_INDENT}[k: string]: {extra}")
        if not lines:
            return "{}"
        return "{\n" + _FIELD_SEP.join(lines) + "\n" + indent + "}"


@dataclass
class _Field:
    type: _Type
    name: str
    optional: bool
    default: Any = None

    def ts(self, indent: str) -> str:
        doc = self.type.docstring(indent)
        if self.default is not None:
            shown = (
                repr(self.default)
                if isinstance(self.default, (int, float, bool))
                else json.dumps(self.default, ensure_ascii=False)
            )
            doc += f"{indent}// Default: {shown}\n"
        return f"{doc}{indent}{self.name}{'?' if self.optional else ''}: {self.type.ts(indent)}"


_CONSTRAINT_KEYS = {
    "string": ("maxLength", "minLength", "pattern"),
    "number": ("maximum", "minimum"),
    "integer": ("maximum", "minimum"),
}


def _scalar(name: str, schema: dict[str, Any] | None = None) -> _Type:
    schema = schema or {}
    keys = _CONSTRAINT_KEYS.get(name, ())
    return _Type(
        "scalar",
        description=schema.get("description", ""),
        constraints={k: v for k, v in schema.items() if k in keys},
        name=name,
    )


def _check_enum(schema: dict[str, Any]) -> None:
    if "type" not in schema:
        return
    typ = schema["type"]
    if isinstance(typ, list):
        if len(typ) == 1:
            typ = typ[0]
        elif len(typ) == 2 and "null" in typ:
            typ = typ[0] if typ[0] != "null" else typ[1]
        else:
            raise ValueError(f"Enum type {typ} is not supported")
    checks: dict[str, tuple[Callable[[Any], bool], str]] = {
        "string": (lambda v: isinstance(v, str), "a string"),
        "number": (lambda v: isinstance(v, (int, float)), "a number"),
        "integer": (lambda v: isinstance(v, int), "an integer"),
        "boolean": (lambda v: isinstance(v, bool), "a boolean"),
    }
    if typ in checks:
        ok, what = checks[typ]
        for value in schema["enum"]:
            if value is not None and not ok(value):
                raise ValueError(f"Enum value {value} is not {what}")


def _object(schema: dict[str, Any], defs: _Defs) -> _Type:
    node = _Type("object", description=schema.get("description", "") if schema else "")
    if not schema:
        return node
    if schema.get("$defs"):
        defs.definitions.update(schema["$defs"])
    extra = schema.get("additionalProperties")
    node.extra = _parse(extra, defs) if isinstance(extra, dict) else extra
    if "properties" not in schema:
        return node
    required = set(schema.get("required", []))
    for name, prop in schema["properties"].items():
        default = prop.get("default") if isinstance(prop, dict) else None
        node.fields.append(_Field(_parse(prop, defs), name, name not in required, default))
    return node


def _parse(schema: dict[str, Any] | bool, defs: _Defs) -> _Type:
    if isinstance(schema, bool):
        if schema:
            return _scalar("any")
        logger.warning(f"Warning: Boolean value {schema} is not supported, use null instead.")
        return _scalar("null")
    if "$ref" in schema:
        ref = schema["$ref"]
        node = _Type("ref", description=schema.get("description", ""))
        if ref == "#":
            defs.self_ref = True
            node.name = "parameters"
        elif ref.startswith("#/$defs/"):
            if ref.split("/")[-1] not in defs.definitions:
                raise ValueError(f"Reference not found: {ref}")
            node.name = ref.split("/")[-1]
        else:
            raise ValueError(f"Unsupported reference format: {ref}")
        return node
    if "anyOf" in schema:
        members = [_parse(t, defs) for t in schema["anyOf"]]
        return _Type("anyof", description=schema.get("description", ""), items=members)
    if "enum" in schema:
        _check_enum(schema)
        return _Type("enum", description=schema.get("description", ""), values=list(schema["enum"]))
    if "type" in schema:
        typ = schema["type"]
        if isinstance(typ, list):
            return _Type("union", description=schema.get("description", ""), values=[_UNION_NAMES[t] for t in typ])
        if typ == "object":
            return _object(schema, defs)
        if typ == "array":
            node = _Type(
                "array",
                description=schema.get("description", ""),
                constraints={k: v for k, v in schema.items() if k in ("minItems", "maxItems")},
            )
            node.items = [_parse(schema["items"], defs) if schema.get("items") else _scalar("any")]
            return node
        return _scalar(typ, schema)
    if schema == {}:
        return _scalar("any")
    raise ValueError(f"Invalid JSON Schema object: {schema}")


def _function_ts(function: dict[str, Any]) -> str:
    defs = _Defs()
    params = _object(function.get("parameters") or {}, defs)
    interfaces = []
    if defs.self_ref:
        body = _FIELD_SEP.join(f.ts(_INDENT) for f in params.fields)
        interfaces.append("interface parameters {" + (f"\n{body}\n" if body else "") + "}")
    for name, schema in dict(defs.definitions).items():
        described = schema.get("description", "")
        intro = _comment(described) + "\n" if described else ""
        interfaces.append(f"{intro}interface {name} {_parse(schema, defs).ts()}")
    fn_name = function.get("name", "function")
    arg = "parameters" if defs.self_ref else params.ts()
    description = function.get("description")
    pieces = [
        "\n".join(interfaces),
        (description and _comment(description)) or "",
        f"type {fn_name} = (_: {arg}) => any;",
    ]
    return "\n".join(p for p in pieces if p)


def encode_tools_to_typescript_style(tools: list[dict[str, Any]]) -> str:
    """``[{"type": "function", "function": {...}}, ...]`` -> the ``# Tools`` block (other types skipped)."""
    functions = [_function_ts(t["function"]) for t in tools or [] if t.get("type") == "function" and t.get("function")]
    if not functions:
        return ""
    return "# Tools\n\n## functions\nnamespace functions {\n" + "\n".join(functions) + "\n}\n"
