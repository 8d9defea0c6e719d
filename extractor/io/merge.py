"""Splitting a run into shards, and merging the shards' outputs back into one run.

A shard is "I/N" (1-based). Each document belongs to exactly one shard, chosen
by the sha256 of a key the caller picks (a document id or relative path), so
every machine and every Python process agrees on the split.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from extractor.errors import ConfigError
from extractor.io.runfile import ResultLine, iter_lines, latest_lines, write_atomically

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

    Within a file the later line of a document wins, as everywhere
    (``latest_lines``). Across files a line with a record beats an error
    line, and among equals the later file wins. ``output`` is replaced
    atomically, so it may also be one of the inputs.
    """
    kept: dict[str, ResultLine] = {}
    lines_read = 0
    for path in inputs:
        lines_read += sum(1 for _ in iter_lines(path))
        for line in latest_lines(path):
            previous = kept.get(line.doc_id)
            if previous is None or line.ok or not previous.ok:
                kept[line.doc_id] = line
    write_atomically(output, (line.to_json() for line in kept.values()))
    return MergeSummary(
        inputs=len(inputs),
        lines_read=lines_read,
        documents=len(kept),
        duplicates_removed=lines_read - len(kept),
    )
