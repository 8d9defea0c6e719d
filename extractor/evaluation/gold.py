"""Gold sets: a folder with ``docs/<id>.<ext>`` and ``labels/<id>.json``, loaded and checked.

Any folder with that layout is a gold set. ``check_gold`` lists every
problem file by file: a label that does not load into the schema, a label
without its document or a document without its label, two documents with
one id (``x.txt`` beside ``x.md``), and an evidence quote that does not
occur in its document (after whitespace and case normalisation).

A gold set says which record template its labels follow in ``record.toml``
(``record = "module:Model"``); without it the labels follow the NEN record.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from extractor.config import DEFAULT_RECORD
from extractor.errors import GoldSetError, InputError
from extractor.io.documents import Document, iter_paths, read_document
from extractor.record.grounding import evidence_quotes, is_grounded
from extractor.record.template import Template, load_template


@dataclass(frozen=True)
class GoldItem:
    """One hand-labelled document."""

    document: Document
    label: BaseModel


@dataclass(frozen=True)
class GoldSet:
    """A loaded gold set, by document id."""

    directory: Path
    items: dict[str, GoldItem]
    template: Template


Problems = dict[str, list[str]]


def _layout(directory: Path) -> tuple[Path, Path]:
    docs, labels = directory / "docs", directory / "labels"
    if not docs.is_dir() or not labels.is_dir():
        raise GoldSetError(f"{directory} is not a gold set: it needs docs/ and labels/ folders")
    return docs, labels


def gold_template(directory: Path, record: str | None = None) -> Template:
    """The template the labels at ``directory`` follow (``record``: the one the user named).

    A folder's ``record.toml`` says it; without one, the record the user named,
    else the NEN record. ``GoldSetError`` when the user names another template
    than the folder declares.
    """
    path = directory / "record.toml"
    if not path.is_file():
        return load_template(record or DEFAULT_RECORD)
    try:
        declared = str(tomllib.loads(path.read_text(encoding="utf-8"))["record"])
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError) as e:
        raise GoldSetError(f'{path}: wants one line record = "module:Model" ({e})') from e
    template = load_template(declared)
    if record is not None and load_template(record).model is not template.model:
        raise GoldSetError(
            f"{directory} labels follow {template.name}, not {record}; "
            "choose the matching --record or gold set"
        )
    return template


def _scan(directory: Path, record: str | None) -> tuple[dict[str, GoldItem], Problems, Template]:
    docs_dir, labels_dir = _layout(directory)
    template = gold_template(directory, record)
    problems: Problems = {}
    documents: dict[str, Document] = {}
    doc_paths = list(iter_paths([docs_dir]))
    first_path: dict[str, Path] = {}
    for path in doc_paths:
        if (first := first_path.setdefault(path.stem, path)) != path:
            problems.setdefault(str(path), []).append(
                f"two documents have the id {path.stem!r}: {first} and {path}; keep one"
            )
            continue
        try:
            documents[path.stem] = read_document(path)
        except InputError as e:
            problems.setdefault(str(path), []).append(str(e))
    labels: dict[str, BaseModel] = {}
    label_paths = sorted(labels_dir.glob("*.json"))
    for path in label_paths:
        try:
            labels[path.stem] = template.model.model_validate_json(path.read_text(encoding="utf-8"))
        except (ValidationError, OSError, UnicodeDecodeError) as e:
            problems.setdefault(str(path), []).extend(_validation_lines(e))
    doc_ids = {path.stem for path in doc_paths}
    for path in doc_paths:
        if not (labels_dir / f"{path.stem}.json").exists():
            problems.setdefault(str(path), []).append("document has no label")
    for path in label_paths:
        if path.stem not in doc_ids:
            problems.setdefault(str(path), []).append(f"label has no document docs/{path.stem}.*")
    items = {
        doc_id: GoldItem(documents[doc_id], labels[doc_id])
        for doc_id in sorted(labels.keys() & documents.keys())
    }
    for doc_id, item in items.items():
        for where, quote in evidence_quotes(item.label):
            if not is_grounded(quote, item.document.text):
                problems.setdefault(str(labels_dir / f"{doc_id}.json"), []).append(
                    f"{where}: quote not found in the document: {quote!r}"
                )
    return items, problems, template


def _validation_lines(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return [
            f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in error.errors()
        ]
    return [f"cannot read: {error}"]


def check_gold(directory: Path, record: str | None = None) -> Problems:
    """Every problem of the gold set at ``directory``, by file (empty when it is sound)."""
    return _scan(directory, record)[1]


def load_gold(directory: Path, record: str | None = None) -> GoldSet:
    """Load a sound gold set; raise ``GoldSetError`` listing the problems otherwise."""
    items, problems, template = _scan(directory, record)
    if problems:
        count = sum(len(p) for p in problems.values())
        first = next(iter(problems.items()))
        raise GoldSetError(
            f"{directory}: {count} problem(s) in {len(problems)} file(s), e.g. {first[0]}: "
            f"{first[1][0]}; run `extractor gold check --gold {directory}`"
        )
    if not items:
        raise GoldSetError(f"{directory}: no labelled documents")
    return GoldSet(directory=directory, items=items, template=template)
