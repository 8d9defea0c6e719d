"""The case-report record: ``shared/spec/case-record.md`` as Pydantic models.

The JSON keys, enumerations and nullability here are the contract between the
model's output, the hand-labelled gold files and the scorer. Every key is
required (a value or ``null``) except the optional ``evidence`` maps and
quotes, so that a record written by hand from the spec loads unchanged and a
model that forgets a key is asked again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from extractor.hashing import canonical_json, sha256_text
from extractor.record.markers import Ask, Codes, Compare, Entities, Items, Part, Quotes

DocumentType = Literal["case_report", "case_series", "other"]
Sex = Literal["male", "female"]
PrimarySite = Literal[
    "pancreas", "stomach", "duodenum", "small_intestine", "appendix", "colon",
    "rectum", "lung", "thymus", "liver", "gallbladder", "ovary",
    "retroperitoneum", "mesentery", "soft_tissue", "other", "unknown",
]  # fmt: skip
Differentiation = Literal["well", "poor"]
WhoGrade = Literal["G1", "G2", "G3"]
MetastaticSite = Literal[
    "liver", "lymph_node", "bone", "lung", "peritoneum", "mesentery", "brain",
    "heart", "ovary", "pancreas", "skin", "soft_tissue", "other",
]  # fmt: skip
Modality = Literal[
    "CT", "MRI", "PET/CT", "PET/MRI", "SPECT/CT", "SPECT", "planar_scintigraphy",
    "bone_scintigraphy", "ultrasound", "endoscopic_ultrasound", "X-ray",
    "endoscopy", "echocardiography", "other",
]  # fmt: skip
Tracer = Literal[
    "68Ga-DOTATATE", "68Ga-DOTATOC", "68Ga-DOTANOC", "64Cu-DOTATATE",
    "111In-pentetreotide", "18F-FDG", "18F-AlF-NOTA-octreotide", "68Ga-PSMA",
    "99mTc-MDP", "other",
]  # fmt: skip
ImagingResult = Literal["positive", "negative"]
BiomarkerName = Literal[
    "chromogranin_a", "synaptophysin", "cd56", "insm1", "nse", "sstr2", "5-hiaa",
    "serotonin", "gastrin", "insulin", "acth", "cortisol", "other",
]  # fmt: skip
Specimen = Literal["tissue", "blood", "urine"]
BiomarkerResult = Literal["positive", "negative", "elevated", "normal"]
TreatmentType = Literal[
    "surgery", "endoscopic_resection", "somatostatin_analogue", "prrt",
    "targeted_therapy", "chemotherapy", "radiotherapy", "chemoradiotherapy",
    "liver_directed_therapy", "hormone_control", "supportive_care",
    "surveillance", "other",
]  # fmt: skip
Response = Literal["complete_response", "partial_response", "stable_disease", "progressive_disease"]
OutcomeStatus = Literal[
    "no_evidence_of_disease", "complete_response", "partial_response",
    "stable_disease", "progressive_disease", "died",
]  # fmt: skip

# Upper bounds on lengths: far above any real value, they bound what a small
# model can emit under grammar-constrained decoding (no endless strings/lists).
Quote = Annotated[
    str, Field(max_length=400, description="Short verbatim quote copied from the document.")
]
ShortText = Annotated[str, Field(max_length=200)]


class _Record(BaseModel):
    """Base of every record model: unknown keys are an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class _Evidence(_Record):
    """A map from field name to supporting quote; absent keys are left out of the JSON."""

    @model_serializer(mode="wrap")
    def _drop_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {key: value for key, value in handler(self).items() if value is not None}

    def items(self) -> list[tuple[str, str]]:
        """The (field, quote) pairs that are present."""
        return [(key, value) for key, value in self if value is not None]


class PatientEvidence(_Evidence):
    """Quotes supporting the patient's fields, keyed by field name."""

    label: Quote | None = None
    age_years: Quote | None = None
    sex: Quote | None = None
    primary_site: Quote | None = None
    primary_site_text: Quote | None = None
    differentiation: Quote | None = None
    who_grade: Quote | None = None
    ki67_percent: Quote | None = None
    functional_syndrome: Quote | None = None
    metastatic: Quote | None = None
    metastatic_sites: Quote | None = None
    imaging: Quote | None = None
    biomarkers: Quote | None = None
    treatments: Quote | None = None
    outcome: Quote | None = None


class OutcomeEvidence(_Evidence):
    """Quotes supporting the outcome's fields, keyed by field name."""

    status: Quote | None = None
    follow_up_months: Quote | None = None


# How the scorer compares a field (the spec's *How a record is scored*); exact when not said.
TEXT = Compare("text")
WITHIN_HALF_A_POINT = Compare("within", absolute=0.5)
WITHIN_10_PERCENT = Compare("within", relative=0.10)
QUOTES = Quotes()


class Imaging(_Record):
    """One imaging study type the patient had (modality + tracer)."""

    modality: Modality
    tracer: Annotated[Tracer | None, Codes("tracer")]
    result: ImagingResult | None
    evidence: Annotated[Quote | None, QUOTES] = None


class Biomarker(_Record):
    """An immunohistochemistry or circulating marker with a reported result."""

    name: Annotated[BiomarkerName, Codes("biomarker")]
    specimen: Specimen | None
    result: BiomarkerResult | None
    evidence: Annotated[Quote | None, QUOTES] = None


class Treatment(_Record):
    """One treatment (one agent of a combination) in order of first use."""

    type: TreatmentType
    agent: Annotated[str | None, TEXT, Codes("agent")] = Field(
        max_length=80, description="Lower-case generic name; null for surgery."
    )
    detail: str | None = Field(max_length=300)
    cycles: int | None = Field(ge=0)
    response: Response | None
    evidence: Annotated[Quote | None, QUOTES] = None


# What the grounded strategy needs of each field (``extractor.record.markers``): where the text
# may state it and the one question asked when it offers several candidates. Not in the JSON
# Schema, so no grammar, schema hash or cache key depends on it.
RULES = "extractor.templates.nen_rules"  # the record's own finders (lists, document kind)
ASK_STATUS = Ask(
    "mentions",
    "What was the disease status at the last follow-up?",
    vocabulary="outcome_status",
    pick="last",
)
ASK_FOLLOW_UP = Ask("duration", "How long was the follow-up?", cue="follow_up_months", pick="max")
ASK_LABEL = Ask("label", "How does the document name this patient?")
ASK_AGE = Ask("age", "How old was the patient at presentation, in years?", cue="age_years")
ASK_SEX = Ask("mentions", "What is the patient's sex?", vocabulary="sex", pick="most")
ASK_SITE = Ask(
    "mentions",
    "Where is the primary tumour?",
    vocabulary="primary_site",
    prefer="reports_nen",
    pick="most",
)
ASK_SITE_TEXT = Ask("site_text", "Which words name the primary site?", vocabulary="primary_site",
                    prefer="reports_nen", pick="most",
                    words_of="primary_site")  # fmt: skip
ASK_DIFFERENTIATION = Ask(
    "mentions",
    "Is the tumour well or poorly differentiated?",
    vocabulary="differentiation",
    near="reports_nen",
    pick="most",
)
ASK_GRADE = Ask(
    "mentions",
    "Which WHO grade is stated?",
    vocabulary="who_grade",
    near="reports_nen",
    pick="most",
)
ASK_KI67 = Ask("percent", "What is the Ki-67 index in percent?", cue="ki67_percent")
ASK_SYNDROME = Ask(
    "mentions", "Which hormonal syndrome does the patient have?", vocabulary="functional_syndrome"
)
ASK_METASTATIC = Ask("stated", "Did the tumour metastasise?", cue="metastatic", pick="any_true")
ASK_METASTASES = Ask(
    "mentions", "Where are the metastases?", vocabulary="metastatic_site", near="metastatic",
    many=True, unlike="primary_site",
)  # fmt: skip
ASK_IMAGING = Ask(
    f"{RULES}:imaging", "Which imaging studies did the patient have?", vocabulary="modality"
)
ASK_MARKERS = Ask(f"{RULES}:biomarkers", "Which markers were tested?", vocabulary="biomarker")
ASK_TREATMENTS = Ask(
    f"{RULES}:treatments", "Which treatments were given?", vocabulary="treatment_type"
)
ASK_TITLE = Ask("title", "Which line is the article's title?", scope="document", cue="title",
               prefer="reports_nen")  # fmt: skip
ASK_DOI = Ask("doi", "Which is the article's own DOI?", scope="document")
ASK_JOURNAL = Ask("journal", "In which journal was the article published?", scope="document")
ASK_YEAR = Ask("year", "In which year was the article published?", scope="document")
ASK_TYPE = Ask(
    f"{RULES}:document_type",
    "Is this a case report, a case series, or another article?",
    vocabulary="document_type",
    scope="document",
)
ASK_NEN = Ask(
    f"{RULES}:reports_nen",
    "Does the document report a patient with a neuroendocrine neoplasm?",
    cue="reports_nen",
    scope="document",
)
ASK_COUNT = Ask(f"{RULES}:patient_count", "How many patients does the document report as cases?",
                scope="document")  # fmt: skip


# The questions of the ``sections`` strategy; a patient field without a ``Part`` is asked
# with the patient's scalars.
TESTS, COURSE = Part("tests"), Part("course")


class Outcome(_Record):
    """Disease status at the last reported follow-up."""

    status: Annotated[OutcomeStatus | None, ASK_STATUS]
    follow_up_months: Annotated[float | None, ASK_FOLLOW_UP, WITHIN_10_PERCENT] = Field(ge=0)
    evidence: Annotated[OutcomeEvidence, QUOTES] = Field(default_factory=OutcomeEvidence)


class Patient(_Record):
    """One individually described patient with a neuroendocrine neoplasm."""

    label: Annotated[str | None, ASK_LABEL, TEXT] = Field(max_length=50)
    age_years: Annotated[int | None, ASK_AGE] = Field(ge=0, le=120)
    sex: Annotated[Sex | None, ASK_SEX]
    primary_site: Annotated[PrimarySite | None, ASK_SITE, Codes("primary_site")]
    primary_site_text: Annotated[ShortText | None, ASK_SITE_TEXT, TEXT]
    differentiation: Annotated[Differentiation | None, ASK_DIFFERENTIATION]
    who_grade: Annotated[WhoGrade | None, ASK_GRADE]
    ki67_percent: Annotated[float | None, ASK_KI67, WITHIN_HALF_A_POINT] = Field(ge=0, le=100)
    functional_syndrome: Annotated[ShortText | None, ASK_SYNDROME, TEXT]
    metastatic: Annotated[bool | None, ASK_METASTATIC]
    metastatic_sites: Annotated[list[MetastaticSite], ASK_METASTASES, Codes("metastatic_site")] = (
        Field(max_length=20)
    )
    imaging: Annotated[list[Imaging], ASK_IMAGING, Items(keys=("modality", "tracer")), TESTS] = (
        Field(max_length=20)
    )
    biomarkers: Annotated[list[Biomarker], ASK_MARKERS, Items(keys=("name", "result")), TESTS] = (
        Field(max_length=20)
    )
    treatments: Annotated[
        list[Treatment],
        ASK_TREATMENTS,
        Items(keys=("type", "agent"), per_key=("response",)),
        COURSE,
    ] = Field(max_length=20)
    outcome: Annotated[Outcome, COURSE]
    evidence: Annotated[PatientEvidence, QUOTES] = Field(default_factory=PatientEvidence)


def patients_to_ask(document: dict[str, Any]) -> int:
    """How many patients a document describes, from its document-level fields.

    One for a case report, the stated count for a case series (at least two,
    at most ten), none for other documents and for documents that report no
    NEN patient.
    """
    kind = document.get("document_type", "other")
    if kind == "other" or document.get("reports_nen") is False:
        return 0
    if kind == "case_report":
        return 1
    return max(2, min(document.get("n_patients") or 2, MAX_SERIES))


def settle(record: dict[str, Any]) -> None:
    """What the spec fixes once the patients are filled: a single patient has no label."""
    if record.get("document_type") == "case_report":
        record["n_patients"] = 1
        for patient in record.get("patients", [])[:1]:
            patient["label"] = None
    elif record.get("document_type") == "other":
        record["n_patients"] = None


MAX_SERIES = 10  # patients asked for at most in one case series
PATIENTS = Entities(count=patients_to_ask, settle=settle, counted_by="n_patients")


class CaseReport(_Record):
    """The structured record of one published case report."""

    vocabulary_file: ClassVar[Path] = Path(__file__).with_name("nen.toml")

    title: Annotated[str | None, ASK_TITLE, Compare("title", similarity=0.9)] = Field(
        max_length=400
    )
    doi: Annotated[str | None, ASK_DOI, Compare("doi")] = Field(
        max_length=100, description="Bare lower-case DOI, no https://doi.org/."
    )
    journal: Annotated[ShortText | None, ASK_JOURNAL, TEXT]
    year: Annotated[int | None, ASK_YEAR] = Field(ge=1800, le=2100)
    document_type: Annotated[DocumentType, ASK_TYPE]
    reports_nen: Annotated[bool, ASK_NEN]
    n_patients: Annotated[int | None, ASK_COUNT] = Field(ge=0)
    patients: Annotated[list[Patient], PATIENTS] = Field(max_length=30)


DOCUMENT_FIELDS: tuple[str, ...] = tuple(
    name for name in CaseReport.model_fields if name != "patients"
)
"""The document-level fields of a record, in order."""

PATIENT_SCALARS: tuple[str, ...] = (
    "label", "age_years", "sex", "primary_site", "primary_site_text", "differentiation",
    "who_grade", "ki67_percent", "functional_syndrome", "metastatic",
)  # fmt: skip
"""The single-valued fields of a patient, in order (lists, outcome and evidence left out)."""


def schema_json(model: type[BaseModel] = CaseReport) -> dict[str, Any]:
    """The JSON Schema of ``model`` (by default the whole record)."""
    return model.model_json_schema()


def schema_sha256(model: type[BaseModel] = CaseReport) -> str:
    """A hash of the JSON Schema, recorded with every output line."""
    return sha256_text(canonical_json(schema_json(model)))
