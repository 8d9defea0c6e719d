"""extractor: structured, checkable records from published medical case reports.

The public API: read documents, configure a model, extract records, score
them against a gold set. The ``extractor`` command is a thin layer over these.
"""

from extractor.config import ModelConfig, load_config
from extractor.errors import (
    ConfigError,
    ExtractionFailed,
    ExtractorError,
    GoldSetError,
    InputError,
    ProviderError,
)
from extractor.evaluation.evaluate import EvalResult, evaluate, read_run
from extractor.evaluation.gold import check_gold, load_gold
from extractor.evaluation.scoring import EvalScore, score_record, score_run
from extractor.extraction.bulk import RunOptions, RunSummary, extract_files, run_extraction
from extractor.extraction.cache import ResponseCache
from extractor.extraction.document import DocumentExtractor
from extractor.extraction.prompts import Prompt, load_prompt
from extractor.io.documents import Document, Unreadable, iter_documents, iter_paths, read_document
from extractor.io.export import load_run, write_csv
from extractor.io.merge import merge_runs
from extractor.io.runfile import ResultLine
from extractor.model.base import Completion, ModelClient, Usage
from extractor.model.connect import connect
from extractor.model.openai import OpenAIClient
from extractor.record.schema import CaseReport, Patient

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
