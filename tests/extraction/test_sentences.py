"""Sentences with exact offsets: abbreviations, units, structure, long units, any input.

Every text here is invented for the test; none is taken from the corpus.
"""

from __future__ import annotations

import dataclasses
import random
import textwrap

import pytest

from extractor.extraction.sentences import MAX_SENTENCE_CHARS, Sentence, split_sentences


def texts(text: str) -> list[str]:
    return [sentence.text for sentence in split_sentences(text)]


def assert_exact(text: str, sentences: tuple[Sentence, ...]) -> None:
    """Offsets point into ``text``, in order, stripped, short, and lose nothing."""
    covered = [False] * len(text)
    previous_end = 0
    for position, sentence in enumerate(sentences):
        assert sentence.index == position
        assert text[sentence.start : sentence.end] == sentence.text
        assert sentence.text
        assert sentence.text == sentence.text.strip()
        assert len(sentence.text) <= MAX_SENTENCE_CHARS
        assert sentence.start >= previous_end
        previous_end = sentence.end
        covered[sentence.start : sentence.end] = [True] * (sentence.end - sentence.start)
    lost = [c for c, seen in zip(text, covered, strict=True) if not seen and not c.isspace()]
    assert lost == []


# --- sentence boundaries ------------------------------------------------------


@pytest.mark.parametrize(
    "sentences",
    [
        ["The mass is shown in Fig. 2 and Fig. 3B.", "It enhanced in the arterial phase."],
        ["Octreotide 100 µg was given s.c. twice daily.", "Flushing stopped."],
        ["Carboplatin was given i.v. on day 1 of each cycle.", "Neutropenia occurred once."],
        ["Several analogues, e.g. pasireotide, were discussed.", "None was started."],
        ["Median survival was 31 vs. 22 months.", "The trial was small."],
        ["She was seen by Dr. Marquez in March.", "Prof. Ahlberg confirmed the grade."],
        ["The nodule measured approx. 8 mm on MRI.", "It was not biopsied."],
        ["Comparable series were reported by Lindgren et al. in 2011.", "Ours was smaller."],
        ["Our findings agree with Osei et al. [14].", "However, follow-up was short."],
        ["Temozolomide 150 mg/m2 was combined with capecitabine.", "Fatigue was common."],
        ["The lesion measured 2.5 cm in the duodenal bulb.", "It was resected endoscopically."],
        ["The Ki-67 index of 3.5% placed the tumour in grade 2.", "Mitoses were rare."],
        ["The SUVmax of the nodule was 14.2.", "Uptake elsewhere was physiological."],
        ["Chromogranin A was 640 ng/mL.", "Pancreatic polypeptide was normal."],
        ["Creatinine rose to 2.3 mg/dL.", "Hydration was increased."],
        ["His temperature was 38.9 °C.", "Blood cultures grew nothing."],
        ["Telotristat was taken every 8 h.", "Stool frequency fell."],
        ["She had tried loperamide, codeine, etc.", "Nothing had helped."],
        ["The cells were positive for chromogranin A.", "Synaptophysin was also positive."],
        ["The margins were clear; the nodes were negative.", "No further therapy was given."],
        ["Ascites was present; CT also showed omental cake.", "Paracentesis followed."],
        ["Dr. A. Ferreira reviewed the images.", "Her report was brief."],
        ["He was referred for PRRT.", "177-Lu-DOTATATE was given in four cycles."],
        ["Was the liver lesion a primary tumour?", "Immunostaining suggested an ileal origin."],
    ],
)
def test_sentence_boundaries_in_case_report_prose(sentences: list[str]) -> None:
    text = " ".join(sentences)
    found = split_sentences(text)
    assert [sentence.text for sentence in found] == sentences
    assert_exact(text, found)


# --- line structure -----------------------------------------------------------


def test_a_heading_on_its_own_line_is_not_glued_to_the_next_sentence() -> None:
    text = "Case presentation\nA 52-year-old man presented with flushing. He had no history."
    assert texts(text) == [
        "Case presentation",
        "A 52-year-old man presented with flushing.",
        "He had no history.",
    ]


@pytest.mark.parametrize(
    "heading",
    ["Case presentation", "CASE REPORT", "Discussion", "Laboratory findings", "Methods:"],
)
def test_headings_between_paragraphs_without_blank_lines(heading: str) -> None:
    text = f"The patient was discharged on day six.\n{heading}\nRecovery was uneventful."
    assert texts(text) == [
        "The patient was discharged on day six.",
        heading,
        "Recovery was uneventful.",
    ]


def test_a_heading_before_a_hard_wrapped_paragraph() -> None:
    text = (
        "Background\n"
        "Goblet cell adenocarcinoma of the appendix is an uncommon tumour that is\n"
        "often found only after appendicectomy for presumed appendicitis. Staging\n"
        "follows the rules for colorectal adenocarcinoma."
    )
    assert texts(text) == [
        "Background",
        "Goblet cell adenocarcinoma of the appendix is an uncommon tumour that is\n"
        "often found only after appendicectomy for presumed appendicitis.",
        "Staging\nfollows the rules for colorectal adenocarcinoma.",
    ]


WRAPPED_PARAGRAPH = [
    "A 64-year-old woman was referred because of recurrent fasting hypoglycaemia "
    "that had been present for several months (Fig. 1).",
    "CT of the abdomen showed a 14 mm hypervascular lesion in the pancreatic body.",
    "Insulin was 41 µIU/mL during a supervised fast.",
    "The lesion was enucleated laparoscopically by Dr. Haugen, and NET G1 was confirmed.",
    "Her glucose has been normal since.",
]


@pytest.mark.parametrize("width", [44, 52, 60, 68, 72, 80, 96])
def test_hard_wrapped_lines_are_joined_and_offsets_keep_the_line_breaks(width: int) -> None:
    text = "Case presentation\n" + textwrap.fill(
        " ".join(WRAPPED_PARAGRAPH), width=width, break_on_hyphens=False
    )
    found = split_sentences(text)
    assert_exact(text, found)
    assert [s.text.replace("\n", " ") for s in found] == ["Case presentation", *WRAPPED_PARAGRAPH]
    assert any("\n" in s.text for s in found)


def test_a_word_hyphenated_at_a_line_break_stays_in_one_sentence() -> None:
    text = (
        "Histology showed a well-differentiated neuro-\n"
        "endocrine tumour with a low mitotic count. The Ki-67 index was 2%."
    )
    assert texts(text) == [
        "Histology showed a well-differentiated neuro-\nendocrine tumour with a low mitotic count.",
        "The Ki-67 index was 2%.",
    ]


def test_list_items_are_units_of_their_own() -> None:
    text = (
        "Current medication:\n"
        "- lanreotide 120 mg every 4 weeks\n"
        "- pancreatic enzyme supplements\n"
        "• vitamin D\n"
        "1. Metformin 1 g twice daily\n"
        "2. A statin at night\n"
        "(a) Primary tumour in the jejunum\n"
        "(b) Two mesenteric nodes"
    )
    assert texts(text) == [
        "Current medication:",
        "- lanreotide 120 mg every 4 weeks",
        "- pancreatic enzyme supplements",
        "• vitamin D",
        "1. Metformin 1 g twice daily",
        "2. A statin at night",
        "(a) Primary tumour in the jejunum",
        "(b) Two mesenteric nodes",
    ]


def test_table_rows_are_units_of_their_own() -> None:
    text = (
        "Analyte\tValue\tReference\n"
        "Serotonin\t1450 ng/mL\t50-200\n"
        "| Cycle | Activity | Toxicity |\n"
        "| 1 | 7.4 GBq | none |\n"
        "Calcium      2.61      2.15-2.55"
    )
    assert texts(text) == [
        "Analyte\tValue\tReference",
        "Serotonin\t1450 ng/mL\t50-200",
        "| Cycle | Activity | Toxicity |",
        "| 1 | 7.4 GBq | none |",
        "Calcium      2.61      2.15-2.55",
    ]


def test_blank_lines_separate_paragraphs_and_titles() -> None:
    text = "Abstract\n\nGastric NETs are rare\n\nThey are usually type 1.\n\n\n"
    assert texts(text) == ["Abstract", "Gastric NETs are rare", "They are usually type 1."]


# --- any input ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\n\t \r\n", "\u2028\u2029\x0c", "\xa0"])
def test_empty_and_blank_text_have_no_sentences(text: str) -> None:
    assert split_sentences(text) == ()


def test_crlf_tabs_and_unicode_keep_exact_offsets() -> None:
    text = (
        "Case presentation\r\n"
        "A 70-year-old man from Zürich had jaundice.\r\n\r\n"
        "CT showed a 3\u00a0cm mass\tin the pancreatic head. ERCP was performed 👍.\u2028"
        "Cytology showed cells with salt-and-pepper chromatin (e\u0301)."
    )
    found = split_sentences(text)
    assert [s.text for s in found] == [
        "Case presentation",
        "A 70-year-old man from Zürich had jaundice.",
        "CT showed a 3\u00a0cm mass\tin the pancreatic head.",
        "ERCP was performed 👍.",
        "Cytology showed cells with salt-and-pepper chromatin (e\u0301).",
    ]
    assert_exact(text, found)


def test_leading_and_trailing_whitespace_is_outside_the_offsets() -> None:
    text = "\n\n   The tumour was resected.   \n"
    (sentence,) = split_sentences(text)
    assert sentence == Sentence(0, 5, 29, "The tumour was resected.")


def test_sentences_are_frozen() -> None:
    (sentence,) = split_sentences("The tumour was resected.")
    with pytest.raises(dataclasses.FrozenInstanceError):
        sentence.start = 3  # type: ignore[misc]


FRAGMENTS = [
    "A 58-year-old man presented with diarrhoea.",
    "Octreotide was given s.c. (Fig. 2).",
    "Dr. Ibe et al. [4] described it, e.g. in 2019.",
    "Gastrin was 410 pg/mL.",
    "Ki-67 was 3.5%; CgA was 2.5 times normal.",
    "It measured approx. 2.5 cm vs. 1.1 cm",
    "Case presentation",
    "DISCUSSION",
    "- octreotide",
    "• PRRT",
    "1. surgery",
    "(b) nodes",
    "Na\t134\tmmol/L",
    "| a | b |",
    "mg/m2",
    "i.v.",
    "etc.",
    "“Quoted.”",
    "Zürich",
    "e\u0301",
    "👍",
    "...",
    "?!",
    ";",
    "(",
    ")",
    "neuro-",
    "x" * 700,
    "word " * 150,
    "a, " * 250,
    "b; " * 250,
]
SEPARATORS = ["", " ", " ", "\n", "\n\n", "\r\n", "\t", "\r", "\u2028", "\x0c", "\xa0", "\n   "]


def generated_texts(count: int) -> list[str]:
    rng = random.Random(20240611)
    generated = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(0, 40)):
            if rng.random() < 0.05:
                parts.append("".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(8)))
            else:
                parts.append(rng.choice(FRAGMENTS))
            parts.append(rng.choice(SEPARATORS))
        generated.append("".join(parts))
    return generated


@pytest.mark.parametrize("chunk", range(4))
def test_offsets_are_exact_for_generated_inputs(chunk: int) -> None:
    for text in generated_texts(1600)[chunk::4]:
        assert_exact(text, split_sentences(text))


# --- long units ---------------------------------------------------------------


def test_a_long_sentence_is_cut_after_semicolons_first() -> None:
    items = [f"lesion {n} in segment {n % 8 + 1} measured {n % 9 + 1} mm" for n in range(60)]
    text = "Imaging showed " + "; ".join(items) + "."
    found = split_sentences(text)
    assert len(found) > 1
    assert_exact(text, found)
    assert all(s.text.endswith(";") for s in found[:-1])
    assert all(len(s.text) > MAX_SENTENCE_CHARS // 4 for s in found[:-1])


def test_a_long_sentence_without_semicolons_is_cut_after_commas() -> None:
    text = "Drugs tried were " + ", ".join(f"agent number {n}" for n in range(100)) + "."
    found = split_sentences(text)
    assert len(found) > 1
    assert_exact(text, found)
    assert all(s.text.endswith(",") for s in found[:-1])


def test_a_long_run_without_punctuation_is_cut_at_whitespace_or_hard() -> None:
    words = "tumour " * 300
    found = split_sentences(words)
    assert_exact(words, found)
    assert all(s.text.endswith("tumour") for s in found)

    solid = "ACGT" * 1000
    pieces = split_sentences(solid)
    assert_exact(solid, pieces)
    assert [len(s.text) for s in pieces] == [600] * 6 + [400]


def test_a_hard_cut_does_not_start_a_piece_with_a_combining_mark() -> None:
    text = "e\u0301" * 500
    found = split_sentences(text)
    assert_exact(text, found)
    assert all(not s.text.startswith("\u0301") for s in found)


def test_a_table_dump_on_one_line_is_cut_into_small_units() -> None:
    row = "Chromogranin A 412 ng/mL, 5-HIAA 31 mg/24 h, gastrin 95 pg/mL, "
    text = "Laboratory values: " + row * 40
    found = split_sentences(text)
    assert len(found) >= len(text) // MAX_SENTENCE_CHARS
    assert_exact(text, found)


# --- speed --------------------------------------------------------------------


def test_a_megabyte_is_split_with_exact_offsets() -> None:
    """A long text splits whole; its speed is a benchmark figure (eval/bench), not asserted."""
    paragraph = (
        "Case presentation\n"
        "A 47-year-old woman was referred with flushing and diarrhoea of two\n"
        "years' duration. Chromogranin A was 530 ng/mL and urinary 5-HIAA was\n"
        "raised; CT showed a 2.1 cm ileal mass (Fig. 1) with liver lesions.\n"
        "She received lanreotide 120 mg s.c. every 28 days, e.g. as in CLARINET.\n\n"
    )
    text = (paragraph * (1_000_000 // len(paragraph) + 1))[:1_000_000]
    found = split_sentences(text)
    assert_exact(text, found)
    assert len(found) > 10_000
