"""The adjudication form's fields, read from the record's JSON Schema so they never drift.

Each model of the record (``CaseReport``, ``Patient``, ``Imaging``, …) is a
list of fields in schema order, each with a ``kind`` the page knows how to
edit: ``text``, ``integer``, ``number``, ``boolean``, ``enum`` (one of
``options``), ``enums`` (a set of ``options``), ``items`` (a list of
``model``), ``object`` (one ``model``), ``evidence`` (a map of quotes, one
per field of its model) or ``quote`` (one verbatim quote). ``nullable`` says
whether the field may be null.
"""

from __future__ import annotations

from typing import Any

from extractor.record.schema import schema_json

Field = dict[str, Any]


def form_spec() -> dict[str, list[Field]]:
    """Every model of the record, by name, as its list of form fields."""
    schema = schema_json()
    models = {"CaseReport": schema, **schema.get("$defs", {})}
    return {
        name: [_field(key, prop) for key, prop in model.get("properties", {}).items()]
        for name, model in models.items()
    }


def _field(name: str, prop: dict[str, Any]) -> Field:
    """One property of a model's JSON Schema as a form field."""
    variants: list[dict[str, Any]] = prop.get("anyOf", [prop])
    main: dict[str, Any] = next((v for v in variants if v.get("type") != "null"), {})
    field: Field = {
        "name": name,
        "nullable": any(v.get("type") == "null" for v in variants),
        "help": prop.get("description") or main.get("description"),
    }
    if "$ref" in main:
        model = _ref(main["$ref"])
        field.update(kind="evidence" if model.endswith("Evidence") else "object", model=model)
    elif main.get("type") == "array":
        items = main.get("items", {})
        if "$ref" in items:
            field.update(kind="items", model=_ref(items["$ref"]))
        else:
            field.update(kind="enums", options=list(items.get("enum", [])))
    elif "enum" in main:
        field.update(kind="enum", options=list(main["enum"]))
    else:
        kind = {"integer": "integer", "number": "number", "boolean": "boolean"}.get(
            main.get("type", ""), "text"
        )
        field.update(kind="quote" if name == "evidence" and kind == "text" else kind)
    for key in ("maxLength", "minimum", "maximum"):
        if key in main:
            field[key] = main[key]
    return field


def _ref(ref: str) -> str:
    """The model name of a ``#/$defs/Name`` reference."""
    return ref.rsplit("/", 1)[-1]
