"""The case-report record: ``shared/spec/case-record.md`` as Pydantic models.

The JSON keys, enumerations and nullability here are the contract between the
model's output, the hand-labelled gold files and the scorer. Every key is
required (a value or ``null``) except the optional ``evidence`` maps and
quotes, so that a record written by hand from the spec loads unchanged and a
model that forgets a key is asked again.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from extractor.hashing import canonical_json, sha256_text

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


class Imaging(_Record):
    """One imaging study type the patient had (modality + tracer)."""

    modality: Modality
    tracer: Tracer | None
    result: ImagingResult | None
    evidence: Quote | None = None


class Biomarker(_Record):
    """An immunohistochemistry or circulating marker with a reported result."""

    name: BiomarkerName
    specimen: Specimen | None
    result: BiomarkerResult | None
    evidence: Quote | None = None


class Treatment(_Record):
    """One treatment (one agent of a combination) in order of first use."""

    type: TreatmentType
    agent: str | None = Field(
        max_length=80, description="Lower-case generic name; null for surgery."
    )
    detail: str | None = Field(max_length=300)
    cycles: int | None = Field(ge=0)
    response: Response | None
    evidence: Quote | None = None


class Outcome(_Record):
    """Disease status at the last reported follow-up."""

    status: OutcomeStatus | None
    follow_up_months: float | None = Field(ge=0)
    evidence: OutcomeEvidence = Field(default_factory=OutcomeEvidence)


class Patient(_Record):
    """One individually described patient with a neuroendocrine neoplasm."""

    label: str | None = Field(max_length=50)
    age_years: int | None = Field(ge=0, le=120)
    sex: Sex | None
    primary_site: PrimarySite | None
    primary_site_text: ShortText | None
    differentiation: Differentiation | None
    who_grade: WhoGrade | None
    ki67_percent: float | None = Field(ge=0, le=100)
    functional_syndrome: ShortText | None
    metastatic: bool | None
    metastatic_sites: list[MetastaticSite] = Field(max_length=20)
    imaging: list[Imaging] = Field(max_length=20)
    biomarkers: list[Biomarker] = Field(max_length=20)
    treatments: list[Treatment] = Field(max_length=20)
    outcome: Outcome
    evidence: PatientEvidence = Field(default_factory=PatientEvidence)


class CaseReport(_Record):
    """The structured record of one published case report."""

    title: str | None = Field(max_length=400)
    doi: str | None = Field(max_length=100, description="Bare lower-case DOI, no https://doi.org/.")
    journal: ShortText | None
    year: int | None = Field(ge=1800, le=2100)
    document_type: DocumentType
    reports_nen: bool
    n_patients: int | None = Field(ge=0)
    patients: list[Patient] = Field(max_length=30)


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
