"""A gold folder written label by label: validated, atomic, never overwritten blindly, audited.

The adjudication app saves a reviewer's label through :meth:`GoldFolder.save`,
which keeps the folder a gold set that ``extractor gold check`` accepts at
every moment:

1. Under an exclusive lock (``DIR/.adjudicate.lock``, for threads and
   processes alike) the label's current version, the sha256 of its file or
   ``"absent"``, must be the one the edit started from; otherwise
   ``LabelConflict``: another tab or reviewer saved in between.
2. The label is validated against the schema, and every evidence quote must
   occur in the document's text (as ``check_gold`` requires); otherwise
   ``LabelInvalid`` lists the problems and nothing is written.
3. The text is copied to ``DIR/docs/<id>.txt`` unless the folder already has
   a document of that id (whose text is then the one quotes are checked on).
4. The label is written to a temporary file beside ``DIR/labels/<id>.json``,
   flushed to disk and renamed over it (``os.replace``).
5. One line is appended to ``DIR/audit.jsonl``: when (UTC), which document,
   from which run, the versions before and after, and the field-level
   changes against the previous label, or against the run's record for a
   first label.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from extractor.errors import InputError, LabelConflict, LabelInvalid
from extractor.io.documents import SUPPORTED_SUFFIXES, read_document
from extractor.record.grounding import evidence_quotes, is_grounded
from extractor.record.template import Template, default_template

ABSENT = "absent"
MAX_LABEL_BYTES = 1_000_000
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_INDEX = re.compile(r"\[(\d+)\]")


def is_safe_id(doc_id: str) -> bool:
    """Whether ``doc_id`` can name files: letters, digits, ``.``, ``_``, ``-``, no leading dot."""
    return _SAFE_ID.fullmatch(doc_id) is not None


def label_json(label: BaseModel) -> str:
    """A label as gold files are written: indented JSON, unescaped Unicode, a final newline."""
    return json.dumps(label.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Saved:
    """What a save wrote: the new version, the label file, the changes, the document copy."""

    version: str
    path: Path
    changes: list[dict[str, Any]]
    document: Path | None


class GoldFolder:
    """A gold folder (``docs/``, ``labels/``, ``audit.jsonl``), created when missing."""

    def __init__(self, directory: Path, template: Template | None = None) -> None:
        self.directory = directory
        self.template = template or default_template()
        self.docs, self.labels = directory / "docs", directory / "labels"
        try:
            self.docs.mkdir(parents=True, exist_ok=True)
            self.labels.mkdir(parents=True, exist_ok=True)
            declared = directory / "record.toml"
            if self.template is not default_template() and not declared.exists():
                declared.write_text(f'record = "{self.template.name}"\n', encoding="utf-8")
        except OSError as e:
            raise InputError(f"{directory}: cannot create the gold folder: {e}") from e
        self.audit = directory / "audit.jsonl"

    def label_path(self, doc_id: str) -> Path:
        """``labels/<doc_id>.json`` (``doc_id`` must be safe: see :func:`is_safe_id`)."""
        if not is_safe_id(doc_id):
            raise InputError(f"not a document id that can name a file: {doc_id!r}")
        return self.labels / f"{doc_id}.json"

    def version(self, doc_id: str) -> str:
        """The sha256 of the label file's bytes, or ``"absent"``."""
        try:
            return hashlib.sha256(self.label_path(doc_id).read_bytes()).hexdigest()
        except FileNotFoundError:
            return ABSENT

    def label(self, doc_id: str) -> dict[str, Any] | None:
        """The saved label as JSON, or ``None`` when there is none (or it does not parse)."""
        try:
            data = json.loads(self.label_path(doc_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def document(self, doc_id: str) -> Path | None:
        """The folder's document of this id (``docs/<id>.<ext>``), if any."""
        for suffix in sorted(SUPPORTED_SUFFIXES):
            path = self.docs / f"{doc_id}{suffix}"
            if path.is_file():
                return path
        return None

    def document_text(self, doc_id: str) -> str | None:
        """The text of the folder's document of this id, if there is one that reads."""
        path = self.document(doc_id)
        try:
            return None if path is None else read_document(path).text
        except InputError:
            return None

    def save(
        self, doc_id: str, body: bytes | str, text: str | None, *, if_match: str, run: str,
        base: dict[str, Any] | None = None,
    ) -> Saved:  # fmt: skip
        """Validate ``body`` (a record of the folder's template, as JSON): ``doc_id``'s label.

        ``text`` is the document as the reviewer saw it (used when the folder
        has none); ``if_match`` the version the edit started from; ``run``
        and ``base`` (the run's record) go into the audit trail.
        """
        path = self.label_path(doc_id)
        with self._locked():
            current = self.version(doc_id)
            if if_match.strip().strip('"') != current:
                raise LabelConflict(
                    f"{doc_id}: the label changed since this edit began "
                    f"(now {current[:12]}); reload it, then save again",
                    current=current,
                )
            own = self.document(doc_id)
            text = self.document_text(doc_id) if own is not None else text
            label = validate_label(body, text, self.template.model)
            previous = self.label(doc_id) if current != ABSENT else None
            content = label_json(label).encode("utf-8")
            written = None
            if own is None and text is not None:
                written = self.docs / f"{doc_id}.txt"
                _write_atomically(written, text.encode("utf-8"))
            try:
                _write_atomically(path, content)
            except BaseException:
                if written is not None:
                    written.unlink(missing_ok=True)
                raise
            version = hashlib.sha256(content).hexdigest()
            changes = diff(
                _canonical(previous if previous is not None else base, self.template.model),
                _canonical(label, self.template.model),
            )
            self._audit(doc_id, run=run, before=current, after=version, changes=changes,
                        against="run" if previous is None else "label")  # fmt: skip
        return Saved(version, path, changes, written)

    def _audit(
        self, doc_id: str, *, run: str, before: str, after: str,
        changes: list[dict[str, Any]], against: str,
    ) -> None:  # fmt: skip
        line = {
            "at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "doc_id": doc_id, "run": run, "previous": before, "version": after,
            "changes_against": against, "changes": changes,
        }  # fmt: skip
        with self.audit.open("a", encoding="utf-8") as file:
            file.write(json.dumps(line, ensure_ascii=False) + "\n")
            file.flush()
            os.fsync(file.fileno())

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive lock on the folder's lock file, blocking until it is free."""
        fd = os.open(self.directory / ".adjudicate.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock


def validate_label(
    body: bytes | str, text: str | None, model: type[BaseModel] | None = None
) -> BaseModel:
    """The label in ``body``; ``LabelInvalid`` if it is invalid or a quote is not in ``text``."""
    if len(body) > MAX_LABEL_BYTES:
        raise LabelInvalid("label too large", errors=[_problem((), "over 1 MB of JSON")])
    try:
        label = (model or default_template().model).model_validate_json(body)
    except ValidationError as e:
        errors = [_problem(error["loc"], error["msg"]) for error in e.errors()]
        raise LabelInvalid(f"the label does not fit the schema: {errors[0]['message']}",
                           errors=errors) from e  # fmt: skip
    if text is None:
        problem = _problem((), "the document's text was not found, so no label can be saved")
        raise LabelInvalid(problem["message"], errors=[problem])
    errors = [
        _problem(tuple(_loc(where)), f"quote not found in the document: {quote!r}")
        for where, quote in evidence_quotes(label)
        if not is_grounded(quote, text)
    ]
    if errors:
        raise LabelInvalid(errors[0]["message"], errors=errors)
    return label


def _loc(where: str) -> list[str | int]:
    """``patients[0].evidence.age_years`` as ``["patients", 0, "evidence", "age_years"]``."""
    return [int(part) if part.isdigit() else part for part in _INDEX.sub(r".\1", where).split(".")]


def _problem(loc: tuple[str | int, ...], message: str) -> dict[str, str]:
    """One validation problem: ``loc`` (``patients.0.age_years``), ``path`` and ``message``."""
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return {"loc": ".".join(str(part) for part in loc), "path": path.lstrip(".") or "label",
            "message": message}  # fmt: skip


def _canonical(record: dict[str, Any] | BaseModel | None, model: type[BaseModel]) -> Any:
    """A record as the JSON a label file holds (``None`` stays ``None``; invalid as given)."""
    if record is None or isinstance(record, BaseModel):
        return None if record is None else record.model_dump(mode="json")
    try:
        return model.model_validate(record).model_dump(mode="json")
    except ValidationError:
        return record


def diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """The field-level changes from ``old`` to ``new``: ``{"path", "old", "new"}`` each.

    Objects are compared key by key and lists of objects item by item
    (``patients[0].imaging[1].tracer``); other values, lists of strings
    included, are compared whole.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            change
            for key in dict.fromkeys([*old, *new])
            for change in diff(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        ]
    items = isinstance(old, list) and isinstance(new, list)
    if items and any(isinstance(item, dict) for item in [*old, *new]):
        return [
            change
            for i, (a, b) in enumerate(zip_longest(old, new))
            for change in diff(a, b, f"{path}[{i}]")
        ]
    return [] if old == new else [{"path": path or "label", "old": old, "new": new}]


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, and rename it over."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        Path(name).chmod(0o644)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
