"""extractor: structured, checkable records from published medical case reports.

The public API, layer by layer: read documents (``read_document``,
``iter_documents``), configure a model and a run (``load_config``,
``RunSettings``), extract records (``extract_files`` for a whole run,
``DocumentExtractor`` for one document), read runs back (``latest_lines``,
``load_run``), and score them against a gold set (``load_gold``,
``evaluate``, ``evaluate_gold``), and compare runs with each other
(``agree_runs``). A record is a template (``Template``, ``load_template``:
the NEN ``CaseReport`` by default, or any Pydantic model with the markers of
``extractor.record.markers``); ``vocabulary`` loads a template's values with
their surface forms and NCIt codes. The ``extractor`` command is a thin layer over these;
``extractor.testing`` holds the fake and gold-replay clients for tests.
"""

from extractor.config import ModelConfig, RunSettings, load_config, run_settings
from extractor.errors import (
    ConfigError,
    ExtractionFailed,
    ExtractorError,
    GoldSetError,
    InputError,
    ProviderError,
    TemplateError,
)
from extractor.evaluation.agree import agree_runs, write_triage
from extractor.evaluation.evaluate import EvalResult, evaluate, read_run
from extractor.evaluation.gold import check_gold, load_gold
from extractor.evaluation.runner import SavedEval, evaluate_gold
from extractor.evaluation.scoring import EvalScore, score_record, score_run
from extractor.extraction.bulk import RunSummary, extract_files, run_extraction
from extractor.extraction.cache import ResponseCache
from extractor.extraction.document import DocumentExtractor
from extractor.extraction.prompts import Prompt, load_prompt
from extractor.io.documents import Document, Unreadable, iter_documents, iter_paths, read_document
from extractor.io.export import load_run, write_csv
from extractor.io.merge import merge_runs
from extractor.io.metadata import metadata_fields
from extractor.io.runfile import Provenance, ResultLine, latest_lines
from extractor.io.sections import Section
from extractor.model.base import Completion, ModelClient, Usage
from extractor.model.connect import connect
from extractor.model.openai import OpenAIClient
from extractor.record.grounding import Aligner
from extractor.record.template import Template, load_template
from extractor.record.vocabulary import Vocabulary, vocabulary
from extractor.templates.nen import CaseReport, Patient

__all__ = [
    "Aligner",
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
    "Provenance",
    "ProviderError",
    "ResponseCache",
    "ResultLine",
    "RunSettings",
    "RunSummary",
    "SavedEval",
    "Section",
    "Template",
    "TemplateError",
    "Unreadable",
    "Usage",
    "Vocabulary",
    "agree_runs",
    "check_gold",
    "connect",
    "evaluate",
    "evaluate_gold",
    "extract_files",
    "iter_documents",
    "iter_paths",
    "latest_lines",
    "load_config",
    "load_gold",
    "load_prompt",
    "load_run",
    "load_template",
    "merge_runs",
    "metadata_fields",
    "read_document",
    "read_run",
    "run_extraction",
    "run_settings",
    "score_record",
    "score_run",
    "vocabulary",
    "write_csv",
    "write_triage",
]
