"""The comparable shape of one public name (``Param``, ``Shape``, ``Diff``), shared by the ast reader of the
official packages (``official_ast``) and the inspect-based diff (``sigdiff``)."""

from __future__ import annotations

from dataclasses import dataclass, field

MISSING = "<required>"
NONLITERAL = "<default>"
KINDS = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD", "VAR_POSITIONAL", "KEYWORD_ONLY", "VAR_KEYWORD")
MODEL_BASES = {"BaseModel", "StrictBase", "NamedTuple", "TypedDict"}
MODEL_DECORATORS = {"dataclass", "chz", "dataclasses.dataclass", "chz.chz"}
PYDANTIC_HOOKS = {"field_validator", "field_serializer", "model_validator", "model_serializer", "validator"}
ENUM_BASES = {"Enum", "StrEnum", "IntEnum", "enum.Enum", "enum.StrEnum", "enum.IntEnum"}


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: str  # MISSING, NONLITERAL, or repr of a literal value

    def show(self) -> str:
        d = "" if self.default == MISSING else f"={self.default}"
        return f"{self.name}{d}[{self.kind}]"


@dataclass(frozen=True)
class Shape:
    """What one public name looks like. ``kind``: function, model, class, literal, enum, value."""

    kind: str
    params: tuple[Param, ...] = ()
    is_async: bool = False
    ordered: bool = True  # models: whether field order matters
    values: tuple[str, ...] = ()
    members: dict[str, Shape] = field(default_factory=dict)  # class methods/properties
    decorators: tuple[str, ...] = ()  # functions: their decorators (one may turn them into an object)


@dataclass(frozen=True)
class Diff:
    qualname: str
    message: str
    extension: bool = False  # ours accepts every official call and more (extra optional parameters/fields)
