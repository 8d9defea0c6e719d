"""extractor: structured, checkable records from published medical case reports.

The public API: read documents, configure a model, extract records, score
them against a gold set. The ``extractor`` command is a thin layer over these.
"""

from extractor.bulk import RunOptions, RunSummary, extract_files, run_extraction
from extractor.cache import ResponseCache
from extractor.config import ModelConfig, load_config
from extractor.documents import Document, Unreadable, iter_documents, iter_paths, read_document
from extractor.errors import (
    ConfigError,
    ExtractionFailed,
    ExtractorError,
    GoldSetError,
    InputError,
    ProviderError,
)
from extractor.evaluate import EvalResult, evaluate, read_run
from extractor.export import load_run, write_csv
from extractor.gold import check_gold, load_gold
from extractor.llm import Completion, ModelClient, OpenAIClient, Usage, connect
from extractor.prompts import Prompt, load_prompt
from extractor.run import DocumentExtractor, ResultLine
from extractor.schema import CaseReport, Patient
from extractor.scoring import EvalScore, score_record, score_run
from extractor.shards import merge_runs

__all__ = [
    "CaseReport",
    "Completion",
    "ConfigError",
    "Document",
    "DocumentExtractor",
    "EvalResult",
    "EvalScore",
    "ExtractionFailed",
    "ExtractorError",
    "GoldSetError",
    "InputError",
    "ModelClient",
    "ModelConfig",
    "OpenAIClient",
    "Patient",
    "Prompt",
    "ProviderError",
    "ResponseCache",
    "ResultLine",
    "RunOptions",
    "RunSummary",
    "Unreadable",
    "Usage",
    "check_gold",
    "connect",
    "evaluate",
    "extract_files",
    "iter_documents",
    "iter_paths",
    "load_config",
    "load_gold",
    "load_prompt",
    "load_run",
    "merge_runs",
    "read_document",
    "read_run",
    "run_extraction",
    "score_record",
    "score_run",
    "write_csv",
]
