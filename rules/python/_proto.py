"""Spec types as proto3 declarations, and proto names that cannot clash.

Every spec type round-trips exactly. Scalars map to proto scalars (``int`` -> ``int64``, ``float``
-> ``double``). A list or dict of scalars is a ``repeated`` or ``map<string, T>`` field. What proto
cannot nest directly — a list, dict or optional inside a list or dict, a list or dict that may be
null or has a default — goes through a wrapper message named after its type, read right to left:
``Int64List`` (a list of int64, field ``items``), ``BytesListMap`` (a map of lists of bytes),
``Int64Value`` (an int64 that may be null, field ``value``). Wrappers rather than
``google.protobuf.Value`` because Value holds neither bytes nor 64-bit integers.

Presence follows the spec: a scalar parameter is an ``optional`` field, so a missing required
argument is an error rather than a silent zero, and a missing argument with a default gets its
default. A parameter that may be null but defaults to something else needs three states (unset,
null, a value): it is a ``<T>Value`` wrapper field, unset meaning the default and an empty wrapper
meaning null.
"""

from __future__ import annotations

from dataclasses import dataclass

from apipack_build.rules import Parameter, TypeRef

from ._names import unique_names

_SCALARS = {"string": "string", "int": "int64", "float": "double", "bool": "bool", "bytes": "bytes"}
_STEMS = {"string": "String", "int": "Int64", "float": "Double", "bool": "Bool", "bytes": "Bytes"}
_SUFFIXES = {"list": "List", "dict": "Map", "optional": "Value"}

#: the version segment of the proto package, ``<module>.v1`` (buf's PACKAGE_VERSION_SUFFIX)
VERSION = "v1"
#: what the server does when a request leaves a field with presence unset
REQUIRED, NULL, DEFAULT = "required", "null", "default"


@dataclass(frozen=True)
class Declaration:
    """A field's type as written before its name: ``optional int64``, ``map<string, Int64List>``."""

    text: str
    #: wrapper messages the type uses: name -> the one field declaration inside it
    wrappers: dict[str, str]


def field_type(ref: TypeRef, presence: bool) -> Declaration:
    """The declaration of a field holding *ref*; with *presence*, an unset field is told apart."""
    wrappers: dict[str, str] = {}
    if ref.kind in _SCALARS:
        text = f"optional {_SCALARS[ref.kind]}" if presence else _SCALARS[ref.kind]
    elif ref.kind == "optional" and ref.item.kind in _SCALARS:
        text = f"optional {_SCALARS[ref.item.kind]}"
    elif ref.kind == "optional":
        text = _element(ref.item, wrappers)  # a message: unset means null
    elif presence:
        text = _element(ref, wrappers)
    else:
        text = _container(ref, wrappers)
    return Declaration(text, wrappers)


def parameter_type(param: Parameter) -> tuple[Declaration, str]:
    """The declaration of *param*'s request field, and what an unset field means."""
    ref = param.type_ref
    if ref.kind == "optional":
        if param.has_default and param.default is not None:
            wrappers: dict[str, str] = {}
            return Declaration(_element(ref, wrappers), wrappers), DEFAULT
        return field_type(ref, presence=True), NULL
    if param.has_default:
        return field_type(ref, presence=True), DEFAULT
    # a required list or dict is a plain repeated or map field: empty is a value, not a gap
    return field_type(ref, presence=ref.kind in _SCALARS), REQUIRED


def _container(ref: TypeRef, wrappers: dict[str, str]) -> str:
    item = _element(ref.item, wrappers)
    return f"repeated {item}" if ref.kind == "list" else f"map<string, {item}>"


def _element(ref: TypeRef, wrappers: dict[str, str]) -> str:
    """A scalar, or the wrapper message holding *ref* (declared in *wrappers*)."""
    if ref.kind in _SCALARS:
        return _SCALARS[ref.kind]
    name = wrapper_name(ref)
    if ref.kind == "optional":
        inner = ref.item
        prefix = "optional " if inner.kind in _SCALARS else ""
        wrappers[name] = f"{prefix}{_element(inner, wrappers)} value = 1;"
    else:
        wrappers[name] = f"{_container(ref, wrappers)} items = 1;"
    return name


def wrapper_name(ref: TypeRef) -> str:
    if ref.kind in _STEMS:
        return _STEMS[ref.kind]
    return wrapper_name(ref.item) + _SUFFIXES[ref.kind]


def json_name(name: str) -> str:
    """protoc's default JSON name of a field: ``a_b`` -> ``aB``; protoc rejects two equal ones."""
    parts = name.split("_")
    return parts[0] + "".join(part[:1].upper() + part[1:] for part in parts[1:])


def field_names(names: list[str]) -> list[str]:
    """*names* as proto field names: as they are, unless two share a JSON name (``a_1``, ``a1``);
    then the later one gets ``_2``, ``_3``…"""
    result: list[str] = []
    taken_json: set[str] = set()
    for name in names:
        candidate, counter = name, 2
        while candidate in result or json_name(candidate) in taken_json:
            candidate, counter = f"{name}_{counter}", counter + 1
        result.append(candidate)
        taken_json.add(json_name(candidate))
    return result


def rpc_names(functions: list[str]) -> list[str]:
    """CamelCase rpc names, unique even for ``a_b`` and ``a__b``."""
    return unique_names(
        "".join(part.capitalize() for part in f.split("_") if part) for f in functions
    )
