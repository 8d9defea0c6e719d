"""How many patients a case report describes, and the sentences of each."""

from __future__ import annotations

from extractor.extraction.entities import blocks, entity_count, series_count
from extractor.extraction.evidence import Evidence

SERIES = (
    "We describe two such cases. In the first case, the tumour arose in the retroperitoneum, "
    "and in the second case, the patient was a woman with a pelvic tumour. "
    "Both patients were treated with PRRT."
)


def test_two_patients_introduced_in_one_sentence_are_two_blocks() -> None:
    evidence = Evidence(SERIES)
    assert entity_count(evidence) == 2
    found = blocks(evidence, 2)
    assert [(block.label, block.named) for block in found] == [
        ("Case 1", "the first case"), ("Case 2", "the second case"),
    ]  # fmt: skip
    first, second = (" ".join(s.text for s in block.evidence.sentences) for block in found)
    assert "retroperitoneum" in first
    assert "pelvic" not in first
    assert "pelvic" in second
    assert "Both patients were treated" in first  # a sentence about both belongs to each
    assert "Both patients were treated" in second
    assert all(s.text in SERIES for block in found for s in block.evidence.sentences)  # verbatim


def test_a_single_patient_reads_the_whole_document_and_counts_are_bounded() -> None:
    evidence = Evidence("A 60-year-old man presented with flushing.")
    assert entity_count(evidence) == 1
    assert blocks(evidence, 1) == [(None, evidence, None)]
    assert blocks(evidence, 0) == []
    assert series_count("We present three cases.") == 3
    assert series_count("We reviewed 250 patients treated elsewhere.") == 0
