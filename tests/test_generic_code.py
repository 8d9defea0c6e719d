"""The generic code never names a field of the NEN record: only its template does.

Scoring, grounding, strategies, export and review read every field name from
the template's markers, so a user's record gets what the NEN record gets.
This test reads the source of every generic module and fails wherever it uses
a NEN field name or vocabulary kind as a name: quoted (``"age_years"``), as an
attribute (``.treatments``) or a keyword (``primary_site=``). Prose may name
them (a docstring's example). Words that are also the framework's own
(``title``, ``name``, ``evidence``, an HTTP ``response``, …) cannot be told
apart and are left out.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from pydantic import BaseModel

from extractor.record.template import default_template, item_model, model_of
from tests.conftest import REPO

GENERIC = [
    *sorted((REPO / "extractor").glob("*.py")),
    *sorted((REPO / "extractor" / "record").glob("*.py")),
    *sorted((REPO / "extractor" / "extraction").glob("*.py")),
    *sorted((REPO / "extractor" / "evaluation").glob("*.py")),
    *sorted((REPO / "extractor" / "review").rglob("*.py")),
    *sorted((REPO / "extractor" / "review" / "assets").glob("*.js")),
    *sorted((REPO / "extractor" / "cli").glob("*.py")),
    REPO / "extractor" / "io" / "export.py",
]
# Field names that are also the framework's own words (a document's title, a quote's evidence,
# a run's status), or words of the input formats (io reads a document's title, DOI and year).
ORDINARY = {
    "title", "doi", "journal", "year", "label", "evidence", "name", "type", "result", "status",
    "detail", "sex", "outcome", "response", "agent",
}  # fmt: skip
# The triage file's keys: which run's entity (``patient``) a slot is, kept from before templates.
TRIAGE_FORMAT = {("extractor/evaluation/agree.py", "patients"),
                 ("extractor/review/assets/adjudicate.js", "patients")}  # fmt: skip


def _names(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    if model in seen:
        return set()
    seen.add(model)
    names = set(model.model_fields)
    for info in model.model_fields.values():
        inner = item_model(info.annotation) or model_of(info.annotation)
        if inner is not None:
            names |= _names(inner, seen)
    return names


def code_lines(path: Path) -> list[tuple[int, str]]:
    """The lines of ``path``, comments and docstrings blanked (JavaScript: ``//`` comments)."""
    source = path.read_text(encoding="utf-8")
    if path.suffix == ".js":
        return [(n, line.split("//")[0]) for n, line in enumerate(source.splitlines(), start=1)]
    lines = source.splitlines()
    previous = tokenize.NEWLINE
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        starts = previous in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
        if token.type == tokenize.COMMENT or (token.type == tokenize.STRING and starts):
            (first, begin), (last, end) = token.start, token.end  # blanked: prose, not code
            for number in range(first, last + 1):
                line = lines[number - 1]
                left = begin if number == first else 0
                right = end if number == last else len(line)
                lines[number - 1] = line[:left] + " " * (right - left) + line[right:]
        if token.type not in (tokenize.COMMENT, tokenize.NL):
            previous = token.type
    return list(enumerate(lines, start=1))


def nen_words() -> set[str]:
    """The NEN record's field names and vocabulary kinds that only it would use."""
    template = default_template()
    words = _names(template.model, set()) | set(template.vocabulary.kinds())
    return {word for word in words if word not in ORDINARY}


def uses(path: Path, words: set[str]) -> list[tuple[int, str]]:
    """Where ``path`` uses one of ``words`` as a name: quoted, an attribute or a keyword."""
    names = "|".join(sorted(map(re.escape, words)))
    used = re.compile(rf"[\"'](?P<q>{names})[\"'.\[]|\.(?P<a>{names})\b|\b(?P<k>{names})\s*=[^=]")
    return [
        (number, match["q"] or match["a"] or match["k"])
        for number, line in code_lines(path)
        for match in used.finditer(line)
    ]


def test_the_check_finds_a_use_and_ignores_prose(tmp_path: Path) -> None:
    path = tmp_path / "sample.py"
    path.write_text(
        '"""Reads ``patients[0].age_years``."""\n\n'
        "def f(record):\n"
        '    """The ``treatments`` of ``record``."""\n'
        "    # the age_years of a patient\n"
        '    return record["patients"], record.age_years, dict(primary_site=1)\n',
        encoding="utf-8",
    )
    assert uses(path, nen_words()) == [(6, "patients"), (6, "age_years"), (6, "primary_site")]


def test_the_generic_modules_name_no_field_of_the_nen_record() -> None:
    words = nen_words()
    assert {"age_years", "primary_site", "treatments", "patients", "ki67_percent"} <= words
    found = [
        f"{where}:{number}: {name}"
        for path in GENERIC
        for where in [str(path.relative_to(REPO))]
        for number, name in uses(path, words)
        if (where, name) not in TRIAGE_FORMAT
    ]
    assert found == []
