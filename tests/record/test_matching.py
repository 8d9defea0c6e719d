"""Comparators, item keys and patient pairing (``extractor.record.matching``)."""

from __future__ import annotations

import itertools
import random

import pytest

from extractor.record.matching import (
    assign,
    comparator_of,
    normalise_doi,
    normalise_text,
    pair_entities,
    per_key_values,
    same_doi,
    same_text,
    same_title,
)
from extractor.record.template import default_template
from tests.conftest import PATIENT_A, PATIENT_B, patient, report, treatment

ENTITY = default_template().entity
assert ENTITY is not None
TREATMENTS = ENTITY.list_field("treatments")

# --- comparators ---


def test_normalise_text_folds_case_whitespace_and_one_trailing_full_stop() -> None:
    assert normalise_text("  The  Case\nReport.. ") == "the case report."


@pytest.mark.parametrize(
    "predicted",
    [
        "https://doi.org/10.12659/AJCR.921439",
        "http://dx.doi.org/10.12659/ajcr.921439",
        "doi: 10.12659/ajcr.921439",
        "DOI:10.12659/ajcr.921439",
        " 10.12659/AJCR.921439 ",
    ],
)
def test_doi_prefix_and_case_are_ignored(predicted: str) -> None:
    assert normalise_doi(predicted) == "10.12659/ajcr.921439"
    assert same_doi("10.12659/ajcr.921439", predicted)


def test_different_dois_differ() -> None:
    assert not same_doi("10.12659/ajcr.921439", "10.12659/ajcr.921440")


def test_title_trailing_full_stop_and_case_match() -> None:
    assert same_title("Long-Term Follow-Up of a NET", "long-term follow-up of a net.")


def test_title_similar_enough_matches_and_different_title_does_not() -> None:
    title = "Primary presacral neuroendocrine tumor: a case report with literature review"
    assert same_title(title, title.replace("tumor", "tumour"))
    assert not same_title(title, "Presacral tumours: a review")


def test_text_comparison_ignores_case_and_spacing() -> None:
    assert same_text("Carcinoid  syndrome", "carcinoid syndrome.")
    assert not same_text("carcinoid syndrome", "cushing syndrome")


@pytest.mark.parametrize(
    ("gold", "predicted", "same"), [(2, 1.9, True), (2, 2.5, True), (2, 1.4, False), (2, 3, False)]
)
def test_ki67_within_half_a_point(gold: float, predicted: float, same: bool) -> None:
    assert comparator_of(ENTITY.compare.get("ki67_percent"))(gold, predicted) is same


@pytest.mark.parametrize(
    ("gold", "predicted", "same"),
    [(96, 90, True), (90, 96, True), (96, 80, False), (80, 96, False), (0, 0, True), (0, 1, False)],
)
def test_follow_up_within_ten_percent_of_gold(gold: float, predicted: float, same: bool) -> None:
    assert comparator_of(ENTITY.compare.get("outcome.follow_up_months"))(gold, predicted) is same


# --- pairing ---


def test_duplicated_treatment_key_takes_first_non_null_response() -> None:
    record = report(
        [
            patient(
                treatments=[
                    treatment("somatostatin_analogue", "octreotide"),
                    treatment("somatostatin_analogue", "Octreotide", "stable_disease"),
                    treatment("somatostatin_analogue", "octreotide", "progressive_disease"),
                ]
            )
        ]
    )
    assert per_key_values(record.patients[0], TREATMENTS, "response") == {
        ("somatostatin_analogue", "octreotide"): "stable_disease"
    }


def test_assign_finds_the_best_total_not_the_greedy_one() -> None:
    assert assign([[3, 2], [2, 0]]) == [1, 0]


def test_assign_rectangular_leaves_surplus_rows_unassigned() -> None:
    assert assign([[1, 5, 3], [4, 2, 9]]) == [1, 2]
    assert assign([[1, 4], [5, 2], [3, 9]]) == [None, 0, 1]
    assert assign([]) == []


def test_assign_matches_brute_force_on_random_matrices() -> None:
    """The Hungarian assignment reaches the best total that any one-to-one pairing can."""
    rng = random.Random(7)
    for _ in range(200):
        rows, columns = rng.randint(1, 5), rng.randint(1, 5)
        weights = [[rng.randint(0, 6) for _ in range(columns)] for _ in range(rows)]
        result = assign(weights)
        chosen = [column for column in result if column is not None]
        assert len(chosen) == len(set(chosen)) == min(rows, columns)
        got = sum(weights[row][column] for row, column in enumerate(result) if column is not None)
        if rows <= columns:
            best = max(
                sum(weights[row][column] for row, column in enumerate(perm))
                for perm in itertools.permutations(range(columns), rows)
            )
        else:
            best = max(
                sum(weights[row][column] for column, row in enumerate(perm))
                for perm in itertools.permutations(range(rows), columns)
            )
        assert got == best, weights


def test_pairing_recovers_reordered_patients() -> None:
    gold = report([PATIENT_A, PATIENT_B]).patients
    predicted = report([PATIENT_B, PATIENT_A]).patients
    assert pair_entities(predicted, gold, ENTITY) == [(1, 0), (0, 1)]


def test_pairing_ties_keep_list_order() -> None:
    patients = report([PATIENT_A, PATIENT_A, PATIENT_A]).patients
    assert pair_entities(patients, patients, ENTITY) == [(0, 0), (1, 1), (2, 2)]


def test_pairing_lists_unpaired_patients_on_either_side() -> None:
    one, two = report([PATIENT_A]).patients, report([PATIENT_B, PATIENT_A]).patients
    assert pair_entities(one, two, ENTITY) == [(None, 0), (0, 1)]
    assert pair_entities(two, one, ENTITY) == [(1, 0), (0, None)]
    assert pair_entities([], one, ENTITY) == [(None, 0)]
    assert pair_entities(one, [], ENTITY) == [(0, None)]
