"""``GoldReplayClient``: answers every question of every strategy from a gold label.

Run through the real pipeline on a gold set, it shows what a strategy can
reach with a perfect model: whatever it then gets wrong is the framework's
own limit (a value the strategy never asks for, a candidate it never finds),
not the model's. It recognises the document from the text in the question
(the whole document, or the sentences quoted), then answers:

- a whole record (``CaseReport``) with the label;
- a part of the record (the ``sections`` questions) with the label's fields;
- a closed question of the ``grounded`` strategy (its ``__doc__`` names the
  field, its ``answer`` lists the options) with the option equal to the
  label's value, or ``none``.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from extractor.model.base import Completion, Messages, Usage
from extractor.record.matching import comparator_of
from extractor.record.template import Template
from extractor.templates.nen import CaseReport

M = TypeVar("M", bound=BaseModel)
_NUMBERED = re.compile(r"^\[\d+\] (.+)$", re.MULTILINE)
_PATH = re.compile(r"([a-z_]+)\[(\d+)\]|([a-z_]+)")


class GoldReplayClient:
    """A ``ModelClient`` whose every answer is read from the gold label of the document asked."""

    model = "gold-replay"
    endpoint = "replay:gold"

    def __init__(self, documents: Mapping[str, tuple[str, CaseReport]]) -> None:
        self.documents = documents  # doc_id -> (text, label)
        self.questions = 0

    async def complete(self, messages: Messages, response_model: type[M]) -> Completion[M]:
        """The gold answer to one question, as a validated ``response_model``."""
        self.questions += 1
        label = self._label(messages[-1]["content"]).model_dump(mode="json")
        fields = response_model.model_fields
        if "answer" in fields:
            data: dict[str, Any] = {"answer": _option(response_model, label)}
        elif "patients" in fields and "title" not in fields:
            data = {"patients": _patients(response_model, label)}
        else:
            data = {name: label[name] for name in fields if name in label}
        return Completion(response_model.model_validate(data), Usage(), attempts=1)

    def _label(self, content: str) -> CaseReport:
        quoted = _NUMBERED.findall(content)
        flat = " ".join(content.split())
        probe = " ".join(quoted[0].split())[:200] if quoted else ""
        for text, label in self.documents.values():
            document = " ".join(text.split())
            if (probe and probe in document) or (not probe and document in flat):
                return label
        raise LookupError(f"no gold document contains the question's text: {probe[:60]!r}")


def _value(label: dict[str, Any], path: str) -> Any:
    """The label's value at a path such as ``patients[0].outcome.status``."""
    value: Any = label
    for match in _PATH.finditer(path):
        name, index, plain = match.groups()
        if name is not None:
            items = value.get(name) or []
            value = items[int(index)] if int(index) < len(items) else {}
        else:
            value = value.get(plain) if isinstance(value, dict) else None
    return value


def _option(model: type[BaseModel], label: dict[str, Any]) -> str:
    """The option of a closed question that equals the label's value, else ``none``."""
    path = model.__doc__ or ""
    wanted = _value(label, path)
    options = typing.get_args(model.model_fields["answer"].annotation)
    field = re.sub(r"^patients\[\d+\]\.", "", path)  # "outcome.status", "title", "sex"...
    template = Template.of(CaseReport)
    level = template.document if field in template.document.compare else template.entity
    same = comparator_of(None if level is None else level.compare.get(field))
    for option in options:
        if wanted is not None and option != "none" and _same(same, wanted, option):
            return str(option)
    return "none"


def _same(same: Any, wanted: Any, option: str) -> bool:
    """Whether ``option`` (always text) says the label's ``wanted`` value."""
    try:
        return bool(same(wanted, type(wanted)(option)))
    except (TypeError, ValueError):
        return False


def _patients(model: type[BaseModel], label: dict[str, Any]) -> list[dict[str, Any]]:
    """The label's patients cut to the fields and the count a part question asks for."""
    field = model.model_fields["patients"]
    item = typing.get_args(field.annotation)[0]
    count = next((m.min_length for m in field.metadata if hasattr(m, "min_length")), None)
    gold = label["patients"]
    blank = {name: _blank(info.annotation) for name, info in item.model_fields.items()}
    patients = [{name: p.get(name, blank[name]) for name in item.model_fields} for p in gold]
    count = len(patients) if count is None else count
    return (patients + [dict(blank) for _ in range(count)])[:count]


def _blank(annotation: Any) -> Any:
    """An empty value of a field's type: [] for a list, a blank object, else None."""
    if typing.get_origin(annotation) is list:
        return []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {name: _blank(info.annotation) for name, info in annotation.model_fields.items()}
    return None
