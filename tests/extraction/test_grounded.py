"""The grounded strategy: values from the sentences that state them, the model only choosing.

Every text here is invented for the test; none comes from the gold set.
"""

from __future__ import annotations

import asyncio
import re
import typing
from typing import Any

from extractor.extraction.grounded import Grounded, choice_model
from extractor.extraction.prompts import load_prompt
from extractor.model.base import Completion
from extractor.record.grounding import is_grounded
from extractor.templates.nen import CaseReport
from extractor.testing import FakeClient

REPORT = """Title: Ileal neuroendocrine tumour with hepatic metastases: a case report
Source: Doe J, Roe R. Journal of Invented Case Reports 2021; 7: 12-15; DOI: 10.1234/jicr.2021.77

Abstract
Small intestinal neuroendocrine tumours are uncommon.

Case presentation
A 63-year-old woman presented with flushing and diarrhoea. CT revealed a mass in the terminal
ileum and several liver metastases. 68Ga-DOTATATE PET/CT showed intense uptake in the ileal mass
and in the liver. Histology showed a well-differentiated neuroendocrine tumour, grade 2, with a
Ki-67 index of 4%. Chromogranin A staining was positive. She underwent segmental ileal resection
and was started on lanreotide. At follow-up of 18 months the disease was stable.

Discussion
Lung carcinoids in men aged 40 often metastasise to bone [3].
"""


def run(text: str, client: FakeClient | None = None, ask_model: bool = False) -> Completion[Any]:
    client = client or FakeClient(default={"answer": "none"})
    return asyncio.run(Grounded(ask_model=ask_model).extract(client, load_prompt(), text))


def test_a_case_report_is_read_from_its_own_sentences() -> None:
    record = run(REPORT).record
    assert isinstance(record, CaseReport)
    assert (record.document_type, record.reports_nen, record.n_patients) == ("case_report", True, 1)
    assert record.doi == "10.1234/jicr.2021.77"
    assert (record.journal, record.year) == ("Journal of Invented Case Reports", 2021)
    (patient,) = record.patients
    assert (patient.age_years, patient.sex, patient.primary_site) == (
        63,
        "female",
        "small_intestine",
    )
    assert (patient.differentiation, patient.who_grade, patient.ki67_percent) == ("well", "G2", 4.0)
    assert patient.metastatic is True
    assert patient.metastatic_sites == ["liver"]
    assert ("PET/CT", "68Ga-DOTATATE", "positive") in {
        (i.modality, i.tracer, i.result) for i in patient.imaging
    }
    assert {(t.type, t.agent) for t in patient.treatments} >= {
        ("surgery", None),
        ("somatostatin_analogue", "lanreotide"),
    }
    assert [(b.name, b.result) for b in patient.biomarkers] == [("chromogranin_a", "positive")]
    assert patient.outcome.follow_up_months == 18


def test_every_kept_value_carries_a_quote_found_in_the_document() -> None:
    record = run(REPORT).record
    patient = record.patients[0]
    quotes = [quote for _, quote in patient.evidence.items()]
    quotes += [i.evidence for i in [*patient.imaging, *patient.biomarkers, *patient.treatments]]
    assert quotes
    assert all(quote is not None and is_grounded(quote, REPORT) for quote in quotes)
    scalars_and_sites = [
        name
        for name, value in patient
        if name not in ("label", "evidence", "outcome", "imaging", "biomarkers", "treatments")
        and value not in (None, [])
    ]
    assert all(getattr(patient.evidence, name) is not None for name in scalars_and_sites)


def test_the_discussion_never_fills_a_patient_field() -> None:
    patient = run(REPORT).record.patients[0]
    assert "lung" not in {patient.primary_site, *patient.metastatic_sites}
    assert "bone" not in patient.metastatic_sites
    assert patient.sex == "female"


def test_a_stated_absence_of_metastases_is_false_and_nothing_is_invented() -> None:
    text = ("Case report\nA 50-year-old man had a pancreatic neuroendocrine tumour. "
            "Staging CT showed no metastases.")  # fmt: skip
    patient = run(text).record.patients[0]
    assert patient.metastatic is False
    assert patient.metastatic_sites == []
    assert (patient.who_grade, patient.ki67_percent, patient.functional_syndrome) == (None,) * 3
    assert patient.outcome.status is None


def test_sources_say_which_mechanism_gave_each_field() -> None:
    sources = run(REPORT).sources
    assert sources["patients[0].age_years"] == "rule"
    assert sources["patients[0].ki67_percent"] == "rule"
    assert sources["patients[0].functional_syndrome"] == "none"


def test_when_candidates_disagree_the_model_chooses_among_them_only() -> None:
    text = ("Case presentation\nA 70-year-old man had a carcinoid tumour of the appendix. "
            "A second lesion of the caecum was described as a carcinoid of the colon.")  # fmt: skip
    client = FakeClient(default={"answer": "none"})
    record = run(text, client, ask_model=True).record
    (model,) = [
        r.response_model
        for r in client.requests
        if r.response_model.__doc__ == "patients[0].primary_site"
    ]
    options = typing.get_args(model.model_fields["answer"].annotation)
    assert set(options) == {"appendix", "colon", "none"}
    assert record.patients[0].primary_site is None  # the model said none


def test_the_choice_grammar_allows_only_the_candidates_or_none() -> None:
    model = choice_model("patients[0].sex", ("female", "male"))
    assert model.model_json_schema()["properties"]["answer"]["enum"] == ["female", "male", "none"]


def test_an_article_without_a_patient_is_other_with_no_patients() -> None:
    text = (
        "Editorial: the future of neuroendocrine neoplasm care\n\n"
        "This narrative review summarises recent trials of somatostatin analogues."
    )
    record = run(text).record
    assert (record.document_type, record.reports_nen, record.patients) == ("other", False, [])


def test_a_case_series_fills_one_patient_per_labelled_case() -> None:
    text = ("We describe two patients with rectal neuroendocrine tumours.\n\n"
            "Case 1\nA 45-year-old man had a rectal NET, grade 1.\n\n"
            "Case 2\nA 52-year-old woman had a rectal NET, grade 2.")  # fmt: skip
    record = run(text).record
    assert (record.document_type, record.n_patients) == ("case_series", 2)
    assert [(p.label, p.age_years, p.sex, p.who_grade) for p in record.patients] == [
        ("Case 1", 45, "male", "G1"), ("Case 2", 52, "female", "G2"),
    ]  # fmt: skip


def test_a_neuroendocrine_tumour_ruled_out_is_not_reported() -> None:
    text = ("Case presentation\nA 61-year-old man had a jejunal mass. A neuroendocrine tumour "
            "was ruled out; histology showed a gastrointestinal stromal tumour.")  # fmt: skip
    record = run(text).record
    assert (record.document_type, record.reports_nen, record.patients) == ("case_report", False, [])


def test_metastases_not_found_after_the_word_is_a_stated_absence() -> None:
    text = "Case report\nA 40-year-old woman had a gastric carcinoid. Metastases were not found."
    assert run(text).record.patients[0].metastatic is False


def test_a_trial_that_counts_its_patients_is_other_not_a_case_series() -> None:
    text = ("Prospective evaluation of octreotide in neuroendocrine tumours: a phase II study\n\n"
            "Forty-two patients were enrolled; 12 patients had a partial response.")  # fmt: skip
    record = run(text).record
    assert (record.document_type, record.n_patients, record.patients) == ("other", None, [])


def test_the_documents_own_sections_keep_their_discussion_out_of_patient_fields() -> None:
    """Sections from markup (a JATS <sec>) close the discussion even without a heading line."""
    from extractor.io.sections import Section

    case = "A 58-year-old woman had a carcinoid tumour of the appendix. "
    discussion = "A 70-year-old man and another man had lung carcinoids of the same kind."
    text = case + discussion
    sections = (Section("Discussion", len(case), len(text), "discussion"),)
    client = FakeClient(default={"answer": "none"})
    record = asyncio.run(Grounded(ask_model=False).extract(client, load_prompt(), text, sections))
    (patient,) = record.record.patients
    assert (patient.age_years, patient.sex, patient.primary_site) == (58, "female", "appendix")


SERIES = """Two cases of small-bowel neuroendocrine tumour

We report two patients with neuroendocrine tumours.
Case 1 was a 50-year-old man with an ileal neuroendocrine tumour.
Case 2 was a 70-year-old woman with a neuroendocrine tumour of the ileum.
A CT scan of case 2 showed a tumour of the pancreas as well, and the pancreas mass was resected.
"""


def test_a_series_patients_question_quotes_that_patients_own_sentences() -> None:
    client = FakeClient(default={"answer": "none"})
    record = run(SERIES, client, ask_model=True).record
    assert [p.label for p in record.patients] == ["Case 1", "Case 2"]
    asked = [r for r in client.requests if "primary tumour" in r.messages[-1]["content"]]
    assert asked, "the second patient's two sites are a question for the model"
    question = asked[-1].messages[-1]["content"]
    quoted = re.findall(r"^\[\d+\] (.+)$", question, flags=re.MULTILINE)
    assert quoted
    assert all("case 2" in line.lower() for line in quoted)
