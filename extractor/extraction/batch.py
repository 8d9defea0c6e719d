"""Provider batch runs: a request file out, its answers back into a run file.

``prepare_batch`` runs each document's strategy against a ``BatchClient``
with no answers: the first request the strategy makes is written to the
request file (the same body the online client sends) instead of being sent.
``collect_batch`` runs the strategies again with the answers, so each answer
is validated with the same schema and each line is made by the same
``DocumentExtractor`` as online, then written through the ``RunFile``:
resume, ``eval``, ``review`` and ``export`` read it unchanged, and collecting
twice adds nothing. A failed request becomes a ``provider`` error line and
an answer that does not validate a ``validation`` one (not re-asked), both
re-attempted online by ``extract --retry-failed``.

A request's ``custom_id`` is ``<doc_id>#<call>:<question>``: the document,
the call's place in its strategy and the answer model (for ``grounded``, the
field asked). ``whole`` makes one request per document, so one round does.
``sections`` and ``grounded`` ask their questions one after the other, each
depending on the answers before it, so they take one round per question:
``collect`` writes the next round's request file (``<name>.r2.jsonl``, then
``.r3``...) for the documents that still have a question, with a manifest
that carries their earlier answers. Every request file has a manifest
beside it (``<name>.manifest.json``): the inputs, the model settings (no
key) and each document's text hash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from extractor.config import ModelConfig, RunSettings
from extractor.errors import ConfigError, InputError, InternalError, ProviderError
from extractor.extraction.bulk import count_planned, planned_documents
from extractor.extraction.cache import ResponseCache
from extractor.extraction.document import DocumentExtractor
from extractor.hashing import canonical_json, sha256_text
from extractor.io.documents import Document, Unreadable
from extractor.io.runfile import ResultLine, RunFile, write_atomically
from extractor.model.base import Completion, M, Messages
from extractor.model.batches import Answer, answer_completion, read_results, request_line
from extractor.model.secrets import redact_url
from extractor.model.tools import request_body

FORMAT = 1
_CONFIG_FIELDS = {"model", "base_url", "temperature", "max_completion_tokens", "max_reasks",
                  "context_tokens"}  # fmt: skip
_SETTINGS_FIELDS = {"record", "prompt", "strategy", "require_grounding", "use_metadata"}
_ROUND = re.compile(r"^(?P<name>.*)\.r(?P<round>\d+)$")


class Pending(Exception):  # a signal, not an error: the request goes in a file
    """The strategy made a request that has no answer yet."""

    def __init__(self, custom_id: str, body: dict[str, Any]) -> None:
        super().__init__(custom_id)
        self.custom_id = custom_id
        self.body = body


def custom_id(doc_id: str, call: int, response_model: type[BaseModel]) -> str:
    """The id of a document's ``call``-th request: document, call number and question."""
    question = response_model.__name__
    if question == "Choice" and response_model.__doc__:  # grounded: the field asked
        question = response_model.__doc__
    return f"{doc_id}#{call}:{question}"


class BatchClient:
    """A ``ModelClient`` that answers from batch results, or raises ``Pending``.

    ``answers`` maps a custom id to the hash of the request it answers and the
    answer; ``asked`` holds the hash of each request of the current round, so
    that a request sent but not answered is a failure, not a new question.
    """

    def __init__(
        self,
        config: ModelConfig,
        answers: Mapping[str, tuple[str, Answer]] | None = None,
        asked: Mapping[str, str] | None = None,
    ) -> None:
        if config.model is None or config.base_url is None:
            raise ConfigError("a batch needs a model and a base URL")
        self.model = config.model
        self.endpoint = redact_url(config.base_url)
        self.config = config
        self.answers = answers or {}
        self.asked = asked or {}
        self.used: dict[str, tuple[str, Answer]] = {}
        self._doc, self._calls = "", 0

    def begin(self, doc_id: str) -> None:
        """Start a document: its requests are numbered from 0."""
        self._doc, self._calls, self.used = doc_id, 0, {}

    async def complete(self, messages: Messages, response_model: type[M]) -> Completion[M]:
        body = request_body(
            self.model, messages, response_model,
            temperature=self.config.temperature, max_tokens=self.config.max_completion_tokens,
        )  # fmt: skip
        key = custom_id(self._doc, self._calls, response_model)
        self._calls += 1
        digest = sha256_text(canonical_json(body))
        known = self.answers.get(key)
        if known is None:
            if key in self.asked:
                raise ProviderError(f"the batch results have no answer for request {key}")
            raise Pending(key, body)
        if known[0] != digest:
            raise ProviderError(
                f"request {key} is not the one prepared (prompt or settings changed?); "
                "prepare the batch again, or re-run the document online"
            )
        self.used[key] = known
        return answer_completion(known[1], response_model, self.config.max_completion_tokens)


@dataclass
class Manifest:
    """What a request file belongs to: inputs, settings, and each document's hash and answers."""

    inputs: list[str]
    config: dict[str, Any]
    settings: dict[str, Any]
    round: int = 1
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def new(cls, inputs: list[Path], config: ModelConfig, settings: RunSettings) -> Manifest:
        """The manifest of a first round."""
        kept = config.model_dump(mode="json", include=_CONFIG_FIELDS)
        kept["base_url"] = redact_url(config.base_url) if config.base_url else None
        return cls(
            inputs=[str(path.resolve()) for path in inputs],
            config=kept,
            settings=settings.model_dump(mode="json", include=_SETTINGS_FIELDS),
        )

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """The manifest at ``path``; ``InputError`` when missing or not one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.pop("format", None) != FORMAT:
                raise ValueError("unknown format")
            return cls(**data)
        except (OSError, ValueError, TypeError) as e:
            raise InputError(
                f"{path}: not a batch manifest ({e}); it is written by batch prepare beside "
                "the request file"
            ) from e

    def write(self, path: Path) -> None:
        """Write the manifest atomically."""
        data = {"format": FORMAT, **self.__dict__}
        write_atomically(path, [json.dumps(data, ensure_ascii=False, indent=1)])

    def model_config(self) -> ModelConfig:
        """The model settings of the batch (without a key)."""
        return ModelConfig(**{k: v for k, v in self.config.items() if v is not None})

    def run_settings(self, cache_dir: Path | None) -> RunSettings:
        """The run settings of the batch, with this command's cache."""
        return RunSettings(**self.settings, cache_dir=cache_dir)


def manifest_path(requests: Path) -> Path:
    """Where the manifest of ``requests`` is: ``<stem>.manifest.json`` beside it."""
    return requests.with_name(f"{requests.stem}.manifest.json")


def next_round_path(requests: Path, round_: int) -> Path:
    """The request file of the round after ``round_``: ``<name>.r<N+1>.jsonl``."""
    match = _ROUND.match(requests.stem)
    name = match.group("name") if match else requests.stem
    return requests.with_name(f"{name}.r{round_ + 1}{requests.suffix or '.jsonl'}")


@dataclass
class BatchSummary:
    """What ``prepare_batch`` or ``collect_batch`` did."""

    documents: int = 0
    requests: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    unknown_answers: int = 0
    next_requests: Path | None = None


def _write_requests(path: Path, lines: list[dict[str, Any]], manifest: Manifest) -> None:
    write_atomically(path, [json.dumps(line, ensure_ascii=False) for line in lines])
    manifest.write(manifest_path(path))


async def _first_pending(
    extractor: DocumentExtractor, client: BatchClient, document: Document
) -> ResultLine | Pending:
    """The document's line, or the first request it still needs."""
    client.begin(document.id)
    try:
        return await extractor.extract(document)
    except Pending as pending:
        return pending
    except ProviderError:
        raise
    except Exception as e:  # noqa: BLE001 - a bug must cost one document, never vanish
        return extractor.failed(document, InternalError.of(e))


async def prepare_batch(
    inputs: list[Path], requests: Path, config: ModelConfig, settings: RunSettings
) -> BatchSummary:
    """Write the first round's request file (and its manifest) for every input document.

    A document that needs no request (a cache hit, or a ``grounded`` record
    made by rules alone) gets its line at ``collect``.
    """
    summary = BatchSummary(documents=count_planned(inputs, None, requests))
    if summary.documents == 0:
        raise ConfigError("no supported documents found in the inputs")
    manifest = Manifest.new(inputs, config, settings)
    client = BatchClient(config)
    lines: list[dict[str, Any]] = []
    cache = ResponseCache(settings.cache_dir)
    try:
        extractor = DocumentExtractor.for_run(client, config, settings, cache)
        for item in planned_documents(inputs, None, requests):
            manifest.documents[item.id] = {"sha256": getattr(item, "sha256", None)}
            if isinstance(item, Document):
                outcome = await _first_pending(extractor, client, item)
                if isinstance(outcome, Pending):
                    lines.append(request_line(outcome.custom_id, outcome.body))
    finally:
        cache.close()
    _write_requests(requests, lines, manifest)
    summary.requests = len(lines)
    return summary


def _answers(
    requests: Path, results: Path, manifest: Manifest, summary: BatchSummary
) -> tuple[dict[str, str], dict[str, tuple[str, Answer]]]:
    """This round's request hashes, and every answer: earlier rounds' and this one's."""
    asked: dict[str, str] = {}
    for number, raw in enumerate(requests.read_text(encoding="utf-8").splitlines(), start=1):
        if raw.strip():
            try:
                line = json.loads(raw)
                asked[str(line["custom_id"])] = sha256_text(canonical_json(line["body"]))
            except (ValueError, KeyError, TypeError) as e:
                raise InputError(f"{requests}:{number}: not a batch request line ({e})") from e
    answers: dict[str, tuple[str, Answer]] = {}
    for entry in manifest.documents.values():
        for key, kept in entry.get("answers", {}).items():
            answers[key] = (kept["sha256"], Answer(**kept["answer"]))
    for key, answer in read_results(results):
        if key in asked:
            answers[key] = (asked[key], answer)
        else:
            summary.unknown_answers += 1
    return asked, answers


async def collect_batch(
    requests: Path,
    results: Path,
    output: Path,
    *,
    cache_dir: Path | None = None,
    next_requests: Path | None = None,
) -> BatchSummary:
    """Validate a round's answers into ``output``; write the next round for unfinished documents."""
    manifest = Manifest.read(manifest_path(requests))
    summary = BatchSummary(documents=len(manifest.documents))
    asked, answers = _answers(requests, results, manifest, summary)
    config, settings = manifest.model_config(), manifest.run_settings(cache_dir)
    client = BatchClient(config, answers, asked)
    following = Manifest(manifest.inputs, manifest.config, manifest.settings, manifest.round + 1)
    lines: list[dict[str, Any]] = []
    cache = ResponseCache(cache_dir)
    try:
        with RunFile(output) as out:
            extractor = DocumentExtractor.for_run(client, config, settings, cache)
            for item in planned_documents([Path(p) for p in manifest.inputs], None, output):
                entry = manifest.documents.get(item.id)
                done = out.done.get(item.id)
                if entry is None or (done is not None and done.sha256 == entry["sha256"]):
                    summary.skipped += entry is not None
                    continue
                line = await _collect_one(extractor, client, item, entry)
                if isinstance(line, Pending):
                    lines.append(request_line(line.custom_id, line.body))
                    following.documents[item.id] = {"sha256": entry["sha256"], "answers": {
                        k: {"sha256": s, "answer": a.to_dict()} for k, (s, a) in client.used.items()
                    }}  # fmt: skip
                    continue
                out.write(line.to_json())
                summary.ok += line.ok
                summary.failed += not line.ok
    finally:
        cache.close()
    if lines:
        summary.next_requests = next_requests or next_round_path(requests, manifest.round)
        _write_requests(summary.next_requests, lines, following)
        summary.requests = len(lines)
    return summary


async def _collect_one(
    extractor: DocumentExtractor,
    client: BatchClient,
    item: Document | Unreadable,
    entry: dict[str, Any],
) -> ResultLine | Pending:
    if isinstance(item, Unreadable):
        return extractor.unreadable(item.id, item.source, item.error)
    if item.sha256 != entry["sha256"]:
        changed = InputError(f"{item.source} changed since batch prepare; prepare it again")
        return extractor.failed(item, changed)
    return await _first_pending(extractor, client, item)
