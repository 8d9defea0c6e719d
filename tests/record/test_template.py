"""Templates: what the framework derives from a record's markers, and the errors it refuses."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BaseModel, Field

from extractor.errors import TemplateError
from extractor.extraction.grounded import Grounded
from extractor.record.markers import Ask, Compare, Entities, Items, Quotes
from extractor.record.template import Template, blank_record, default_template, load_template
from extractor.templates.case import CaseRecord
from extractor.templates.nen import CaseReport, schema_sha256

# What the scorer scored before templates existed (``scoring.FIELDS``, fixed by the spec).
NEN_FIELDS = (
    "title", "doi", "journal", "year", "document_type", "reports_nen", "n_patients", "label",
    "age_years", "sex", "primary_site", "primary_site_text", "differentiation", "who_grade",
    "ki67_percent", "functional_syndrome", "metastatic", "metastatic_sites", "imaging",
    "biomarkers", "treatments", "treatments.response", "outcome.status",
    "outcome.follow_up_months",
)  # fmt: skip


def test_the_nen_template_derives_the_spec_fields_keys_and_comparators() -> None:
    template = default_template()
    assert template.model is CaseReport
    assert template.name == "extractor.templates.nen:CaseReport"
    assert template.fields == NEN_FIELDS
    assert template.entities == "patients"
    assert template.sha256 == schema_sha256()
    entity = template.entity
    assert entity is not None
    assert entity.quotes == "evidence"
    treatments = entity.list_field("treatments")
    assert (treatments.keys, treatments.per_key, treatments.quote) == (
        ("type", "agent"), ("response",), "evidence",
    )  # fmt: skip
    assert entity.list_field("imaging").keys == ("modality", "tracer")
    assert entity.list_field("metastatic_sites").item is None
    assert entity.compare["ki67_percent"] == Compare("within", absolute=0.5)
    assert template.document.compare["doi"] == Compare("doi")


def test_a_template_without_markers_gets_the_defaults() -> None:
    class Drug(BaseModel):
        name: str
        dose: str | None

    class Record(BaseModel):
        title: str | None
        drugs: list[Drug]
        tags: list[str]

    template = Template.of(Record)
    assert template.entities is None
    assert template.entity is None
    assert template.fields == ("title", "drugs", "tags")
    drugs = template.document.list_field("drugs")
    assert drugs.keys == ("name", "dose")  # a whole item is its key
    assert template.document.list_field("tags").item is None
    assert template.document.compare == {}  # exact for everything


def test_a_template_is_read_once_and_compared_by_identity() -> None:
    assert Template.of(CaseRecord) is load_template("extractor.templates.case:CaseRecord")
    assert default_template() is not Template.of(CaseRecord)


def test_blank_records_validate() -> None:
    for model in (CaseReport, CaseRecord):
        assert model.model_validate(blank_record(model))


def test_an_unknown_comparator_names_the_field() -> None:
    class Record(BaseModel):
        name: Annotated[str | None, Compare("fuzzy")]  # type: ignore[arg-type]

    with pytest.raises(TemplateError, match=r"Record\.name: unknown comparator 'fuzzy'"):
        Template.of(Record)


def test_a_list_key_naming_no_field_names_the_list() -> None:
    class Item(BaseModel):
        drug: str

    class Record(BaseModel):
        items: Annotated[list[Item], Items(keys=("agent",))]

    with pytest.raises(TemplateError, match=r"Record\.items: Items names 'agent'"):
        Template.of(Record)


def test_a_paired_list_that_is_not_a_list_of_models_names_the_field() -> None:
    class Record(BaseModel):
        patients: Annotated[list[str], Entities()]

    with pytest.raises(TemplateError, match=r"Record\.patients: marked Entities but is not a list"):
        Template.of(Record)


def test_a_quote_field_of_the_wrong_type_names_the_field() -> None:
    class Record(BaseModel):
        evidence: Annotated[int | None, Quotes()] = None

    with pytest.raises(TemplateError, match=r"Record\.evidence: Quotes must be"):
        Template.of(Record)


def test_a_nested_model_with_a_list_names_the_field() -> None:
    class Inner(BaseModel):
        values: list[str]

    class Record(BaseModel):
        inner: Inner

    with pytest.raises(TemplateError, match=r"Record\.inner: a nested model may hold only scalar"):
        Template.of(Record)


def test_the_grounded_strategy_refuses_an_unknown_finder_or_vocabulary_kind() -> None:
    class Record(BaseModel):
        age: Annotated[int | None, Ask("ages", "How old?")]

    with pytest.raises(TemplateError, match=r"Record\.age: unknown finder 'ages'"):
        Grounded(template=Template.of(Record))

    class Other(BaseModel):
        sex: Annotated[str | None, Ask("mentions", "Which sex?", vocabulary="sex")]

    with pytest.raises(TemplateError, match=r"Other\.sex: the vocabulary has no kind 'sex'"):
        Grounded(template=Template.of(Other))


def test_a_template_loads_from_a_file_outside_the_package(tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_text(
        textwrap.dedent(
            """
            from pydantic import BaseModel

            class Finding(BaseModel):
                organ: str | None
            """
        ),
        encoding="utf-8",
    )
    template = load_template(f"{path}:Finding")
    assert template.fields == ("organ",)
    assert template.name == f"{path.resolve()}:Finding"
    assert load_template(template.name) is template  # the name loads it again


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("no_colon", "wants module:Model"),
        ("extractor.no_such_module:Model", "cannot import template module"),
        ("extractor.templates.nen:Nothing", "is not a Pydantic model"),
        ("/nowhere/at/all.py:Model", "no template file"),
    ],
)
def test_a_bad_reference_is_a_clear_error(ref: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        load_template(ref)


def test_a_file_that_fails_to_import_says_why(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("raise RuntimeError('half-written')\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"does not import: RuntimeError: half-written"):
        load_template(f"{path}:Model")


def test_a_bounded_field_stays_bounded() -> None:
    class Record(BaseModel):
        age: int | None = Field(ge=0, le=120)

    assert Template.of(Record).schema["properties"]["age"]["anyOf"][0]["maximum"] == 120


def test_a_count_field_naming_no_field_names_the_list() -> None:
    class Person(BaseModel):
        age: int | None

    class Record(BaseModel):
        people: Annotated[list[Person], Entities(counted_by="n_people")]

    with pytest.raises(TemplateError, match=r"Record\.people: counted_by names 'n_people'"):
        Template.of(Record)
