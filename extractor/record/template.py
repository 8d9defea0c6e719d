"""A record template: a Pydantic model, and what its markers tell the framework.

``Template.of(model)`` reads a model once and derives everything the generic
code needs, so that scoring, grounding, strategies, export and review never
name a field of their own:

- the document level: its scalar fields and lists;
- the entity list (``Entities``, e.g. the patients), whose items are paired
  one to one when scored, and the entity level;
- at each level: the scalar fields, the nested single models (flattened as
  ``outcome.status``), the lists (of values, or of models with their key and
  per-key fields, ``Items``), the field that holds quotes (``Quotes``), and
  each field's comparator (``Compare``).

A template is checked when it is read: an unknown comparator, a list key
naming no field, a paired list that is not a list of models and a quote
field of the wrong type are a ``TemplateError`` naming the field.
``load_template("module:Model")`` or ``load_template("path/to/file.py:Model")``
imports a template; ``default_template()`` is the NEN record.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
import typing
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from extractor.config import DEFAULT_RECORD
from extractor.errors import TemplateError
from extractor.hashing import canonical_json, sha256_text
from extractor.record.markers import (
    ComparatorName,
    Compare,
    Entities,
    Items,
    Quotes,
    quote_fields,
)
from extractor.record.vocabulary import EMPTY_VOCABULARY, Vocabulary, vocabulary


@dataclass(frozen=True)
class ListField:
    """A list field: of values (``item`` None, the value is its own key) or of models."""

    name: str
    item: type[BaseModel] | None
    keys: tuple[str, ...] = ()
    per_key: tuple[str, ...] = ()
    quote: str | None = None  # the item's own quote field
    compare: dict[str, Compare] = field(default_factory=dict)  # key and per-key fields


@dataclass(frozen=True)
class Level:
    """One level of a record (the document, or one entity) and how its fields are scored."""

    model: type[BaseModel]
    scalars: tuple[str, ...]
    lists: tuple[ListField, ...]
    nested: tuple[str, ...]  # dotted scalar paths of nested single models
    quotes: str | None  # the field holding this level's quote map
    compare: dict[str, Compare]  # by scalar or nested path

    @property
    def scored(self) -> tuple[str, ...]:
        """Every scored field name of this level, in report order."""
        per_key = tuple(f"{item.name}.{name}" for item in self.lists for name in item.per_key)
        return self.scalars + tuple(item.name for item in self.lists) + per_key + self.nested

    def list_field(self, name: str) -> ListField:
        """The list field called ``name``."""
        return next(item for item in self.lists if item.name == name)


@dataclass(frozen=True, eq=False)  # one per model (``Template.of``): compared by identity
class Template:
    """A record model and what the framework derives from its markers."""

    model: type[BaseModel]
    name: str
    document: Level
    entities: str | None  # the document field holding the paired entities
    entity: Level | None
    rules: Entities | None

    @classmethod
    def of(cls, model: type[BaseModel]) -> Template:
        """The template of ``model`` (read once, checked; ``TemplateError`` when unsound)."""
        return _template(model)

    @property
    def fields(self) -> tuple[str, ...]:
        """Every scored field, document level first."""
        return self.document.scored + (() if self.entity is None else self.entity.scored)

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the record."""
        return self.model.model_json_schema()

    @property
    def sha256(self) -> str:
        """A hash of the JSON Schema, recorded with every output line."""
        return sha256_text(canonical_json(self.schema))

    @property
    def vocabulary(self) -> Vocabulary:
        """The vocabulary the model declares (``vocabulary_file``), else an empty one."""
        path = getattr(self.model, "vocabulary_file", None)
        return EMPTY_VOCABULARY if path is None else vocabulary(Path(path))

    def entity_list(self, record: BaseModel) -> list[BaseModel]:
        """The entities of ``record`` (empty when the template has none)."""
        return [] if self.entities is None else list(getattr(record, self.entities))


@cache
def _template(model: type[BaseModel]) -> Template:
    entities = [
        name
        for name, info in model.model_fields.items()
        if any(isinstance(m, Entities) for m in info.metadata)
    ]
    if len(entities) > 1:
        raise TemplateError(f"{_where(model, entities[1])}: only one field can hold the entities")
    entity_name = entities[0] if entities else None
    entity: Level | None = None
    rules: Entities | None = None
    if entity_name is not None:
        info = model.model_fields[entity_name]
        item = item_model(info.annotation)
        if item is None:
            raise TemplateError(
                f"{_where(model, entity_name)}: marked Entities but is not a list of models"
            )
        entity = _level(item)
        rules = next(m for m in info.metadata if isinstance(m, Entities))
    module = sys.modules.get(model.__module__)
    where = getattr(module, "__extractor_file__", model.__module__)
    counted = None if rules is None else rules.counted_by
    if counted is not None and counted not in model.model_fields:
        raise TemplateError(f"{_where(model, entity_name or '')}: counted_by names {counted!r}, "
                            f"which {model.__name__} does not have")  # fmt: skip
    name = f"{where}:{model.__qualname__}"  # what ``load_template`` loads it by
    return Template(model, name, _level(model, skip=entity_name), entity_name, entity, rules)


def _level(model: type[BaseModel], skip: str | None = None) -> Level:
    scalars: list[str] = []
    lists: list[ListField] = []
    nested: list[str] = []
    compare: dict[str, Compare] = {}
    quotes: str | None = None
    for name, info in model.model_fields.items():
        if name == skip:
            continue
        where = _where(model, name)
        marker = _compare(info.metadata, where)
        if any(isinstance(m, Quotes) for m in info.metadata):
            if not _is_quote_type(info.annotation):
                raise TemplateError(
                    f"{where}: Quotes must be a str, a dict of str or a model of str"
                )
            quotes = name
            continue
        if get_origin(info.annotation) is list:
            lists.append(list_field(model, name))
        elif model_of(info.annotation) is not None:
            inner = _level(model_of(info.annotation))  # type: ignore[arg-type]
            if inner.lists or inner.nested:
                raise TemplateError(f"{where}: a nested model may hold only scalar fields")
            nested.extend(f"{name}.{path}" for path in inner.scalars)
            compare.update({f"{name}.{path}": m for path, m in inner.compare.items()})
        else:
            scalars.append(name)
            if marker is not None:
                compare[name] = marker
    return Level(model, tuple(scalars), tuple(lists), tuple(nested), quotes, compare)


def _list_field(name: str, item: type[BaseModel], metadata: list[Any], where: str) -> ListField:
    declared = next((m for m in metadata if isinstance(m, Items)), Items())
    quote = next(iter(quote_fields(item)), None)
    keys = declared.keys or tuple(n for n in item.model_fields if n != quote)
    for key in (*keys, *declared.per_key):
        if key not in item.model_fields:
            raise TemplateError(
                f"{where}: Items names {key!r}, which {item.__name__} does not have"
            )
    compare = {
        n: m
        for n in (*keys, *declared.per_key)
        if (m := _compare(item.model_fields[n].metadata, f"{item.__name__}.{n}")) is not None
    }
    return ListField(name, item, keys, declared.per_key, quote, compare)


def _compare(metadata: list[Any], where: str) -> Compare | None:
    marker = next((m for m in metadata if isinstance(m, Compare)), None)
    if marker is not None and marker.how not in typing.get_args(ComparatorName):
        raise TemplateError(f"{where}: unknown comparator {marker.how!r}")
    return marker


def _where(model: type[BaseModel], name: str) -> str:
    return f"{model.__name__}.{name}"


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation is (``Model`` or ``Model | None``; not a list of them), else None."""
    if get_origin(annotation) in (list, dict):
        return None
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def item_model(annotation: Any) -> type[BaseModel] | None:
    """The item model of ``list[Model]``, else None."""
    if get_origin(annotation) is not list:
        return None
    args = get_args(annotation)
    return model_of(args[0]) if args and get_origin(args[0]) is None else None


def _is_quote_type(annotation: Any) -> bool:
    if annotation is str or str in get_args(annotation):
        return True
    if get_origin(annotation) is dict:
        return True
    return model_of(annotation) is not None


def blank_record(model: type[BaseModel]) -> dict[str, Any]:
    """The emptiest valid record of ``model``: null, empty, false, zero or the first option."""
    blank: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if not info.is_required():
            continue
        annotation = info.annotation
        nested = model_of(annotation)
        if type(None) in get_args(annotation):
            blank[name] = None
        elif get_origin(annotation) is list:
            blank[name] = []
        elif get_origin(annotation) is Literal:
            blank[name] = get_args(annotation)[0]
        elif nested is not None:
            blank[name] = blank_record(nested)
        else:
            zeros: dict[Any, Any] = {bool: False, int: 0, float: 0.0}
            blank[name] = zeros.get(annotation, "")
    return blank


# --- loading -------------------------------------------------------------------------------


@cache
def models_in(model: type[BaseModel]) -> tuple[type[BaseModel], ...]:
    """``model`` and every model its fields hold (nested, in lists, quote maps), each once."""
    found: list[type[BaseModel]] = []
    todo = [model]
    while todo:
        current = todo.pop(0)
        if current in found:
            continue
        found.append(current)
        for info in current.model_fields.values():
            inner = item_model(info.annotation) or model_of(info.annotation)
            if inner is not None:
                todo.append(inner)
    return tuple(found)


@cache
def list_field(model: type[BaseModel], name: str) -> ListField:
    """The list field ``name`` of ``model`` (a list of values or of models), as scored."""
    info = model.model_fields[name]
    item = item_model(info.annotation)
    if item is None:
        return ListField(name, None)
    return _list_field(name, item, info.metadata, _where(model, name))


def load_template(ref: str) -> Template:
    """The template ``module:Model`` or ``path/to/file.py:Model`` names."""
    where, sep, attribute = ref.rpartition(":")
    if not sep or not where or not attribute:
        raise TemplateError(f"--record wants module:Model or path/to/file.py:Model, not {ref!r}")
    module = _module(where)
    model = getattr(module, attribute, None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TemplateError(f"{ref}: {attribute!r} is not a Pydantic model in {where}")
    return Template.of(model)


def default_template() -> Template:
    """The template of the NEN record, the project's first."""
    return load_template(DEFAULT_RECORD)


def _module(where: str) -> types.ModuleType:
    if where.endswith(".py") or "/" in where:
        path = Path(where).expanduser().resolve()
        if not path.is_file():
            raise TemplateError(f"no template file {where}")
        name = f"extractor_record_{path.stem}_{sha256_text(str(path))[:8]}"
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise TemplateError(f"cannot import {where}")
        module = importlib.util.module_from_spec(spec)
        module.__extractor_file__ = str(path)  # type: ignore[attr-defined]
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as e:  # noqa: BLE001 - a user's file may raise anything on import
            del sys.modules[name]
            raise TemplateError(f"{where} does not import: {type(e).__name__}: {e}") from None
        return module
    try:
        return importlib.import_module(where)
    except ImportError as e:
        raise TemplateError(f"cannot import template module {where}: {e}") from None
