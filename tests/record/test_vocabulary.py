"""Tests of extractor.record.vocabulary: the record values' surface forms and the matcher.

Every sentence here is invented for the test; none comes from the corpus or gold files.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from extractor.errors import ConfigError
from extractor.record.template import default_template
from extractor.record.vocabulary import Mention, Term, Vocabulary, vocabulary
from extractor.templates.nen import CaseReport
from tests.conftest import FIXTURES

HERE = Path(__file__).resolve()
SPEC_CANDIDATES = [parent / "shared" / "spec" / "case-record.md" for parent in HERE.parents]

# (section heading name, row key) -> vocabulary kind
ROW_KINDS = {
    ("CaseReport", "document_type"): "document_type",
    ("Patient", "sex"): "sex",
    ("Patient", "differentiation"): "differentiation",
    ("Patient", "who_grade"): "who_grade",
    ("Imaging", "modality"): "modality",
    ("Imaging", "tracer"): "tracer",
    ("Imaging", "result"): "imaging_result",
    ("Biomarker", "name"): "biomarker",
    ("Biomarker", "specimen"): "specimen",
    ("Biomarker", "result"): "biomarker_result",
    ("Treatment", "type"): "treatment_type",
    ("Treatment", "agent"): "agent",
    ("Treatment", "response"): "response",
    ("Outcome", "status"): "outcome_status",
}
PARAGRAPH_KINDS = {"Primary sites": "primary_site", "Metastatic sites": "metastatic_site"}
QUOTED = re.compile(r'`"([^"`]+)"`')


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return default_template().vocabulary


def _spec_text() -> str:
    """The spec beside the checkout, else its copy in the fixtures (a clone on its own)."""
    for candidate in [*SPEC_CANDIDATES, FIXTURES / "case-record.md"]:
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise AssertionError("no case-record.md: neither shared/spec/ nor tests/fixtures/")


def _spec_enums() -> dict[str, set[str]]:
    """The enumerated values of the spec, read from its markdown tables and paragraphs."""
    enums: dict[str, set[str]] = {}
    section = ""
    for line in _spec_text().splitlines():
        heading = re.match(r"#+ .*?`(\w+)`", line)
        if heading:
            section = heading.group(1)
        row = re.match(r"\| `(\w+)` \|(.*)", line)
        if row and (section, row.group(1)) in ROW_KINDS:
            kind = ROW_KINDS[(section, row.group(1))]
            enums.setdefault(kind, set()).update(QUOTED.findall(row.group(2)))
        if row and (section, row.group(1)) == ("Patient", "functional_syndrome"):
            enums["functional_syndrome"] = set(re.findall(r'"([^"]+)"', row.group(2)))
        paragraph = re.match(r"\*\*(.+?)\*\*:(.*)", line)
        if paragraph and paragraph.group(1) in PARAGRAPH_KINDS:
            enums[PARAGRAPH_KINDS[paragraph.group(1)]] = set(QUOTED.findall(paragraph.group(2)))
    enums.setdefault("agent", set()).update(re.findall(r'agent\s+`"([^"]+)"`', _spec_text()))
    return enums


def _key(form: str) -> str:
    """Forms compared loosely, independently of the module: case and punctuation ignored."""
    return re.sub(r"[\s\-‐‑‒–—−/_'’\[\]()]+", "", form).casefold()


def _found(vocab: Vocabulary, kind: str, text: str) -> list[tuple[str, str]]:
    return [(text[m.start : m.end], m.term.value) for m in vocab.find(kind, text)]


# --- the data against the spec ---------------------------------------------------------------


def test_the_spec_is_parsed_into_every_enumerated_kind() -> None:
    enums = _spec_enums()
    assert set(enums) == {*ROW_KINDS.values(), *PARAGRAPH_KINDS.values(), "functional_syndrome"}
    assert enums["modality"] >= {"CT", "PET/CT", "planar_scintigraphy", "other"}
    assert enums["functional_syndrome"] == {
        "carcinoid syndrome",
        "zollinger-ellison syndrome",
        "hypoglycaemia (insulinoma)",
        "cushing syndrome (ectopic acth)",
    }
    assert {"177Lu-DOTATATE", "octreotide", "interferon alfa"} <= enums["agent"]


def test_every_enum_value_of_the_spec_is_in_the_vocabulary(vocab: Vocabulary) -> None:
    for kind, values in _spec_enums().items():
        known = {term.value for term in vocab.terms(kind)}
        if kind == "agent":  # the spec's agent list ends with "…": the vocabulary has more
            assert values <= known, (kind, values - known)
        else:
            assert known == values, (kind, known ^ values)


def test_every_term_has_forms_and_the_kinds_are_the_specs(vocab: Vocabulary) -> None:
    assert set(vocab.kinds()) == set(_spec_enums())
    for kind in vocab.kinds():
        for term in vocab.terms(kind):
            assert term.kind == kind
            assert term.forms, term
            assert set(term.exact_forms) <= set(term.forms)


def test_no_form_is_listed_under_two_values_of_one_kind(vocab: Vocabulary) -> None:
    for kind in vocab.kinds():
        owner: dict[str, str] = {}
        for term in vocab.terms(kind):
            for form in term.forms:
                first = owner.setdefault(_key(form), term.value)
                assert first == term.value, f"{kind}: {form!r} under {first!r} and {term.value!r}"


def test_ncit_codes_look_like_ncit_codes(vocab: Vocabulary) -> None:
    codes = [term.code for kind in vocab.kinds() for term in vocab.terms(kind) if term.code]
    assert len(codes) > 20
    assert all(re.fullmatch(r"C\d+", code) for code in codes)
    assert vocab.code("primary_site", "pancreas") == "C12393"
    assert vocab.code("metastatic_site", "liver") == "C12392"
    assert vocab.code("modality", "CT") == "C17204"
    assert vocab.code("outcome_status", "partial_response") == vocab.code(
        "response", "partial_response"
    )
    assert vocab.code("primary_site", "other") is None
    assert vocab.code("primary_site", "no such value") is None


@pytest.mark.parametrize(
    ("agent", "implied"),
    [
        ("octreotide", "somatostatin_analogue"),
        ("lanreotide", "somatostatin_analogue"),
        ("everolimus", "targeted_therapy"),
        ("sunitinib", "targeted_therapy"),
        ("177Lu-DOTATATE", "prrt"),
        ("90Y-DOTATATE", "prrt"),
        ("cisplatin", "chemotherapy"),
        ("temozolomide", "chemotherapy"),
        ("omeprazole", "hormone_control"),
        ("diazoxide", "hormone_control"),
        ("interferon alfa", "other"),
    ],
)
def test_an_agent_implies_its_treatment_type(vocab: Vocabulary, agent: str, implied: str) -> None:
    term = vocab.term("agent", agent)
    assert term is not None
    assert term.implies == implied


def test_every_agent_implies_a_real_treatment_type_and_is_lower_case(vocab: Vocabulary) -> None:
    types = {term.value for term in vocab.terms("treatment_type")}
    for term in vocab.terms("agent"):
        assert term.implies in types, term.value
        radiopharmaceutical = re.match(r"\d+[A-Z][a-z]?-", term.value)
        assert radiopharmaceutical or term.value == term.value.lower(), term.value


def test_every_form_is_found_whole_and_as_its_own_value(vocab: Vocabulary) -> None:
    for kind in vocab.kinds():
        for term in vocab.terms(kind):
            for form in term.forms:
                found = _found(vocab, kind, f"({form})")
                assert found == [(form, term.value)], (kind, term.value, form, found)


# --- find -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "68Ga-DOTATATE",
        "Ga-68 DOTATATE",
        "Ga 68 DOTATATE",
        "Ga\u201168\u2011DOTATATE",  # non-breaking hyphens
        "Ga\u201368 DOTATATE",  # en dash
        "gallium-68 dotatate",
        "[68Ga]Ga-DOTA-TATE",
        "68Ga DOTA-TATE",
        "68-Ga-DOTATATE",
        "\u2076\u2078Ga-DOTATATE",  # superscript digits
    ],
)
def test_isotope_notations_are_one_tracer(vocab: Vocabulary, written: str) -> None:
    text = f"Staging with {written} PET/CT showed avid disease."
    assert _found(vocab, "tracer", text) == [(written, "68Ga-DOTATATE")]


def test_offsets_point_at_the_form(vocab: Vocabulary) -> None:
    text = (
        "A 61-year-old woman had a well-differentiated NET of the terminal ileum. "
        "In-111 octreotide SPECT/CT and Ga-68 DOTATOC PET/CT were positive; "
        "she received octreotide LAR and then four cycles of Lutathera."
    )
    mentions = vocab.find("tracer", text) + vocab.find("agent", text) + vocab.find("modality", text)
    assert mentions
    for mention in mentions:
        assert isinstance(mention, Mention)
        span = text[mention.start : mention.end]
        assert span == span.strip()
        assert vocab.normalise(mention.term.kind, span) == mention.term.value
    assert _found(vocab, "modality", text) == [("SPECT/CT", "SPECT/CT"), ("PET/CT", "PET/CT")]
    assert _found(vocab, "agent", text) == [
        ("octreotide LAR", "octreotide"),
        ("Lutathera", "177Lu-DOTATATE"),
    ]


def test_mentions_are_left_to_right_longest_and_non_overlapping(vocab: Vocabulary) -> None:
    text = (
        "Baseline positron emission tomography-computed tomography, then single-photon "
        "emission computed tomography/computed tomography; later a CT scan and an MRI."
    )
    found = _found(vocab, "modality", text)
    assert [value for _, value in found] == ["PET/CT", "SPECT/CT", "CT", "MRI"]
    assert found[0][0] == "positron emission tomography-computed tomography"
    spans = [(m.start, m.end) for m in vocab.find("modality", text)]
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("response", "a near-complete response after PRRT", "partial_response"),
        ("outcome_status", "no evidence of disease progression at 2 years", "stable_disease"),
        ("outcome_status", "no evidence of disease at 2 years", "no_evidence_of_disease"),
        ("metastatic_site", "enlarged mesenteric lymph nodes", "lymph_node"),
        ("metastatic_site", "a mesenteric deposit with fibrosis", "mesentery"),
        (
            "treatment_type",
            "endoscopic mucosal resection of the rectal polyp",
            "endoscopic_resection",
        ),
        ("treatment_type", "a laparoscopic distal pancreatectomy", "surgery"),
        (
            "treatment_type",
            "radiofrequency ablation of two liver lesions",
            "liver_directed_therapy",
        ),
        ("treatment_type", "concurrent chemoradiotherapy was given", "chemoradiotherapy"),
        ("primary_site", "a polyp at the hepatic flexure", "colon"),
    ],
)
def test_the_longest_form_wins(vocab: Vocabulary, kind: str, text: str, expected: str) -> None:
    assert [value for _, value in _found(vocab, kind, text)][:1] == [expected]


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("biomarker", "The response to therapy was excellent."),  # "nse" inside "response"
        ("modality", "Plasma ACTH was high."),  # "CT" inside "ACTH"
        ("biomarker", "a duodenal gastrinoma"),  # not the hormone gastrin
        ("biomarker", "a small insulinoma"),  # not the hormone insulin
        ("sex", "No family history; the patient is a female."),
        ("primary_site", "peripancreatic and retroperitoneal fat"),
        ("metastatic_site", "a retroperitoneal collection"),
        ("primary_site", "the statistical analysis"),  # "anal" inside "analysis"
        ("who_grade", "a CTCAE G12 event"),
    ],
)
def test_word_boundaries_hold(vocab: Vocabulary, kind: str, text: str) -> None:
    found = _found(vocab, kind, text)
    if kind == "sex":
        assert found == [("female", "female")]
    elif kind == "primary_site" and "retroperitoneal" in text:
        assert found == [("retroperitoneal", "retroperitoneum")]
    else:
        assert found == []


def test_abbreviations_marked_exact_keep_their_case(vocab: Vocabulary) -> None:
    assert _found(vocab, "differentiation", "a pancreatic NEC") == [("NEC", "poor")]
    assert _found(vocab, "differentiation", "neque nec ultra") == []
    assert _found(vocab, "modality", "the family pet was well") == []
    assert _found(vocab, "modality", "PET showed uptake") == [("PET", "PET/CT")]
    assert _found(vocab, "modality", "a ct value") == []
    assert _found(vocab, "primary_site", "a CUP syndrome") == [("CUP", "unknown")]
    assert _found(vocab, "primary_site", "a cup of tea") == []


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("metastatic_site", "two lymph nodes", ("lymph nodes", "lymph_node")),
        ("primary_site", "both ovaries", ("ovaries", "ovary")),
        ("differentiation", "two NECs", ("NECs", "poor")),
        ("treatment_type", "two surgeries", ("surgeries", "surgery")),
        ("agent", "somatostatin analogues", None),
        (
            "treatment_type",
            "somatostatin analogues",
            ("somatostatin analogues", "somatostatin_analogue"),
        ),
        (
            "treatment_type",
            "somatostatin analogs",
            ("somatostatin analogs", "somatostatin_analogue"),
        ),
    ],
)
def test_plurals_and_spellings(
    vocab: Vocabulary, kind: str, text: str, expected: tuple[str, str] | None
) -> None:
    assert _found(vocab, kind, text) == ([expected] if expected else [])


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("primary_site", "an oesophageal mass", "other"),
        ("primary_site", "an esophageal mass", "other"),
        ("primary_site", "a caecal tumour", "colon"),
        ("primary_site", "a cecal tumor", "colon"),
        ("functional_syndrome", "recurrent hypoglycemia", "hypoglycaemia (insulinoma)"),
        ("functional_syndrome", "recurrent hypoglycaemia", "hypoglycaemia (insulinoma)"),
        ("treatment_type", "transarterial chemoembolization", "liver_directed_therapy"),
        ("treatment_type", "transarterial chemoembolisation", "liver_directed_therapy"),
        ("biomarker", "neurone-specific enolase", "nse"),
        ("functional_syndrome", "ectopic Cushing’s syndrome", "cushing syndrome (ectopic acth)"),
    ],
)
def test_british_and_american_spellings_and_apostrophes(
    vocab: Vocabulary, kind: str, text: str, value: str
) -> None:
    assert [found for _, found in _found(vocab, kind, text)] == [value]


@pytest.mark.parametrize(
    ("brand", "generic"),
    [
        ("Lutathera", "177Lu-DOTATATE"),
        ("lutetium-177 dotatate", "177Lu-DOTATATE"),
        ("177Lu-DOTA-TATE", "177Lu-DOTATATE"),
        ("Sandostatin", "octreotide"),
        ("Sandostatin LAR", "octreotide"),
        ("octreotide LAR", "octreotide"),
        ("Somatuline Depot", "lanreotide"),
        ("Somatuline Autogel", "lanreotide"),
        ("Afinitor", "everolimus"),
        ("Sutent", "sunitinib"),
        ("Temodar", "temozolomide"),
        ("Temodal", "temozolomide"),
        ("Xeloda", "capecitabine"),
        ("streptozotocin", "streptozocin"),
        ("5-FU", "fluorouracil"),
        ("VP-16", "etoposide"),
        ("sulfatinib", "surufatinib"),
        ("IFN-α", "interferon alfa"),
        ("Cabometyx", "cabozantinib"),
    ],
)
def test_brand_names_and_variants_map_to_the_generic(
    vocab: Vocabulary, brand: str, generic: str
) -> None:
    text = f"She was treated with {brand} for six months."
    assert _found(vocab, "agent", text) == [(brand, generic)]
    assert vocab.normalise("agent", brand) == generic


def test_agents_also_name_their_treatment_type(vocab: Vocabulary) -> None:
    text = "Sandostatin LAR was combined with Afinitor; cisplatin and VP-16 followed."
    assert [value for _, value in _found(vocab, "treatment_type", text)] == [
        "somatostatin_analogue",
        "targeted_therapy",
        "chemotherapy",
        "chemotherapy",
    ]


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("agent", "In-111 octreotide scintigraphy was negative."),
        ("agent", "An octreotide scan was performed."),
        ("treatment_type", "Indium-111 octreotide imaging showed no uptake."),
        ("modality", "A CT-guided biopsy of the liver."),
        ("differentiation", "She had carcinoid syndrome."),
        ("differentiation", "a history of non-small cell lung cancer"),
        ("functional_syndrome", "INSM1 (insulinoma-associated protein 1) was diffusely positive"),
        ("metastatic_site", "valve replacement for carcinoid heart disease"),
        ("response", "median progression-free survival"),
    ],
)
def test_ignored_phrases_hide_the_shorter_form_inside_them(
    vocab: Vocabulary, kind: str, text: str
) -> None:
    assert _found(vocab, kind, text) == []


def test_a_post_therapy_scan_of_the_agent_is_tracer_other(vocab: Vocabulary) -> None:
    text = "Post-therapy 177Lu SPECT/CT confirmed uptake; 90Y-DOTATATE was not given."
    assert [value for _, value in _found(vocab, "tracer", text)] == ["other", "other"]


def test_a_bare_nuclide_names_no_tracer(vocab: Vocabulary) -> None:
    assert _found(vocab, "tracer", "Ga-68 SSR PET showed a small lesion.") == []


def test_find_is_fast_on_a_long_text(vocab: Vocabulary) -> None:
    sentence = (
        "A 47-year-old man with a grade 2 well-differentiated pancreatic NET and liver "
        "metastases had Ga-68 DOTATATE PET/CT, started lanreotide and later had PRRT with "
        "Lutathera; chromogranin A was elevated and he remains alive with stable disease. "
    )
    text = (sentence * (100_000 // len(sentence) + 1))[:100_000]
    for kind in vocab.kinds():
        vocab.find(kind, "warm up")  # compile every kind first
    started = time.perf_counter()
    total = sum(len(vocab.find(kind, text)) for kind in vocab.kinds())
    elapsed = time.perf_counter() - started
    assert total > 1000
    assert elapsed < 5.0, elapsed


# --- normalise ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "answer", "value"),
    [
        ("agent", "Lutathera", "177Lu-DOTATATE"),
        ("agent", "Sandostatin LAR", "octreotide"),
        ("agent", "OCTREOTIDE", "octreotide"),
        ("modality", "positron emission tomography", "PET/CT"),
        ("modality", "pet/ct", "PET/CT"),
        ("modality", "PET-CT", "PET/CT"),
        ("modality", "Ga-68 DOTATOC PET/CT", "PET/CT"),
        ("tracer", "Ga-68 DOTATOC PET/CT", "68Ga-DOTATOC"),
        ("tracer", "Octreoscan", "111In-pentetreotide"),
        ("primary_site", "small intestine", "small_intestine"),
        ("primary_site", "Small_Intestine", "small_intestine"),
        ("primary_site", "The tumour arose in the terminal ileum.", "small_intestine"),
        ("primary_site", "unknown", "unknown"),
        ("primary_site", "carcinoma of unknown primary", "unknown"),
        ("biomarker", "Chromogranin A (CgA)", "chromogranin_a"),
        ("biomarker", "5-HIAA", "5-hiaa"),
        ("functional_syndrome", "Zollinger-Ellison syndrome", "zollinger-ellison syndrome"),
        ("functional_syndrome", "insulinoma", "hypoglycaemia (insulinoma)"),
        ("functional_syndrome", "ACTH-secreting tumour", "cushing syndrome (ectopic acth)"),
        ("differentiation", "poorly differentiated neuroendocrine carcinoma", "poor"),
        ("differentiation", "typical carcinoid", "well"),
        ("who_grade", "grade II", "G2"),
        ("who_grade", "g3", "G3"),
        ("outcome_status", "passed away", "died"),
        ("outcome_status", "NED", "no_evidence_of_disease"),
        ("treatment_type", "appendicectomy", "surgery"),
        ("treatment_type", "Whipple procedure", "surgery"),
        ("treatment_type", "watchful waiting", "surveillance"),
        ("treatment_type", "iodine-125 seed implantation", "radiotherapy"),
        ("treatment_type", "interferon", "other"),
        ("sex", "woman", "female"),
    ],
)
def test_normalise_maps_an_answer_to_the_enum_value(
    vocab: Vocabulary, kind: str, answer: str, value: str
) -> None:
    assert vocab.normalise(kind, answer) == value


@pytest.mark.parametrize(
    ("kind", "answer"),
    [
        ("agent", "banana"),
        ("agent", ""),
        ("modality", "not stated"),
        ("primary_site", "null"),
        ("tracer", "Ga-68"),
        ("differentiation", "low-grade NET"),
        ("who_grade", "low grade"),
        ("who_grade", "intermediate-grade"),
        ("agent", "CAPTEM"),
    ],
)
def test_normalise_returns_none_for_what_names_no_value(
    vocab: Vocabulary, kind: str, answer: str
) -> None:
    assert vocab.normalise(kind, answer) is None


def test_unknown_kinds_and_fields_are_key_errors(vocab: Vocabulary) -> None:
    with pytest.raises(KeyError, match="no kind"):
        vocab.find("colour", "red")
    with pytest.raises(KeyError, match="no cues"):
        vocab.cues("colour")
    assert vocab.term("primary_site", "moon") is None


# --- cues -----------------------------------------------------------------------------------

CUE_FIELDS = [
    "age_years", "ki67_percent", "follow_up_months", "metastatic", "n_patients",
    "title", "doi", "journal", "year", "label",
]  # fmt: skip


@pytest.mark.parametrize("field", CUE_FIELDS)
def test_every_free_valued_field_has_cues(vocab: Vocabulary, field: str) -> None:
    assert vocab.cues(field)


@pytest.mark.parametrize(
    ("field", "text", "spans"),
    [
        ("age_years", "A 45-year-old man", ["year-old"]),
        ("age_years", "aged 45 years", ["aged"]),
        (
            "ki67_percent",
            "The Ki67 index was 3%; MIB-1 labelling index 4%",
            ["Ki67 index", "MIB-1", "labelling index"],
        ),
        ("follow_up_months", "She survived 3 years", ["survived"]),
        ("follow_up_months", "followed up for 27 months", ["followed up"]),
        (
            "metastatic",
            "multiple liver metastases and a peritoneal deposit",
            ["metastases", "deposit"],
        ),
        ("metastatic", "staged pT2 N1 M0", ["N1", "M0"]),
        ("reports_nen", "a rectal NET and two NETs", ["NET", "NETs"]),
    ],
)
def test_find_cues(vocab: Vocabulary, field: str, text: str, spans: list[str]) -> None:
    assert [text[a:b] for a, b in vocab.find_cues(field, text)] == spans


# --- loading ----------------------------------------------------------------------------------


def test_the_default_vocabulary_is_loaded_once(vocab: Vocabulary) -> None:
    assert default_template().vocabulary is vocab
    # loads are cached per resolved path: the same file by another route is the same object
    assert vocabulary(CaseReport.vocabulary_file) is vocab
    assert vocabulary(CaseReport.vocabulary_file.parent / ".." / "templates" / "nen.toml") is vocab
    term = vocab.terms("sex")[0]
    assert isinstance(term, Term)
    with pytest.raises(FrozenInstanceError):
        term.value = "x"  # type: ignore[misc]


SMALL = """
[spelling]
pairs = [["tumour", "tumor"]]

[colour.red]
code = "C1"
forms = ["red", "scarlet tumour"]
exact = ["RD"]

[colour.blue]
forms = ["blue", "azur*"]

[shade.red]
same_as = "colour"
forms = ["crimson"]

[ignore]
colour = ["red herring"]

[cues.size]
forms = ["cm", "size"]
"""


def test_a_small_file_of_ones_own(tmp_path: Path) -> None:
    path = tmp_path / "vocabulary.toml"
    path.write_text(SMALL, encoding="utf-8")
    small = vocabulary(path)
    assert small.kinds() == ("colour", "shade")
    text = "A scarlet tumor, an RD spot, rd ink, an azurite stone and a red herring."
    assert _found(small, "colour", text) == [
        ("scarlet tumor", "red"),
        ("RD", "red"),
        ("azurite", "blue"),
    ]
    assert small.code("shade", "red") == "C1"
    assert small.normalise("shade", "deep crimson") == "red"
    assert small.normalise("shade", "scarlet") is None
    assert small.find_cues("size", "a 2 cm mass") == [(4, 6)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[colour.red\nforms = 1", "not valid TOML"),
        (
            '[colour.red]\nforms = ["red"]\n[colour.blue]\nforms = ["Red"]',
            "'Red' is listed under both 'red' and 'blue'",
        ),
        ('[colour.red]\nforms = ["red"]\ncode = "12345"', "not an NCIt code"),
        ('[colour.red]\nforms = ["red"]\ncolor = 1', "unknown keys"),
        ('[colour.red]\ncode = "C1"', "needs forms"),
        ('[colour.red]\nforms = ["red", ""]', "non-empty strings"),
        (
            '[implies]\ncolour = "treatment_type"\n[treatment_type.chemotherapy]\n'
            'forms = ["chemo"]\n[colour.red]\nforms = ["red"]\nimplies = "surgery"',
            "implies 'surgery', which is not a treatment_type",
        ),
        (
            '[colour.red]\nforms = ["red"]\nimplies = "surgery"',
            "[implies] does not say of which kind for colour",
        ),
        ('[colour.red]\nforms = ["red"]\n[implies]\ncolour = "hue"', "names an unknown kind"),
        ('[colour.red]\nforms = ["red"]\n[shade.red]\nsame_as = "hue"', "same_as 'hue'"),
        ('[colour.red]\nforms = ["red"]\n[ignore]\ncolour = ["red"]', "listed under both"),
        ('[colour.red]\nforms = ["red"]\n[ignore]\nhue = ["x"]', "unknown kind 'hue'"),
    ],
)
def test_a_bad_file_raises_config_error_naming_the_problem(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        vocabulary(path)


def test_a_missing_file_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read vocabulary"):
        vocabulary(tmp_path / "absent.toml")
