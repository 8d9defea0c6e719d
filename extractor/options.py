"""The command line's shared options: one typed Typer alias per flag.

Help texts take their defaults from ``ModelConfig`` and ``RunSettings``,
never restating them, and every model-using command takes the same model
flags, so any ``extract`` can be reproduced by ``eval`` and ``compare``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from extractor.config import (
    DEFAULT_PROMPT,
    EMBEDDED_CONTEXT,
    GENERIC_PROMPT,
    STRATEGIES,
    ModelConfig,
    RunSettings,
    default_of,
)


def _default(model: type[ModelConfig] | type[RunSettings], name: str) -> str:
    return f" [default: {default_of(model, name)}]"


RecordOption = Annotated[
    str | None,
    typer.Option(
        "--record",
        help="Record template: module:Model or path/to/file.py:Model "
        "[default: a gold set's record.toml, a run's own, else "
        f"{default_of(RunSettings, 'record')}].",
    ),
]
PromptOption = Annotated[
    str | None,
    typer.Option("--prompt", help="Prompt version (folder under prompts/) or path "
                 f"[default: {DEFAULT_PROMPT} for the NEN record, {GENERIC_PROMPT} for others]."),
]  # fmt: skip
ModelOption = Annotated[
    str | None, typer.Option("--model", help="Model name [env: EXTRACTOR_MODEL].")
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option("--base-url", help="OpenAI-compatible endpoint [env: EXTRACTOR_BASE_URL]; "
                 "unset: the embedded llama.cpp server."),
]  # fmt: skip
GgufOption = Annotated[
    Path | None, typer.Option("--gguf", help="GGUF file for the embedded server (default: SmolLM2-135M).")
]  # fmt: skip
CacheDirOption = Annotated[Path | None, typer.Option("--cache-dir", help="Cache folder [default: ~/.cache/extractor].")]  # fmt: skip
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the cache.")
]
StrategyOption = Annotated[
    str | None,
    typer.Option("--strategy", help=f"One of {', '.join(STRATEGIES)}: whole asks for the record in "
                 "one call, sections in several smaller ones." + _default(RunSettings, "strategy")),
]  # fmt: skip
GroundingOption = Annotated[
    bool,
    typer.Option(
        "--require-grounding", help="Keep only values whose evidence quote is in the document."
    ),
]
IgnoreMetadataOption = Annotated[
    bool,
    typer.Option(
        "--ignore-metadata",
        help="Ask the model for title, DOI, journal and year even where the input states them.",
    ),
]
ConcurrencyOption = Annotated[
    int | None,
    typer.Option("--concurrency", help="Documents in flight [default: 1 embedded, 8 remote]."),
]  # fmt: skip
StopAfterFailuresOption = Annotated[int | None, typer.Option(help="Stop the run when the endpoint fails this many documents in a row." + _default(RunSettings, "stop_after_failures"))]  # fmt: skip
TemperatureOption = Annotated[float | None, typer.Option(help="Sampling temperature." + _default(ModelConfig, "temperature"))]  # fmt: skip
CompletionTokensOption = Annotated[int | None, typer.Option(help="Token limit of one answer." + _default(ModelConfig, "max_completion_tokens"))]  # fmt: skip
RetriesOption = Annotated[int | None, typer.Option(help="Retries of a failed request." + _default(ModelConfig, "max_retries"))]  # fmt: skip
ContextOption = Annotated[int | None, typer.Option(help=f"The model's context in tokens; longer documents are split [default: {EMBEDDED_CONTEXT} embedded].")]  # fmt: skip
EvalDirOption = Annotated[Path, typer.Option("--eval-dir", help="Folder for runs/, results/ and the leaderboard.")]  # fmt: skip
GoldOption = Annotated[Path, typer.Option("--gold", help="Gold folder (docs/ and labels/).")]
NextRequestsOption = Annotated[Path | None, typer.Option("--next", help="Where the next round's request file goes [default: NAME.rN.jsonl beside the requests].")]  # fmt: skip
