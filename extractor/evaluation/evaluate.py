"""Scoring an extraction run against a gold set, and the JSON and Markdown reports.

A run's lines are matched to gold documents by ``doc_id``. A gold document
absent from the run, or whose line holds an error, counts as all-missed and
is listed; run lines for documents outside the gold set are ignored and listed.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from extractor.errors import InputError
from extractor.evaluation.gold import GoldSet
from extractor.evaluation.scoring import EvalScore, score_run
from extractor.io.runfile import latest_lines
from extractor.model.secrets import mask, redact_url
from extractor.record.grounding import require_grounding
from extractor.record.template import Template, default_template


@dataclass(frozen=True)
class RunRecords:
    """What a run JSONL holds, by document id: records, failures and provenance."""

    records: dict[str, BaseModel]
    failed: dict[str, str]
    provenance: list[dict[str, Any]] = field(default_factory=list)


def read_run(path: Path, template: Template | None = None) -> RunRecords:
    """Read an ``extractor extract`` output file (the later line of a document wins).

    Records are read as ``template``'s (by default the NEN record). Error
    messages are masked (``extractor.model.secrets``), since results are committed.
    """
    template = template or default_template()
    model = template.model
    records: dict[str, BaseModel] = {}
    failed: dict[str, str] = {}
    provenance: list[dict[str, Any]] = []
    for line in latest_lines(path):  # a torn last line (a killed run) is skipped
        made_as = line.provenance.record
        if made_as and made_as != template.name:
            raise InputError(
                f"{path}: its records are {made_as}, not {template.name}; "
                "give the run of this record, or the matching --record or gold set"
            )
        if line.record is not None:
            try:
                records[line.doc_id] = model.model_validate(line.record)
            except ValidationError as e:
                raise InputError(
                    f"{path}: the line of {line.doc_id!r} is not a valid record: {e}"
                ) from e
        else:
            failed[line.doc_id] = mask((line.error or {}).get("message", "no record"))
        provenance.append(asdict(line.provenance))
    return RunRecords(records=records, failed=failed, provenance=provenance)


@dataclass(frozen=True)
class EvalResult:
    """A scored run: the scores, which gold documents had no record, and run facts."""

    score: EvalScore
    grounded: EvalScore
    missing: list[str]
    failed: dict[str, str]
    extra: list[str]
    meta: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The whole result, JSON-ready."""
        return {
            "meta": self.meta,
            "missing": self.missing,
            "failed": self.failed,
            "extra": self.extra,
            **self.score.to_dict(),
            "require_grounding": {
                **self.grounded.micro.to_dict(),
                "invented_rate": self.grounded.invented_rate,
            },
        }


def evaluate(gold: GoldSet, run: RunRecords, meta: dict[str, Any] | None = None) -> EvalResult:
    """Score ``run`` against ``gold``, document by document."""
    pairs = [
        (doc_id, run.records.get(doc_id), item.label, item.document.text)
        for doc_id, item in gold.items.items()
    ]
    grounded = [
        (doc_id, None if record is None else require_grounding(record, text), label, text)
        for doc_id, record, label, text in pairs
    ]
    seen = run.records.keys() | run.failed.keys()
    return EvalResult(
        score=score_run(pairs, gold.template),
        grounded=score_run(grounded, gold.template),
        missing=sorted(gold.items.keys() - seen),
        failed={k: v for k, v in sorted(run.failed.items()) if k in gold.items},
        extra=sorted(seen - gold.items.keys()),
        meta={"gold": str(gold.directory), **_run_facts(run), **(meta or {})},
    )


def _run_facts(run: RunRecords) -> dict[str, Any]:
    first = next((p for p in run.provenance if p), {})
    seconds = [float(p.get("seconds", 0.0)) for p in run.provenance if p]
    usage = [p.get("usage") or {} for p in run.provenance]
    n = max(1, len(run.provenance))
    return {
        "model": first.get("model"),
        "endpoint": redact_url(str(first["endpoint"])) if first.get("endpoint") else None,
        "prompt": first.get("prompt"),
        "prompt_sha256": first.get("prompt_sha256"),
        "strategy": first.get("strategy", "whole"),
        "seconds_per_document": statistics.fmean(seconds) if seconds else None,
        "tokens_per_document": sum(
            u.get("prompt_tokens", 0) + u.get("completion_tokens", 0) for u in usage
        )
        / n,
        "cache_hits": sum(bool(p.get("cache_hit")) for p in run.provenance),
    }


def default_result_path(
    results_dir: Path, meta: dict[str, Any], now: datetime | None = None
) -> Path:
    """``eval/results/<time>_<prompt>_<model>.json``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    parts = [stamp, str(meta.get("prompt") or "prompt"), str(meta.get("strategy") or "whole"),
             str(meta.get("model") or "model")]  # fmt: skip
    return results_dir / ("_".join(re.sub(r"[^A-Za-z0-9.-]+", "-", p) for p in parts) + ".json")


def write_result(result: EvalResult, path: Path) -> Path:
    """Write the JSON result and a Markdown report beside it; return the report's path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    report = path.with_suffix(".md")
    report.write_text(render_markdown(result), encoding="utf-8")
    return report


def format_rate(value: float | None) -> str:
    """A rate with three decimals, or ``n/a`` when undefined."""
    return "n/a" if value is None else f"{value:.3f}"


def render_markdown(result: EvalResult) -> str:
    """A one-page Markdown report: run facts, overall scores, the per-field table, documents."""
    score, meta = result.score, result.meta
    lines = [
        "# Evaluation report",
        "",
        f"- gold set: `{meta.get('gold')}`; model: `{meta.get('model')}`; "
        f"prompt: `{meta.get('prompt')}` (`{str(meta.get('prompt_sha256'))[:12]}`)",
        f"- micro-F1 **{score.micro.f1:.3f}** (P {score.micro.precision:.3f}, "
        f"R {score.micro.recall:.3f}); invented-value rate {format_rate(score.invented_rate)}; "
        f"grounding rate {format_rate(score.grounding_rate)}; with --require-grounding "
        f"micro-F1 {result.grounded.micro.f1:.3f}",
        f"- documents {len(score.documents)}; missing {len(result.missing)}; "
        f"failed {len(result.failed)}; seconds per document "
        f"{format_rate(meta.get('seconds_per_document'))}",
        "",
        "| field | TP | FP | FN | abstain | invented | P | R | F1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in score.fields:
        c = score.fields[name]
        lines.append(
            f"| {name} | {c.tp} | {c.fp} | {c.fn} | {c.abstain} | {c.invented} "
            f"| {c.precision:.2f} | {c.recall:.2f} | {c.f1:.2f} |"
        )
    lines += ["", "| document | P | R | F1 | note |", "| --- | ---: | ---: | ---: | --- |"]
    for doc in score.documents:
        note = "missing" if doc.doc_id in result.missing else result.failed.get(doc.doc_id, "")
        m = doc.micro
        lines.append(
            f"| {doc.doc_id} | {m.precision:.2f} | {m.recall:.2f} | {m.f1:.2f} "
            f"| {note.replace('|', '/')[:120]} |"
        )
    return "\n".join(lines) + "\n"
