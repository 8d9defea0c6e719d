"""The adjudication form's fields, read from the template's JSON Schema so they never drift.

Each model of the record (for the NEN record ``CaseReport``, ``Patient``, …) is a
list of fields in schema order, each with a ``kind`` the page knows how to
edit: ``text``, ``integer``, ``number``, ``boolean``, ``enum`` (one of
``options``), ``enums`` (a set of ``options``), ``items`` (a list of
``model``), ``object`` (one ``model``), ``evidence`` (a map of quotes, one
per field of its model, or of ``keys`` for a plain map) or ``quote`` (one
verbatim quote), the last two where the template marks ``Quotes``.
``nullable`` says whether the field may be null; an ``items`` field lists the
``keys`` that tell its items apart. ``$record`` names the record's ``root``
model, its ``entities`` list and the ``entity`` model.
"""

from __future__ import annotations

from typing import Any, get_origin

from pydantic import BaseModel

from extractor.record.markers import quote_fields
from extractor.record.template import Template, model_of, models_in

Field = dict[str, Any]


def form_spec(template: Template) -> dict[str, Any]:
    """Every model of the record, by name, as its list of form fields; ``root`` its own."""
    schema = template.schema
    root = template.model.__name__
    models = {root: schema, **schema.get("$defs", {})}
    quotes = _quote_fields(template.model)
    spec: dict[str, Any] = {
        name: [
            _field(key, prop, quotes.get(name, {}).get(key))
            for key, prop in model.get("properties", {}).items()
        ]
        for name, model in models.items()
    }
    entity = template.entity
    spec["$record"] = {
        "root": root,
        "entities": template.entities,
        "entity": None if entity is None else entity.model.__name__,
    }
    for level in (template.document, *([] if entity is None else [entity])):
        for item in level.lists:
            if item.item is not None:
                for field in spec[level.model.__name__]:
                    if field["name"] == item.name:
                        field["keys"] = list(item.keys)
    return spec


def _quote_fields(model: type[BaseModel]) -> dict[str, dict[str, Field]]:
    """For each model, how each of its ``Quotes`` fields is edited.

    A model map of quotes is ``evidence`` over its model's fields, a plain
    map ``evidence`` over its siblings' names, a single quote ``quote``.
    """
    found: dict[str, dict[str, Field]] = {}
    for current in models_in(model):
        mine: dict[str, Field] = {}
        for name in quote_fields(current):
            annotation = current.model_fields[name].annotation
            inner = model_of(annotation)
            if inner is not None:
                mine[name] = {"kind": "evidence", "model": inner.__name__}
            elif get_origin(annotation) is dict:
                siblings = [n for n in current.model_fields if n != name]
                mine[name] = {"kind": "evidence", "model": None, "keys": siblings}
            else:
                mine[name] = {"kind": "quote"}
        found[current.__name__] = mine
    return found


def _field(name: str, prop: dict[str, Any], quotes: Field | None = None) -> Field:
    """One property of a model's JSON Schema as a form field (``quotes``: a Quotes field's kind)."""
    variants: list[dict[str, Any]] = prop.get("anyOf", [prop])
    main: dict[str, Any] = next((v for v in variants if v.get("type") != "null"), {})
    field: Field = {
        "name": name,
        "nullable": any(v.get("type") == "null" for v in variants),
        "help": prop.get("description") or main.get("description"),
    }
    if quotes is not None:
        field.update(quotes)
    elif "$ref" in main:
        field.update(kind="object", model=_ref(main["$ref"]))
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
        field.update(kind=kind)
    for key in ("maxLength", "minimum", "maximum"):
        if key in main:
            field[key] = main[key]
    return field


def _ref(ref: str) -> str:
    """The model name of a ``#/$defs/Name`` reference."""
    return ref.rsplit("/", 1)[-1]
