"""The exception hierarchy: one root, user mistakes apart from runtime failures.

Library code raises these (wrapping third-party exceptions with ``from``);
only ``cli.py`` turns them into exit codes and one-line messages.
"""

from __future__ import annotations

from typing import Any


class ExtractorError(Exception):
    """Root of every error this package raises on purpose."""

    kind = "error"


class ConfigError(ExtractorError):
    """The user asked for something that cannot work (bad flag, missing prompt, no model)."""

    kind = "config"


class TemplateError(ConfigError):
    """A record template is unsound (names the model and field), or cannot be imported."""


class InputError(ExtractorError):
    """A document could not be read (empty, binary, undecodable, too large)."""

    kind = "input"


class GoldSetError(ExtractorError):
    """A gold directory is malformed."""

    kind = "gold"


class ProviderError(ExtractorError):
    """The model endpoint failed: HTTP error, timeout, unreachable.

    ``fatal`` marks failures that will recur for every document (bad key,
    unknown model, nothing listening), so a run stops instead of failing
    each document in turn.
    """

    kind = "provider"

    def __init__(
        self,
        message: str,
        *,
        original: BaseException | None = None,
        status: int | None = None,
        fatal: bool = False,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.original = original
        self.status = status
        self.fatal = fatal
        self.attempts = attempts


class EngineError(ExtractorError):
    """The engine that runs the documents failed (every Ray worker is gone): the run stops."""

    kind = "engine"


class InternalError(ExtractorError):
    """An unexpected exception while extracting one document: a bug, recorded, not hidden."""

    kind = "internal"

    @classmethod
    def of(cls, error: BaseException) -> InternalError:
        """The ``InternalError`` describing ``error`` (its type and first line)."""
        first = (str(error).strip().splitlines() or [""])[0][:300]
        return cls(f"{type(error).__name__}: {first}" if first else type(error).__name__)


class ExtractionFailed(ExtractorError):
    """The model kept answering with output that does not validate."""

    kind = "validation"

    def __init__(
        self,
        message: str,
        *,
        attempts: int,
        last_output: str | None = None,
        usage: Any = None,
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_output = last_output
        self.usage = usage


class LabelInvalid(ExtractorError):
    """A label that does not fit the schema, or whose evidence is not in its document.

    ``errors`` lists each problem as ``{"path": "patients[0].age_years", "message": ...}``.
    """

    kind = "label"

    def __init__(self, message: str, *, errors: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.errors = errors


class LabelConflict(ExtractorError):
    """A label changed since the version an edit started from (another tab or reviewer)."""

    kind = "conflict"

    def __init__(self, message: str, *, current: str) -> None:
        super().__init__(message)
        self.current = current
