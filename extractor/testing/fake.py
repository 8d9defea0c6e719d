"""``FakeClient``: a ``ModelClient`` that answers from a queue and records every request.

For tests, and for users who want to exercise a pipeline without a model::

    client = FakeClient([record_dict, ProviderError("boom")])
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from extractor.model.base import Completion, Messages, Usage

M = TypeVar("M", bound=BaseModel)


@dataclass
class FakeRequest:
    """One call the fake received."""

    messages: Messages
    response_model: type[BaseModel]


@dataclass
class FakeClient:
    """Answers each ``complete`` call with the next queued item.

    An item is a record (model instance or dict, validated against the
    requested model) or an exception instance, which is raised. When the queue
    is empty, ``default`` (if set) answers every further call.
    """

    answers: Iterable[Any] = ()
    default: Any = None
    model: str = "fake-model"
    endpoint: str = "fake://"
    usage: Usage = field(default_factory=lambda: Usage(prompt_tokens=100, completion_tokens=50))
    delay: float = 0.0
    requests: list[FakeRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: deque[Any] = deque(self.answers)

    def enqueue(self, *answers: Any) -> None:
        """Add answers to the end of the queue."""
        self._queue.extend(answers)

    async def complete(self, messages: Messages, response_model: type[M]) -> Completion[M]:
        """Record the request and return (or raise) the next answer, after ``delay`` seconds."""
        self.requests.append(FakeRequest(messages, response_model))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._queue:
            answer = self._queue.popleft()
        elif self.default is not None:
            answer = self.default
        else:
            raise AssertionError("FakeClient: no answer queued for this request")
        if isinstance(answer, BaseException):
            raise answer
        data = answer.model_dump() if isinstance(answer, BaseModel) else answer
        return Completion(response_model.model_validate(data), self.usage, attempts=1)


def minimal_record(**changes: Any) -> dict[str, Any]:
    """A small valid CaseReport dict with one patient."""
    record: dict[str, Any] = {
        "title": "A case",
        "doi": None,
        "journal": None,
        "year": 2020,
        "document_type": "case_report",
        "reports_nen": True,
        "n_patients": 1,
        "patients": [
            {
                "label": None,
                "age_years": 50,
                "sex": "female",
                "primary_site": "pancreas",
                "primary_site_text": "pancreatic tail",
                "differentiation": "well",
                "who_grade": "G1",
                "ki67_percent": 1.5,
                "functional_syndrome": None,
                "metastatic": False,
                "metastatic_sites": [],
                "imaging": [],
                "biomarkers": [],
                "treatments": [],
                "outcome": {"status": None, "follow_up_months": None},
            }
        ],
    }
    record.update(changes)
    return record
