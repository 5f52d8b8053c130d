"""A small OpenAPI 3.0 validator for HubSpot's published specs.

It owns four things, and nothing HubSpot-behavioural:

- loading a spec from ``specs/`` (verbatim copies of HubSpot's OpenAPI documents) and turning its
  OpenAPI 3.0 schema dialect into JSON Schema draft 4 (``nullable`` becomes a ``null`` type;
  ``$ref`` to ``#/components/schemas/...`` is resolved with :mod:`referencing`; the OpenAPI
  formats ``date-time``, ``uuid``, ``int32`` and ``int64`` are checked, any other format passes);
- finding the operation for a method and a *concrete* path (``/crm/v3/objects/emails/123``),
  literal path segments winning over templated ones;
- checking a response: the status code's declared response, else ``default``; a declared
  "no content" response (204) must have an empty body; otherwise the body must be JSON that
  validates against the media type's schema;
- checking a request body against the operation's ``requestBody`` schema.

Where HubSpot's real wire behaviour departs from its spec, callers do not edit the spec: they
derive a :meth:`Spec.patched` copy with explicit :class:`SchemaPatch` objects (see the
conformance test's EXCEPTIONS table), so every relaxation is named and reviewable.

Reuse from other tests::

    from tests.conformance._spec import load_spec, validate_request   # or conformance._spec
    validate_request(load_spec("emails"), "POST", "/crm/v3/objects/emails/batch/create", body)
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jsonschema
import referencing
import referencing.jsonschema

__all__ = [
    "ENGAGEMENT_SPEC_FILES",
    "SPECS_DIR",
    "SPEC_FILES",
    "DropRequired",
    "Operation",
    "ReplaceProperty",
    "RequestCheck",
    "ResponseCheck",
    "SchemaPatch",
    "Spec",
    "SpecError",
    "SpecViolation",
    "UndeclaredStatus",
    "UnknownOperation",
    "load_spec",
    "spec_for_object_type",
    "validate_request",
    "validate_response",
]

SPECS_DIR = Path(__file__).parent / "specs"

#: Spec files by short name. ``objects`` is the generic ``/crm/v3/objects/{objectType}`` API.
SPEC_FILES: Mapping[str, str] = {
    "objects": "objects.json",
    "emails": "emails.json",
    "postal_mail": "postalMail.json",
    "communications": "communications.json",
    "calls": "calls.json",
    "meetings": "meetings.json",
    "notes": "notes.json",
    "tasks": "tasks.json",
    "associations": "associations.json",
    # CRM properties v3 (``/crm/v3/properties/{objectType}``, groups included) and CRM owners v3
    # (``/crm/v3/owners``): ``PublicApiSpecs/CRM/Properties/Rollouts/145899/v3/properties.json``
    # and ``PublicApiSpecs/CRM/Crm Owners/Rollouts/146888/v3/crmOwners.json`` @ ``99893791``.
    "properties": "properties.json",
    "owners": "crmOwners.json",
    # Association schema v4 (labels, limits):
    # ``PublicApiSpecs/CRM/Associations Schema/Rollouts/130902/v4/associationsSchema.json`` @
    # ``99893791``. It spells its paths ``/crm/associations/v4/...``; HubSpot's SDKs and guides
    # use ``/crm/v4/associations/...`` (same operations and shapes).
    "associations_schema": "associationsSchema.json",
}
#: The seven engagement types, each with its own spec file.
ENGAGEMENT_SPEC_FILES: Mapping[str, str] = {
    name: SPEC_FILES[name]
    for name in ("emails", "postal_mail", "communications", "calls", "meetings", "notes", "tasks")
}

_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_JSON_MEDIA = re.compile(r"^application/(?:[\w.+-]+\+)?json$")


class SpecError(AssertionError):
    """Something does not match the spec (an AssertionError so pytest shows it as a failure)."""


class UnknownOperation(SpecError):
    """The spec has no operation for this method and path."""


class UndeclaredStatus(SpecError):
    """The operation declares neither this status code nor a ``default`` response."""


class SpecViolation(SpecError):
    """A body does not match what the spec declares; ``errors`` lists every problem found."""

    def __init__(self, where: str, errors: list[str]) -> None:
        self.where = where
        self.errors = errors
        super().__init__(f"{where}:\n  " + "\n  ".join(errors))


# ---------------------------------------------------------------------------------------------
# Schema patches: named, reviewable departures from the published spec.


class SchemaPatch:
    """A change applied to a copy of a spec's ``components.schemas`` (never to the file)."""

    def apply(self, schemas: dict[str, Any]) -> None:
        """Mutate ``schemas`` (a deep copy) in place."""
        raise NotImplementedError


@dataclass(frozen=True)
class DropRequired(SchemaPatch):
    """Make properties of a component schema optional (the spec over-declares ``required``)."""

    schema: str
    fields: tuple[str, ...]

    def apply(self, schemas: dict[str, Any]) -> None:
        target = schemas[self.schema]
        missing = [f for f in self.fields if f not in target.get("required", ())]
        if missing:  # a patch that no longer applies is itself a finding
            raise KeyError(f"{self.schema}.required does not list {missing}")
        target["required"] = [f for f in target["required"] if f not in self.fields]
        if not target["required"]:
            del target["required"]


@dataclass(frozen=True)
class ReplaceProperty(SchemaPatch):
    """Replace the schema of one property of a component schema (the spec mistypes it)."""

    schema: str
    property: str
    replacement: Mapping[str, Any] = field(hash=False)

    def apply(self, schemas: dict[str, Any]) -> None:
        props = schemas[self.schema]["properties"]
        if self.property not in props:
            raise KeyError(f"{self.schema} has no property {self.property!r}")
        props[self.property] = copy.deepcopy(dict(self.replacement))


# ---------------------------------------------------------------------------------------------
# OpenAPI 3.0 -> JSON Schema draft 4


def _openapi_to_draft4(node: Any) -> Any:
    """Rewrite OpenAPI-only keywords in place: ``nullable: true`` admits ``null``."""
    if isinstance(node, list):
        for item in node:
            _openapi_to_draft4(item)
    elif isinstance(node, dict):
        for value in node.values():
            _openapi_to_draft4(value)
        if node.get("nullable") is True:
            del node["nullable"]
            if "$ref" in node:  # siblings of $ref are ignored in draft 4: wrap instead
                ref = node.pop("$ref")
                node["anyOf"] = [{"$ref": ref}, {"type": "null"}]
            elif "type" in node:
                types = node["type"] if isinstance(node["type"], list) else [node["type"]]
                node["type"] = [*types, "null"]
            if "enum" in node and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
    return node


def _format_checker() -> jsonschema.FormatChecker:
    """OpenAPI formats, checked leniently: known ones must parse, unknown ones always pass."""
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if "T" not in value.upper():
            raise ValueError("no 'T' between date and time")
        dt.datetime.fromisoformat(value.replace("z", "Z"))  # 3.11 accepts 'Z' and offsets
        return True

    @checker.checks("uuid", raises=ValueError)
    def _uuid(value: object) -> bool:
        if isinstance(value, str):
            uuid.UUID(value)
        return True

    @checker.checks("int32")
    def _int32(value: object) -> bool:
        return not isinstance(value, int) or -(2**31) <= value < 2**31

    @checker.checks("int64")
    def _int64(value: object) -> bool:
        return not isinstance(value, int) or -(2**63) <= value < 2**63

    return checker


_FORMAT_CHECKER = _format_checker()


def _escape_pointer(*segments: str) -> str:
    return "".join("/" + s.replace("~", "~0").replace("/", "~1") for s in segments)


# ---------------------------------------------------------------------------------------------
# Spec, operations, checks


@dataclass(frozen=True)
class Operation:
    """One operation of a spec, e.g. ``POST /crm/v3/objects/{objectType}/batch/create``."""

    method: str
    template: str
    definition: Mapping[str, Any] = field(repr=False, hash=False, compare=False)

    @property
    def operation_id(self) -> str:
        return str(self.definition.get("operationId", ""))

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


@dataclass(frozen=True)
class ResponseCheck:
    """What a validated response was checked against."""

    operation: Operation
    status: int
    #: The response key used: the status code as a string, or ``"default"``.
    declared: str
    #: The component schema name (``"Error"``), ``""`` for an inline schema, None for no content.
    schema: str | None


@dataclass(frozen=True)
class RequestCheck:
    """What a validated request body was checked against."""

    operation: Operation
    schema: str | None


class Spec:
    """A loaded OpenAPI 3.0 document, ready to validate bodies."""

    def __init__(
        self, name: str, document: Mapping[str, Any], patches: tuple[SchemaPatch, ...] = ()
    ) -> None:
        self.name = name
        self.patches = patches
        doc = _openapi_to_draft4(copy.deepcopy(dict(document)))
        for patch in patches:
            patch.apply(doc["components"]["schemas"])
        self.document: Mapping[str, Any] = doc
        self._uri = f"urn:hubengage:openapi:{name}"
        resource = referencing.Resource(contents=doc, specification=referencing.jsonschema.DRAFT4)
        self._registry: referencing.Registry[Any] = referencing.Registry().with_resource(
            self._uri, resource
        )
        self._operations = sorted(self._collect_operations(doc), key=_specificity, reverse=True)
        self._validators: dict[str, jsonschema.protocols.Validator] = {}

    def __repr__(self) -> str:
        extra = f", {len(self.patches)} patches" if self.patches else ""
        return f"<Spec {self.name}{extra}>"

    # -- loading -------------------------------------------------------------------------------

    @staticmethod
    def _collect_operations(doc: Mapping[str, Any]) -> Iterator[tuple[re.Pattern[str], Operation]]:
        for template, item in doc.get("paths", {}).items():
            parts = re.split(r"(\{[^}/]+\})", template)
            regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
            for method, definition in item.items():
                if method in _HTTP_METHODS:
                    yield re.compile(f"^{regex}$"), Operation(method.upper(), template, definition)

    def patched(self, *patches: SchemaPatch) -> Spec:
        """A copy of this spec with ``patches`` applied to its component schemas."""
        return _patched(self, patches)

    # -- lookup --------------------------------------------------------------------------------

    def operation(self, method: str, path: str) -> Operation:
        """The operation for ``method`` on a concrete ``path`` (query string ignored)."""
        bare = urlsplit(path).path
        for regex, op in self._operations:
            if op.method == method.upper() and regex.match(bare):
                return op
        raise UnknownOperation(f"{self.name}: no operation for {method.upper()} {bare}")

    def _deref(self, node: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
        """Follow an OpenAPI-level ``$ref`` (responses, request bodies); returns (node, name)."""
        name = None
        while "$ref" in node:
            ref = str(node["$ref"])
            if not ref.startswith("#/"):
                raise SpecError(f"{self.name}: external $ref {ref!r} is not supported")
            name = ref.rsplit("/", 1)[-1]
            target: Any = self.document
            for seg in ref[2:].split("/"):
                target = target[seg.replace("~1", "/").replace("~0", "~")]
            node = target
        return node, name

    def _validator(self, pointer: str) -> jsonschema.protocols.Validator:
        if pointer not in self._validators:
            schema = {"$ref": f"{self._uri}#{quote(pointer, safe='/~')}"}
            self._validators[pointer] = jsonschema.Draft4Validator(
                schema, registry=self._registry, format_checker=_FORMAT_CHECKER
            )
        return self._validators[pointer]

    def validate_schema(self, pointer: str, instance: Any, where: str) -> None:
        """Validate ``instance`` against the schema at JSON ``pointer`` inside this spec."""
        errors = sorted(
            self._validator(pointer).iter_errors(instance),
            key=lambda e: [str(p) for p in e.absolute_path],
        )
        if errors:
            raise SpecViolation(where, [_describe(e) for e in errors])

    def component_pointer(self, schema: str) -> str:
        """The JSON pointer of ``#/components/schemas/<schema>`` (which must exist)."""
        if schema not in self.document["components"]["schemas"]:
            raise SpecError(f"{self.name}: no component schema {schema!r}")
        return _escape_pointer("components", "schemas", schema)

    # -- checks --------------------------------------------------------------------------------

    def validate_response(
        self,
        method: str,
        path: str,
        status: int,
        body: bytes | str | None,
        content_type: str | None = None,
    ) -> ResponseCheck:
        """Check a raw response against the spec; raise :class:`SpecError` if it does not match.

        ``content_type`` is the response's ``Content-Type`` header (parameters are ignored);
        when None, a JSON body is assumed.
        """
        op = self.operation(method, path)
        responses = op.definition.get("responses", {})
        declared = str(status) if str(status) in responses else "default"
        if declared not in responses:
            raise UndeclaredStatus(f"{self.name}: {op} declares no {status} and no default")
        response, _ = self._deref(responses[declared])
        where = f"{self.name}: {method.upper()} {path} -> {status} (spec {op} {declared!r})"
        raw = body.encode() if isinstance(body, str) else (body or b"")
        content: Mapping[str, Any] = response.get("content") or {}
        if not content:
            if raw.strip():
                raise SpecViolation(where, [f"spec declares no content, got {raw[:80]!r}"])
            return ResponseCheck(op, status, declared, None)
        media = _match_media(content, content_type or "application/json")
        if media is None:
            raise SpecViolation(where, [f"content type {content_type!r} not in {sorted(content)}"])
        try:
            instance = json.loads(raw)
        except ValueError:
            raise SpecViolation(where, [f"body is not JSON: {raw[:80]!r}"]) from None
        schema_node = content[media].get("schema")
        if schema_node is None:
            return ResponseCheck(op, status, declared, "")
        pointer, name = self._schema_pointer(op, responses, declared, media, schema_node)
        self.validate_schema(pointer, instance, where)
        return ResponseCheck(op, status, declared, name)

    def validate_request(self, method: str, path: str, body: Any) -> RequestCheck:
        """Check a request body (already decoded JSON) against the operation's request schema."""
        op = self.operation(method, path)
        where = f"{self.name}: request {method.upper()} {path} (spec {op})"
        if "requestBody" not in op.definition:
            if body is not None:
                raise SpecViolation(where, ["spec declares no request body"])
            return RequestCheck(op, None)
        request_body, _ = self._deref(op.definition["requestBody"])
        if body is None:
            if request_body.get("required"):
                raise SpecViolation(where, ["spec requires a request body, got none"])
            return RequestCheck(op, None)
        content = request_body.get("content") or {}
        media = _match_media(content, "application/json")
        if media is None:
            raise SpecViolation(where, [f"no JSON request body in {sorted(content)}"])
        schema_node = content[media]["schema"]
        if "$ref" in schema_node:
            name = str(schema_node["$ref"]).rsplit("/", 1)[-1]
            pointer = self.component_pointer(name)
        else:
            name = ""
            pointer = _escape_pointer(
                "paths", op.template, op.method.lower(), "requestBody", "content", media, "schema"
            )
        self.validate_schema(pointer, body, where)
        return RequestCheck(op, name)

    def _schema_pointer(
        self,
        op: Operation,
        responses: Mapping[str, Any],
        declared: str,
        media: str,
        schema_node: Mapping[str, Any],
    ) -> tuple[str, str]:
        """Where the response schema sits in the document, and its component name if any."""
        ref = str(schema_node.get("$ref", ""))
        if ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            return self.component_pointer(name), name
        shared = responses[declared].get("$ref")  # e.g. "#/components/responses/Error"
        base = (
            str(shared)[1:]
            if shared
            else _escape_pointer("paths", op.template, op.method.lower(), "responses", declared)
        )
        return base + _escape_pointer("content", media, "schema"), ""


def _specificity(entry: tuple[re.Pattern[str], Operation]) -> tuple[int, int]:
    """More literal segments first, so ``.../batch/read`` beats ``.../{objectId}``."""
    segments = entry[1].template.strip("/").split("/")
    return sum(not s.startswith("{") for s in segments), len(segments)


def _match_media(content: Mapping[str, Any], content_type: str) -> str | None:
    actual = content_type.split(";", 1)[0].strip().lower()
    candidates = [actual, actual.split("/", 1)[0] + "/*", "*/*"]
    for candidate in candidates:
        if candidate in content:
            return candidate
    if _JSON_MEDIA.match(actual):  # e.g. "application/json" declared, "...+json" received
        for key in content:
            if _JSON_MEDIA.match(key):
                return key
    return None


def _describe(error: jsonschema.ValidationError) -> str:
    location = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    return f"${location}: {message}"


@functools.cache
def _patched(spec: Spec, patches: tuple[SchemaPatch, ...]) -> Spec:
    raw = json.loads((SPECS_DIR / SPEC_FILES[spec.name]).read_text(encoding="utf-8"))
    return Spec(spec.name, raw, spec.patches + patches)


@functools.cache
def load_spec(name: str) -> Spec:
    """A spec by short name (a key of :data:`SPEC_FILES`), loaded once per process."""
    try:
        filename = SPEC_FILES[name]
    except KeyError:
        raise SpecError(f"unknown spec {name!r}; known: {sorted(SPEC_FILES)}") from None
    document = json.loads((SPECS_DIR / filename).read_text(encoding="utf-8"))
    return Spec(name, document)


def spec_for_object_type(object_type: str) -> Spec:
    """The engagement's own spec for the seven engagement types, else the generic objects spec."""
    return load_spec(object_type if object_type in ENGAGEMENT_SPEC_FILES else "objects")


def validate_request(spec: Spec, method: str, path: str, body: Any) -> RequestCheck:
    """Check a JSON request body against ``spec``; raise :class:`SpecViolation` if it fails."""
    return spec.validate_request(method, path, body)


def validate_response(
    spec: Spec,
    method: str,
    path: str,
    status: int,
    body: bytes | str | None,
    content_type: str | None = None,
) -> ResponseCheck:
    """Check a raw response body against ``spec``; see :meth:`Spec.validate_response`."""
    return spec.validate_response(method, path, status, body, content_type)
