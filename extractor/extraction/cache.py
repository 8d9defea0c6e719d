"""The response cache: extracted records on disk, keyed by everything that changes them.

The key is the sha256 of canonical JSON of the model, the endpoint, the
prompt text, the schema, the document hash and the generation parameters.
A corrupt, unreadable or no-longer-valid entry is a miss, never a crash.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import diskcache
from pydantic import BaseModel

from extractor.hashing import canonical_json, sha256_text


def default_cache_dir() -> Path:
    """The per-user cache folder: ``$XDG_CACHE_HOME/extractor`` or ``~/.cache/extractor``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "extractor"


def cache_key(
    *,
    model: str,
    endpoint: str,
    prompt_text: str,
    schema: dict[str, Any] | str,
    document_sha256: str,
    params: dict[str, Any],
) -> str:
    """The cache key of one extraction: sha256 of canonical JSON of its inputs.

    ``schema`` may be given as its canonical JSON already (a run encodes its
    schema once, not for every document); the key is the same.
    """
    rest = {"model": model, "endpoint": endpoint, "prompt": prompt_text,
            "document": document_sha256, "params": params}  # fmt: skip
    encoded = schema if isinstance(schema, str) else canonical_json(schema)
    return sha256_text(canonical_json(rest)[:-1] + ',"schema":' + encoded + "}")  # sorts last


@dataclass(frozen=True)
class CachedResult:
    """What a cache entry holds: the record (or the model's failure to make one) and its cost.

    A failure is cached only when it is a property of the inputs (output that
    does not validate); transport failures are never cached.
    """

    record: dict[str, Any] | None
    prompt_tokens: int
    completion_tokens: int
    attempts: int
    failure: dict[str, str] | None = None
    sources: dict[str, str] = field(default_factory=dict)


class ResponseCache:
    """A diskcache of extraction results. ``None`` directory means no cache.

    A cache folder that cannot be opened (not a database, no permission)
    leaves the run without a cache; ``problem`` says why.
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.problem: str | None = None
        self._cache: diskcache.Cache | None = None
        if directory is not None:
            try:
                self._cache = diskcache.Cache(str(directory))
            except Exception as e:  # noqa: BLE001 - a broken cache must not stop a run
                self.problem = f"cache {directory} is unusable ({e}); running without it"

    def get(self, key: str, model: type[BaseModel]) -> CachedResult | None:
        """The cached result for ``key`` if present, readable and still valid for ``model``."""
        if self._cache is None:
            return None
        try:
            raw = self._cache.get(key)
            if not isinstance(raw, str):
                return None
            data = json.loads(raw)
            failure = data.get("failure")
            if failure is None:
                model.model_validate(data["record"])
            elif not isinstance(failure, dict):
                return None
            return CachedResult(
                record=None if failure else data["record"],
                prompt_tokens=int(data["prompt_tokens"]),
                completion_tokens=int(data["completion_tokens"]),
                attempts=int(data["attempts"]),
                failure=failure,
                sources=dict(data.get("sources") or {}),
            )
        except Exception:  # noqa: BLE001 - any unreadable entry is a miss
            return None

    def put(self, key: str, result: CachedResult) -> None:
        """Store a result; a cache that cannot be written is skipped, not fatal."""
        if self._cache is None:
            return
        try:
            self._cache.set(key, json.dumps(asdict(result)))
        except Exception:  # noqa: BLE001 - a full disk or locked database must not stop a run
            return

    def close(self) -> None:
        """Release the cache's database handle."""
        if self._cache is not None:
            self._cache.close()
