"""Opening input files: the one place that turns OS errors into instrval errors.

Every reader (instruments, study files, rating exports, coding tables, expert decisions,
data tables) reads its file through :func:`read_input_bytes`, so a missing file, a folder
given for a file, or an unreadable file gets the same clear message and reason code
(``file_not_found``, ``not_a_file``, ``unreadable``) whatever the reader.
"""

from __future__ import annotations

import os
from pathlib import Path

from instrval.errors import InstrvalError, Problem

__all__ = ["read_input_bytes"]


def read_input_bytes(path: str | os.PathLike[str], *, error: type[InstrvalError],
                     what: str, limit: int | None = None) -> bytes:
    """Return the bytes of an input file (at most ``limit`` bytes when given).

    Parameters
    ----------
    path : path-like
    error : type of InstrvalError
        The error class the reader raises (``RatingsError``, ``StudyError``, ...).
    what : str
        What the file is, for messages ("rating export", "instrument file").
    limit : int, optional
        Read only the first ``limit`` bytes (to detect a format).

    Raises
    ------
    InstrvalError (of class ``error``)
        Naming the file, when it is missing, a folder, or cannot be read.
    """
    p = Path(path)
    name = str(path)
    try:
        if limit is None:
            return p.read_bytes()
        with open(p, "rb") as fh:
            return fh.read(limit)
    except FileNotFoundError:
        raise error(f"{what} not found: {name}",
                    [Problem("file_not_found", f"{what} not found", file=name)]) from None
    except IsADirectoryError:
        raise error(f"{what} is a directory, not a file: {name}",
                    [Problem("not_a_file", f"{what} is a directory, not a file",
                             file=name)]) from None
    except OSError as exc:
        msg = f"cannot read the {what}: {exc.strerror or exc}"
        raise error(f"{name}: {msg}", [Problem("unreadable", msg, file=name)]) from None
