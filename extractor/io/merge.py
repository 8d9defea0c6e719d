"""Splitting a run into shards, and merging the shards' outputs back into one run.

A shard is "I/N" (1-based). Each document belongs to exactly one shard, chosen
by the sha256 of a key the caller picks (a document id or relative path), so
every machine and every Python process agrees on the split.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractor.errors import ConfigError
from extractor.io.runfile import iter_lines

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse_shard(text: str) -> tuple[int, int]:
    """Parse "I/N" (e.g. "2/4") into ``(I, N)`` with 1 <= I <= N, else ``ConfigError``."""
    match = _SHARD.fullmatch(text)
    if match is None:
        raise ConfigError(f"bad shard {text!r}: expected I/N, e.g. 2/4 for the second of four")
    index, count = int(match[1]), int(match[2])
    if not 1 <= index <= count:
        raise ConfigError(f"bad shard {text!r}: I must be between 1 and N (got {index}/{count})")
    return index, count


def in_shard(key: str, index: int, count: int) -> bool:
    """True when ``key`` belongs to shard ``index`` (1-based) of ``count``.

    The choice is sha256 of the key modulo ``count``: stable across machines
    and runs (unlike ``hash()``), and close to even for many keys.
    """
    if not 1 <= index <= count:
        raise ConfigError(f"bad shard {index}/{count}: expected 1 <= I <= N")
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest, "big") % count == index - 1


@dataclass(frozen=True)
class MergeSummary:
    """What a merge read and wrote."""

    inputs: int
    lines_read: int
    documents: int
    duplicates_removed: int


def merge_runs(inputs: list[Path], output: Path) -> MergeSummary:
    """Combine run files into ``output``, one line per ``doc_id``.

    When a document occurs more than once, a line with a record beats an
    error line, and among equals the later one wins (later file, later line).
    A torn last line of an input is skipped. ``output`` is replaced atomically,
    so it may also be one of the inputs.
    """
    kept: dict[str, dict[str, Any]] = {}
    lines_read = 0
    for path in inputs:
        for line in iter_lines(path):
            lines_read += 1
            previous = kept.get(line["doc_id"])
            if previous is None or _has_record(line) or not _has_record(previous):
                kept[line["doc_id"]] = line
    _write_atomically(output, (_to_json(line) for line in kept.values()))
    return MergeSummary(
        inputs=len(inputs),
        lines_read=lines_read,
        documents=len(kept),
        duplicates_removed=lines_read - len(kept),
    )


def _has_record(line: dict[str, Any]) -> bool:
    return line.get("record") is not None


def _to_json(line: dict[str, Any]) -> str:
    """The line as compact JSON, as ``ResultLine.to_json`` writes it."""
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def _write_atomically(output: Path, texts: Iterable[str]) -> None:
    """Write one line per text to a temporary file beside ``output``, then rename it over."""
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            for text in texts:
                file.write(text + "\n")
            file.flush()
            os.fsync(file.fileno())
        temporary.chmod(0o644)  # mkstemp makes it private; a run file is ordinary data
        os.replace(temporary, output)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
