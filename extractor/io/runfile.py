"""The run file: the run-file line, written and read in one place.

A run file is an append-only JSONL of ``ResultLine``s. Each line is written
whole with one ``write`` and flushed, so a run killed at any moment leaves at
most a torn last line; ``RunFile.open`` cuts such a tail off before
appending, and reading skips it. A document may have several lines (a resume
after its text changed, a ``--retry-failed`` pass): **the later line wins**,
everywhere. ``latest_lines`` is the one reader that applies that rule, and
eval, review, export, merge and resume all read through it.

A file is only ever modified once it is known to be a run file, and only by
the one run that holds its lock (a ``.<name>.lock`` file beside it).
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from extractor.errors import ConfigError, InputError
from extractor.model.base import Usage


@dataclass(frozen=True)
class Provenance:
    """How a record was made: model, prompt, schema, cache, attempts, cost, time.

    Every field has a default so that a line written by hand, or by an older
    version, still reads.
    """

    model: str = ""
    endpoint: str = ""
    prompt: str = ""
    prompt_sha256: str = ""
    schema_sha256: str = ""
    record: str = ""  # the template's name (``module:Model``); "" in lines from before templates
    strategy: str = "whole"
    chunks: int = 1
    cache_hit: bool = False
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = 0.0
    seconds: float = 0.0


@dataclass(frozen=True)
class ResultLine:
    """One line of a run file: a record or an error, never both."""

    doc_id: str
    source: str = ""
    doc_sha256: str | None = None
    record: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    provenance: Provenance = field(default_factory=Provenance)
    evidence_spans: list[dict[str, Any]] = field(default_factory=list)
    field_sources: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the line holds a record."""
        return self.record is not None

    def to_dict(self) -> dict[str, Any]:
        """The line as a JSON-ready dict (the record and lists shared, not copied).

        ``dataclasses.asdict`` would deep-copy the record, which costs more CPU
        than the rest of writing the line.
        """
        line = {item.name: getattr(self, item.name) for item in fields(self)}
        line["provenance"] = asdict(self.provenance)
        return line

    def to_json(self) -> str:
        """The line as compact JSON (no newline)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "line") -> ResultLine:
        """The typed line of a parsed JSON object; unknown keys are ignored.

        Raises ``InputError`` naming ``where`` when the object is not a run line.
        """
        try:
            return _LINE.validate_python(data)
        except ValidationError as e:
            problem = e.errors()[0]
            at = ".".join(str(part) for part in problem["loc"]) or "line"
            raise InputError(f"{where}: not a run line ({at}: {problem['msg']})") from e


_LINE = TypeAdapter(ResultLine)


# --- reading ------------------------------------------------------------------------------------


def iter_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Stream ``(line number, object)`` of a run file, skipping blank lines.

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
                except RecursionError:
                    raise InputError(f"{path}:{number}: JSON nested too deeply") from None
                except ValueError as e:  # bad JSON or bad UTF-8 (a write cut mid-character)
                    torn = (number, str(e))
                    continue
                if not isinstance(line, dict) or not isinstance(line.get("doc_id"), str):
                    raise InputError(f"{path}:{number}: not a run line (no object with a doc_id)")
                yield number, line
    except OSError as e:
        raise InputError(f"{path}: cannot read the run: {e.strerror or e}") from e


def run_record(path: Path) -> str | None:
    """The record template the run at ``path`` was made with (its first line's), if it says."""
    for _, line in iter_lines(path):
        provenance = line.get("provenance")
        record = provenance.get("record") if isinstance(provenance, dict) else None
        return record if isinstance(record, str) and record else None
    return None


def latest_lines(path: Path) -> Iterator[ResultLine]:
    """The run's lines that win: the last line of each ``doc_id``, in file order.

    Two passes over the file, so memory holds only the line number of each id.
    """
    last = {line["doc_id"]: number for number, line in iter_lines(path)}
    for number, line in iter_lines(path):
        if last.get(line["doc_id"]) == number:
            yield ResultLine.from_dict(line, f"{path}:{number}")


def is_run_file(path: Path) -> bool:
    """True when ``path`` is empty or reads as a run file (a torn last line allowed)."""
    try:
        for _ in iter_lines(path):
            pass
    except InputError:
        return False
    return True


# --- writing ------------------------------------------------------------------------------------


def write_atomically(output: Path, texts: Iterable[str]) -> None:
    """Write one line per text to a file beside ``output``, fsync it, then rename it over.

    The result keeps ``output``'s permissions (0644 for a new file).
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    mode = output.stat().st_mode & 0o777 if output.exists() else 0o644
    handle, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            for text in texts:
                file.write(text + "\n")
            file.flush()
            os.fsync(file.fileno())
        temporary.chmod(mode)
        os.replace(temporary, output)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Done:
    """What the run file already holds for one document."""

    sha256: str | None
    ok: bool


class RunFile:
    """An output file opened for appending whole lines, resuming what it holds.

    Opening takes an exclusive lock first (a second run on the same file fails
    at once, naming the holder's PID), then checks that an existing file is a
    run file before anything is changed: a file that is not a run is refused
    untouched, even with ``overwrite``.
    """

    def __init__(self, path: Path, *, overwrite: bool = False, retry_failed: bool = False) -> None:
        self.path = path
        self.overwrite = overwrite
        self.retry_failed = retry_failed
        self.done: dict[str, Done] = {}
        self._fd: int | None = None
        self._lock: int | None = None

    def open(self) -> RunFile:
        """Lock the file, check it, prepare it (fresh, or repaired and read) and open it."""
        _check_output_path(self.path)
        fresh_lock = not lock_path(self.path).exists()
        self._lock = _take_lock(self.path)
        try:
            self._prepare()
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except BaseException:
            if fresh_lock:  # a refused output keeps nothing of this run beside it
                lock_path(self.path).unlink(missing_ok=True)
            self.close()
            raise
        return self

    def _prepare(self) -> None:
        if self.path.exists() and not is_run_file(self.path):
            raise ConfigError(
                f"{self.path} exists and is not a run file; it is left as it is (choose another -o)"
            )
        if self.overwrite or not self.path.exists():
            self.path.write_bytes(b"")
            return
        cut_torn_tail(self.path)
        if self.retry_failed:
            drop_failed_lines(self.path)
        for line in latest_lines(self.path):
            self.done[line.doc_id] = Done(line.doc_sha256, line.ok)

    def write(self, json_line: str) -> None:
        """Append one line (a complete JSON text, no newline) and flush it to the OS."""
        assert self._fd is not None, "RunFile.open() first"
        data = (json_line + "\n").encode("utf-8")
        while data:
            written = os.write(self._fd, data)
            data = data[written:]

    def close(self) -> None:
        """Close the file (lines are already on disk) and release the lock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the flock
            self._lock = None

    def __enter__(self) -> RunFile:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def lock_path(path: Path) -> Path:
    """The lock file of the run file ``path``: ``.<name>.lock`` beside it."""
    return path.with_name(f".{path.name}.lock")


def _check_output_path(path: Path) -> None:
    """Refuse an output that cannot be a file, with a message rather than a traceback."""
    if path.is_dir():
        raise ConfigError(f"{path} is a folder; -o takes a file name")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"{path}: {parent} is not a folder")
            break
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"{path}: cannot create its folder: {e.strerror or e}") from e
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"{path}: not writable")


def _take_lock(path: Path) -> int:
    """An exclusive, non-blocking flock on ``path``'s lock file, holding this PID."""
    lock = lock_path(path)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise ConfigError(f"{path}: cannot create the lock {lock}: {e.strerror or e}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise ConfigError(
            f"{path} is being written by another run (PID {holder}); "
            "wait for it to finish or choose another -o"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd


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
    """Rewrite ``path`` as its winning lines that hold a record; return how many were dropped."""
    dropped = 0

    def kept() -> Iterator[str]:
        nonlocal dropped
        for line in latest_lines(path):
            if line.ok:
                yield line.to_json()
            else:
                dropped += 1

    write_atomically(path, kept())
    return dropped
