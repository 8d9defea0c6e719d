"""Versioned prompt templates: one folder per version under ``prompts/``.

A version folder holds ``system.md`` and ``user.md``; ``user.md`` has a
``{{ document }}`` slot for the document text and may have a ``{{ task }}``
slot, filled from ``tasks/<name>.md`` (the questions of the ``sections``
strategy: ``bibliographic``, ``patients``, ``tests``, ``course``; and
``whole``). Putting the document before the task lets a llama.cpp server
reuse the evaluated document across a document's section calls. The version
name and a hash of all its files go into every output line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from extractor.config import DEFAULT_PROMPT
from extractor.errors import ConfigError
from extractor.hashing import sha256_text

_SLOT = re.compile(r"\{\{\s*document\s*\}\}")
_TASK_SLOT = re.compile(r"\{\{\s*task\s*\}\}")
_ANY_SLOT = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def fill(template: str, **values: str) -> str:
    """``template`` with each ``{{ name }}`` slot replaced by ``values[name]``, in one pass.

    Filled text is never scanned again, so a document that contains
    ``{{ task }}`` stays as it is. A slot with no value is left untouched.
    """
    return _ANY_SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), template)


@dataclass(frozen=True)
class Prompt:
    """A loaded prompt version."""

    name: str
    system: str
    user: str
    tasks: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """All the prompt's text, as hashed and as part of cache keys."""
        tasks = "".join(f"\x00{name}\x00{text}" for name, text in sorted(self.tasks.items()))
        return self.system + "\x00" + self.user + tasks

    @property
    def sha256(self) -> str:
        """Hash of the prompt text (every file), recorded in provenance and cache keys."""
        return sha256_text(self.text)

    def messages(
        self, document_text: str, task: str = "whole", default: str | None = None
    ) -> list[dict[str, str]]:
        """The chat messages for one document (and one task of a multi-call strategy).

        ``default`` is the task's text when the prompt has no file for it (a
        prompt without a ``{{ task }}`` slot has nowhere to put it: an error).
        """
        slot = _TASK_SLOT.search(self.user) is not None
        missing = task not in self.tasks and (task != "whole" or slot)
        if missing and (default is None or not slot):  # a default needs a {{ task }} to go in
            raise ConfigError(f"prompt {self.name!r} has no tasks/{task}.md")
        user = fill(self.user, document=document_text, task=self.tasks.get(task, default or ""))
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


def prompts_dirs() -> list[Path]:
    """Where prompt versions are looked up, in order.

    ``$EXTRACTOR_PROMPTS_DIR``, ``./prompts``, then the folder shipped with
    the package (the repository's ``prompts/`` in a source checkout).
    """
    found = []
    if env := os.environ.get("EXTRACTOR_PROMPTS_DIR"):
        found.append(Path(env))
    found.append(Path.cwd() / "prompts")
    package = Path(__file__).resolve().parents[1]
    found += [package / "prompts", package.parent / "prompts"]
    return found


def load_prompt(name: str = DEFAULT_PROMPT) -> Prompt:
    """Load a prompt by version name or by the path of its folder."""
    candidates = [Path(name)] if ("/" in name or os.sep in name) else []
    candidates += [base / name for base in prompts_dirs()]
    for folder in candidates:
        if (folder / "user.md").is_file():
            return _read(folder)
    looked = ", ".join(str(c) for c in candidates)
    raise ConfigError(f"prompt {name!r} not found (looked in {looked}); pass a version folder name")


def _read(folder: Path) -> Prompt:
    system_path = folder / "system.md"
    system = system_path.read_text(encoding="utf-8") if system_path.is_file() else ""
    user = (folder / "user.md").read_text(encoding="utf-8")
    if not _SLOT.search(user):
        raise ConfigError(f"{folder / 'user.md'} has no {{{{ document }}}} slot")
    tasks = {
        path.stem: path.read_text(encoding="utf-8")
        for path in sorted((folder / "tasks").glob("*.md"))
    }
    return Prompt(name=folder.name, system=system, user=user, tasks=tasks)
