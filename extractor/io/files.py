"""Plain files: which directory entries are read, and how their bytes become text.

Only regular files are opened (a FIFO named ``.txt`` would block a run for
ever); a symlink loop, a dangling link or an entry that cannot be looked at
raises, so that the caller gives it an error line instead of skipping it.
Text is UTF-8 (a BOM allowed) or UTF-16 with a BOM; a NUL anywhere is binary.
"""

from __future__ import annotations

import stat
from pathlib import Path

from extractor.errors import InputError

_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def is_folder(path: Path) -> bool:
    """True for a directory (or a link to one); False for anything that cannot be looked at."""
    try:
        return path.is_dir()
    except OSError:  # e.g. a folder that may be listed but not entered
        return False


def regular_size(path: Path) -> int:
    """The size of ``path``; ``InputError`` unless it is a regular file (a FIFO would block).

    A symlink loop or a dangling link raises its ``OSError``.
    """
    status = path.stat()
    if not stat.S_ISREG(status.st_mode):
        kind = _KINDS.get(stat.S_IFMT(status.st_mode), "a special file")
        raise InputError(f"{path}: not a regular file ({kind}); only regular files are read")
    return status.st_size


def decode(path: Path, raw: bytes) -> str:
    """Text from UTF-8 (a BOM allowed) or UTF-16 with a BOM; a NUL anywhere means binary."""
    utf16 = raw[:2] in {b"\xff\xfe", b"\xfe\xff"}
    if not utf16 and b"\x00" in raw:
        raise InputError(f"{path}: binary file (contains NUL bytes), not text")
    try:
        text = raw.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{path}: not {'UTF-16' if utf16 else 'UTF-8'} text (byte 0x{raw[e.start]:02x} "
            f"at offset {e.start}); convert it to UTF-8"
        ) from e
    if "\x00" in text:
        raise InputError(f"{path}: binary file (contains NUL characters), not text")
    return text
