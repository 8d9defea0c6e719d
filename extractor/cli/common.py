"""What every command shares: one-line errors and exit codes, configuration from flags.

Library errors become one line on stderr and exit code 1, bad flag values
exit code 2, SIGTERM a clean exit; the model flags and run flags of every
model-using command are turned into ``ModelConfig`` and ``RunSettings`` here.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import typer
from rich.markup import escape

from extractor.config import (
    ModelConfig,
    RunSettings,
    load_config,
    run_settings,
)
from extractor.console import (
    progress_bar,
    stderr,
)
from extractor.errors import ConfigError, ExtractorError
from extractor.extraction.bulk import Progress
from extractor.extraction.cache import default_cache_dir
from extractor.io.merge import parse_shard
from extractor.model.secrets import mask

T = TypeVar("T")


def say_error(message: object) -> None:
    """One error line on stderr, secrets masked, brackets shown as they are (not as markup)."""
    stderr.print(f"[red]error:[/red] {escape(mask(str(message)))}", highlight=False)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn library errors into one line on stderr and exit code 1; SIGTERM into a clean exit.

    An ``OSError`` reaching here is a path the command cannot read or write
    (a folder given for a file, a file where a folder should be): one line, exit 1.
    """

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    except ExtractorError as e:
        say_error(e)
        raise typer.Exit(1) from e
    except OSError as e:
        path = e.filename2 or e.filename
        say_error(f"{path}: {e.strerror or e}" if path else e)
        raise typer.Exit(1) from e
    except KeyboardInterrupt:
        stderr.print(
            "[yellow]interrupted[/yellow]: lines written so far are kept; re-run to resume"
        )
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def bad_flags() -> Iterator[None]:
    """A ``ConfigError`` while building the configuration is a bad flag: exit code 2."""
    try:
        yield
    except ConfigError as e:
        say_error(e)
        raise typer.Exit(2) from e


def model_config(
    model: str | None, base_url: str | None, gguf: Path | None, temperature: float | None,
    max_completion_tokens: int | None, retries: int | None, context_tokens: int | None,
) -> ModelConfig:  # fmt: skip
    """The model configuration from the model flags every model-using command shares."""
    with bad_flags():
        return load_config(
            model=model, base_url=base_url, gguf=gguf, temperature=temperature,
            max_completion_tokens=max_completion_tokens, max_retries=retries,
            context_tokens=context_tokens,
        )  # fmt: skip


def run_settings_from(cache_dir: Path | None, no_cache: bool, **values: Any) -> RunSettings:
    """Run settings from flags (None: the default); the cache folder resolved here."""
    with bad_flags():
        if values.get("shard") is not None:
            values["shard"] = parse_shard(values["shard"])
        return run_settings(
            cache_dir=None if no_cache else cache_dir or default_cache_dir(), **values
        )


def warn(message: str) -> None:
    stderr.print(f"[yellow]warning:[/yellow] {message}")


def with_progress(job: Callable[[Progress], Coroutine[Any, Any, T]]) -> T:
    """Run an extraction coroutine with a progress bar on stderr."""
    with progress_bar() as update:
        return asyncio.run(job(update))
