"""Corpora made from a few real files, for tests and benchmarks of the streamed readers.

``jats_archive`` writes a PMC Open Access-style ``.tar.gz`` of ``n`` JATS
members by repeating the given articles, each copy under its own member name
and with its own PMCID (``PMC9000001``, ``PMC9000002``...), so that every
document of the archive has a distinct id, as in a real package.
"""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Sequence
from pathlib import Path

_PMCID = re.compile(rb'(<article-id pub-id-type="pmc(?:id)?">)(?:PMC)?\d+(</article-id>)')
FIRST_PMCID = 9_000_001


def with_pmcid(article: bytes, pmcid: str) -> bytes:
    """The JATS ``article`` with its PMC article id set to ``pmcid``."""
    return _PMCID.sub(rb"\g<1>" + pmcid.encode() + rb"\g<2>", article, count=1)


def jats_archive(path: Path, articles: Sequence[Path], n: int, folder: str = "oa") -> list[str]:
    """Write ``n`` members cycling through ``articles``; return the PMCIDs given, in order."""
    contents = [article.read_bytes() for article in articles]
    pmcids = []
    with tarfile.open(path, "w:gz") as archive:
        for index in range(n):
            pmcid = f"PMC{FIRST_PMCID + index}"
            data = with_pmcid(contents[index % len(contents)], pmcid)
            info = tarfile.TarInfo(f"{folder}/{index // 100:03d}/{pmcid}.nxml")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            pmcids.append(pmcid)
    return pmcids
