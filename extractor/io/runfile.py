"""The run file: an append-only JSONL of output lines that survives crashes.

Each line is written whole with one ``write`` and flushed, so a run killed at
any moment leaves at most a torn last line; ``RunFile.open`` cuts such a tail
off before appending, and reading skips it. Re-running over the same file
resumes: documents already present with the same text hash are skipped.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractor.errors import InputError


def iter_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the lines of a run file as dicts, skipping blank lines.

    An unparsable last line (a run killed mid-write) is skipped silently; an
    unparsable line anywhere else, or one that is not an object with a
    ``doc_id``, raises ``InputError`` naming ``path:line``.
    """
    torn: tuple[int, str] | None = None
    try:
        with path.open("rb") as file:
            for number, raw in enumerate(file, start=1):
                if not raw.strip():
                    continue
                if torn is not None:
                    raise InputError(f"{path}:{torn[0]}: not a JSON line: {torn[1]}")
                try:
                    line = json.loads(raw)
                except ValueError as e:  # bad JSON or bad UTF-8 (a write cut mid-character)
                    torn = (number, str(e))
                    continue
                yield _checked(line, path, number)
    except OSError as e:
        raise InputError(f"{path}: cannot read the run: {e.strerror or e}") from e


def _checked(line: Any, path: Path, number: int) -> dict[str, Any]:
    if not isinstance(line, dict) or not isinstance(line.get("doc_id"), str):
        raise InputError(f"{path}:{number}: not a run line (no object with a doc_id)")
    return line


@dataclass(frozen=True)
class Done:
    """What the run file already holds for one document."""

    sha256: str | None
    ok: bool


class RunFile:
    """An output file opened for appending whole lines, resuming what it holds."""

    def __init__(self, path: Path, *, overwrite: bool = False, retry_failed: bool = False) -> None:
        self.path = path
        self.overwrite = overwrite
        self.retry_failed = retry_failed
        self.done: dict[str, Done] = {}
        self._fd: int | None = None

    def open(self) -> RunFile:
        """Prepare the file (fresh, or repaired and read for resumption) and open it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.overwrite or not self.path.exists():
            self.path.write_bytes(b"")
        else:
            cut_torn_tail(self.path)
            if self.retry_failed:
                drop_failed_lines(self.path)
            for line in iter_lines(self.path):
                self.done[line["doc_id"]] = Done(
                    line.get("doc_sha256"), line.get("record") is not None
                )
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        return self

    def write(self, json_line: str) -> None:
        """Append one line (a complete JSON text, no newline) and flush it to the OS."""
        assert self._fd is not None, "RunFile.open() first"
        data = (json_line + "\n").encode("utf-8")
        while data:
            written = os.write(self._fd, data)
            data = data[written:]

    def close(self) -> None:
        """Close the file (lines are already on disk)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunFile:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def cut_torn_tail(path: Path) -> bool:
    """Truncate a last line that has no newline (a write cut by a crash); True if cut."""
    with path.open("rb+") as file:
        size = file.seek(0, os.SEEK_END)
        if size == 0:
            return False
        file.seek(max(0, size - 1))
        if file.read(1) == b"\n":
            return False
        keep, chunk = 0, 65536
        position = size
        while position > 0:
            start = max(0, position - chunk)
            file.seek(start)
            block = file.read(position - start)
            newline = block.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            position = start
        file.truncate(keep)
        return True


def drop_failed_lines(path: Path) -> int:
    """Rewrite ``path`` without its error lines (atomically); return how many were dropped."""
    dropped = 0
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for line in iter_lines(path):
                if line.get("record") is None:
                    dropped += 1
                    continue
                out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return dropped
