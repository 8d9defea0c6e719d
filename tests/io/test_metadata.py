"""Metadata an input states: HTML meta tags, JSON keys, normalised fields, --ignore-metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from extractor.cli import commands as cli
from extractor.config import RunSettings
from extractor.io.documents import Document, read_document
from extractor.io.metadata import html_metadata, metadata_fields, normal_doi, normal_year, stated
from tests.conftest import FIXTURES, GOLD

CORPORA = FIXTURES / "corpora"
EXPECTED: dict[str, Any] = json.loads((CORPORA / "expected.json").read_text(encoding="utf-8"))
KEYS = ("title", "doi", "journal", "year")
SEED_001 = GOLD / "docs" / "001_0c99cf61126d16d0.txt"


@pytest.mark.parametrize("name", ["html/plos_one_article.html", "html/elife_article.html"])
def test_a_saved_page_states_its_metadata_in_meta_tags(name: str) -> None:
    doc = read_document(CORPORA / name)
    assert dict(doc.metadata) == {key: EXPECTED[name][key] for key in KEYS}


def _page(*tags: tuple[str, str]) -> str:
    metas = "".join(f'<meta name="{name}" content="{value}">' for name, value in tags)
    return f"<html><head>{metas}</head><body><p>Text.</p></body></html>"


def test_citation_tags_win_over_dublin_core_and_dates_give_the_year() -> None:
    page = _page(
        ("DC.title", "Dublin Core title"),
        ("citation_title", "Highwire title"),
        ("citation_online_date", "2020/01/05"),
        ("citation_publication_date", "2019/12/31"),
        ("citation_doi", "https://doi.org/10.12659/AJCR.921439"),
    )
    assert dict(html_metadata(page)) == {
        "title": "Highwire title",
        "doi": "10.12659/ajcr.921439",
        "year": 2019,
    }


def test_og_site_name_is_a_last_resort_and_never_an_aggregator() -> None:
    assert html_metadata(_page(("og:site_name", "Case Reports Online"))) == {}
    with_doi = ("dc.identifier", "doi:10.1186/s13256-021-02700-1")
    assert html_metadata(_page(with_doi, ("og:site_name", "BMC")))["journal"] == "BMC"
    assert "journal" not in html_metadata(_page(with_doi, ("og:site_name", "PubMed")))
    journal = ("citation_journal_title", "J Med Case Rep")
    assert html_metadata(_page(with_doi, journal, ("og:site_name", "BMC")))["journal"] == (
        "J Med Case Rep"
    )


def test_a_dc_identifier_that_is_no_doi_is_passed_over() -> None:
    page = _page(("dc.identifier", "urn:isbn:123"), ("prism.doi", "10.1000/xyz123"))
    assert html_metadata(page)["doi"] == "10.1000/xyz123"


def test_a_json_object_states_title_doi_journal_and_year(tmp_path: Path) -> None:
    record = json.loads(SEED_001.read_text(encoding="utf-8").splitlines()[1])
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    assert dict(read_document(path).metadata) == {
        "title": record["title"],
        "doi": "10.2967/jnmt.119.227058",
        "journal": "The Journal of Nuclear Medicine Technology",  # {"name": ...}
        "year": 2019,  # from "publicationDate": "2019-08-10"
    }


def test_a_text_carrying_its_json_record_on_a_line_states_it() -> None:
    doc = read_document(SEED_001)
    assert doc.metadata["doi"] == "10.2967/jnmt.119.227058"
    assert doc.metadata["year"] == 2019
    assert dict(read_document(GOLD / "docs" / "000_41db0c827232113d.txt").metadata) == {}


def test_plain_text_and_memory_documents_state_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text('A report.\n{"note": "not a record"}\n', encoding="utf-8")
    assert dict(read_document(path).metadata) == {}
    assert dict(Document.from_text("x", "text").metadata) == {}


def test_metadata_is_read_only_and_not_part_of_the_hash() -> None:
    doc = Document("a", "t", "h", "s", metadata=stated(title="T"))
    with pytest.raises(TypeError):
        doc.metadata["title"] = "changed"  # type: ignore[index]
    assert hash(doc) == hash(Document("a", "t", "h", "s"))


# --- metadata_fields -------------------------------------------------------------------


def test_fields_are_normalised_per_the_spec() -> None:
    doc = Document(
        "a", "t", "h", "s",
        metadata={"title": " A  case\nreport. ", "doi": "DOI: 10.1002/VMS3.71021",
                  "journal": " Vet Med  Sci ", "year": "2026-01-02"},
    )  # fmt: skip
    assert metadata_fields(doc) == {
        "title": "A case report",
        "doi": "10.1002/vms3.71021",
        "journal": "Vet Med Sci",
        "year": 2026,
    }


def test_fields_the_input_does_not_state_are_absent() -> None:
    assert metadata_fields(Document.from_text("a", "text")) == {}
    doc = Document("a", "t", "h", "s", metadata={"doi": "not a doi", "year": "n.d."})
    assert metadata_fields(doc) == {}


def test_a_pubmed_title_loses_its_full_stop_and_a_question_keeps_its_mark() -> None:
    doc = Document("a", "t", "h", "s", metadata=EXPECTED["pubmed/pubmed2.xml"]["first"])
    fields = metadata_fields(doc)
    assert fields["title"].endswith("Diplodus puntazzo (Cetti)")
    assert fields["title"].startswith("Is cryopreservation a homogeneous process? ")
    assert metadata_fields(Document("a", "t", "h", "s", metadata={"title": "Why?"})) == {
        "title": "Why?"
    }


@pytest.mark.parametrize(
    ("value", "doi"),
    [
        ("https://doi.org/10.7554/eLife.44753", "10.7554/elife.44753"),
        ("http://dx.doi.org/10.1016/S0140-6736(02)11602-3.", "10.1016/s0140-6736(02)11602-3"),
        ("(doi:10.1371/journal.pone.0147599)", "10.1371/journal.pone.0147599"),
        ("doi:10.1002/vms3.71021", "10.1002/vms3.71021"),
        ("ISBN 978-3", None),
    ],
)
def test_doi_normalisation(value: str, doi: str | None) -> None:
    assert normal_doi(value) == doi


@pytest.mark.parametrize(
    ("value", "year"),
    [(2019, 2019), ("Apr 22, 2019", 2019), ("2019/04/22", 2019), ("1998 Dec-1999 Jan", 1998),
     ("n.d.", None), (True, None), (12, None)],
)  # fmt: skip
def test_year_normalisation(value: object, year: int | None) -> None:
    assert normal_year(value) == year


# --- --ignore-metadata ----------------------------------------------------------------


def test_metadata_is_used_by_default() -> None:
    assert RunSettings().use_metadata is True


@pytest.mark.parametrize(("flags", "used"), [([], True), (["--ignore-metadata"], False)])
def test_ignore_metadata_flag_reaches_the_run_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, flags: list[str], used: bool
) -> None:
    seen: list[RunSettings] = []

    async def fake_extract_files(paths: Any, output: Any, config: Any, settings: RunSettings,
                                 **kwargs: Any) -> Any:  # fmt: skip
        seen.append(settings)
        raise SystemExit(0)

    monkeypatch.setattr(cli, "extract_files", fake_extract_files)
    doc = tmp_path / "a.txt"
    doc.write_text("A case.", encoding="utf-8")
    args = ["extract", str(doc), "-o", str(tmp_path / "out.jsonl"), "--base-url",
            "http://127.0.0.1:9/v1", "--no-cache", *flags]  # fmt: skip
    CliRunner().invoke(cli.app, args)
    assert [settings.use_metadata for settings in seen] == [used]
