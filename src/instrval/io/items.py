"""Item data and factor-model files, read for the statistics.

* :func:`read_item_table` reads a data file as a :class:`~instrval.io.tables.Table`: a
  plain CSV/TSV/XLSX table of item columns, or a rating export (wide, long, REDCap,
  Qualtrics, SPSS; CSV, XLSX, Parquet, ``.sav``) read with
  :func:`instrval.io.ratings.read_ratings` against an instrument, exactly as
  ``instrval ratings check`` reads it.
* :func:`read_item_data` selects the item columns (an instrument's likert and binary
  items, one construct, named items, or every column holding numbers), checks that every
  cell is a number or blank and reverses reverse-keyed items on request; it returns an
  :class:`ItemData` with the frame, the items, the keys and where they came from.
* :func:`read_cfa_model` reads a factor-model file: lavaan syntax or a YAML/JSON mapping
  ``{factor: [item, ...]}``.

Every problem raises :class:`~instrval.errors.StatisticsError` naming the file, and the
row, column and value where there is one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from instrval._result import Result
from instrval.errors import InstrvalError, Problem, StatisticsError

if TYPE_CHECKING:
    import pandas as pd

    from instrval.io.tables import Table
    from instrval.model.instrument import Instrument

__all__ = ["EXPORT_SUFFIXES", "ItemData", "is_parquet_input", "read_cfa_model",
           "read_item_data", "read_item_table", "read_parquet_table"]

#: Files that only the rating readers read (never a plain table).
EXPORT_SUFFIXES = (".parquet", ".sav", ".zsav")

_SYNTAX = re.compile(r"=~|~~|~\s*1")


def _instrument(instrument: Any) -> Instrument:
    from instrval.io.instrument import read_instrument

    return read_instrument(instrument) if isinstance(instrument, (str, os.PathLike)) \
        else instrument


def is_parquet_input(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is Parquet: a ``.parquet``/``.pq`` file, a folder of parts, a
    glob of files that does not name an existing file, or a URL (``s3://...``)."""
    from instrval.io.files import is_url

    s = os.fspath(path)
    if is_url(s):
        return True
    p = Path(s)
    if p.is_dir() or p.suffix.lower() in (".parquet", ".pq"):
        return True
    return any(ch in s for ch in "*?[") and not p.exists()


def read_parquet_table(path: str | os.PathLike[str], *,
                       error: type[InstrvalError] = StatisticsError) -> Table:
    """Parquet (see :func:`is_parquet_input`) as a table of its columns: the parts in name
    order, rows numbered through them as in one spreadsheet (header = 1).

    Raises
    ------
    InstrvalError (of class ``error``)
        No parts, an unreadable part, or more than the memory limit.
    """
    import numpy as np

    from instrval.io.engine import read_parts_frame
    from instrval.io.tables import Table

    df, _ = read_parts_frame(str(path), error=error)
    return Table(data=df, rows=np.arange(2, len(df) + 2), file=str(path), format="parquet",
                 error=error)


def read_item_table(path: str | os.PathLike[str], *, instrument: Any = None,
                    format: str | None = None, mapping: str | os.PathLike[str] | None = None,
                    dictionary: str | os.PathLike[str] | None = None) -> Table:
    """Read a data file of item answers as a :class:`~instrval.io.tables.Table`.

    Parameters
    ----------
    path : path-like
        A CSV/TSV/XLSX table with one column per item, a rating export, or Parquet (a
        file, a folder of parts, a glob or a URL; see :func:`is_parquet_input`).
    instrument : Instrument or path-like, optional
        The instrument a rating export is checked against (needed for an export; with
        one, Parquet is read as a rating export, else as a table of its columns).
    format : str, optional
        Read ``path`` as a rating export of this format (see
        :func:`instrval.io.ratings.read_ratings`).
    mapping, dictionary : path-like, optional
        A mapping file from export columns and codes to item ids; a REDCap data
        dictionary. Either one makes ``path`` a rating export.

    Returns
    -------
    Table
        A rating export (``format``, ``mapping`` or ``dictionary`` given, an SPSS file,
        or Parquet with ``instrument``) gives its accepted ratings in wide layout, one float column per item
        id (rows numbered from 2, as in a file with a header); anything else is read with
        :func:`instrval.io.tables.read_table`.

    Raises
    ------
    StatisticsError
        An export without ``instrument`` (``missing_key``), or a file that cannot
        be read as a table.
    RatingsError
        A rating export that does not fit the instrument.

    Examples
    --------
    >>> t = read_item_table("tests/data/bfi.csv")
    >>> t.item_columns()[:3]
    ['A1', 'A2', 'A3']
    """
    import numpy as np

    from instrval.io.tables import Table, read_table

    pq = is_parquet_input(path)
    options = format is not None or mapping is not None or dictionary is not None
    if pq and not options and instrument is None:
        return read_parquet_table(path)
    if not (options or pq or Path(path).suffix.lower() in EXPORT_SUFFIXES):
        return read_table(path)
    if instrument is None:
        msg = ("a rating export (format, mapping, dictionary or an SPSS file) is read "
               "against an instrument: give instrument")
        raise StatisticsError(f"{path}: {msg}",
                              [Problem("missing_key", msg, file=str(path), key="instrument")])
    from instrval.io.ratings import read_ratings

    inst = _instrument(instrument)
    if pq and not Path(str(path)).is_file():  # a folder of parts, a glob or a URL
        from instrval.io.engine import read_ratings_any

        rd = read_ratings_any(path, inst, engine="pandas", format=format, mapping=mapping,
                              dictionary=dictionary)
    else:
        rd = read_ratings(path, inst, format=format, mapping=mapping, dictionary=dictionary)
    df = rd.data.copy()
    for c in inst.item_ids:
        if c in df.columns:
            df[c] = df[c].astype("float64")
    return Table(data=df, rows=np.arange(2, len(df) + 2), file=str(path),
                 format=str(rd.source.get("format", format or "export")))


@dataclass(frozen=True, repr=False)
class ItemData(Result):
    """Item answers read for the statistics (see :func:`read_item_data`).

    Attributes
    ----------
    data : DataFrame
        One float column per item (in :attr:`items` order), one row per respondent, items
        in :attr:`reversed_items` already reversed; with ``keep_columns`` the file's other
        columns follow, as read (with ``group``, the grouping column).
    items : tuple of str
        The item columns.
    reverse_keyed : tuple of str
        The items keyed in reverse (the instrument's keys, or those given).
    reversed_items : tuple of str
        The items that were reversed, :math:`x' = \\max + \\min - x` (empty unless
        ``reverse``).
    scales : mapping
        Item -> ``(min, max)`` of its response scale, where known (instrument, or the
        observed range for items reversed without one).
    file : str
        The file read.
    format : str
        ``"csv"``, ``"xlsx"`` ... or the rating export format.
    selection : str
        How the items were chosen: ``"instrument"``, ``"construct"``, ``"items"`` or
        ``"numeric columns"``.
    """

    data: pd.DataFrame
    items: tuple[str, ...]
    reverse_keyed: tuple[str, ...]
    reversed_items: tuple[str, ...]
    scales: Mapping[str, tuple[float, float]]
    file: str
    format: str
    selection: str
    absent: tuple[str, ...] = field(default=(), kw_only=True)

    def to_frame(self) -> pd.DataFrame:
        """The item columns."""
        return self.data[list(self.items)].copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready provenance (not the answers): ``file``, ``format``, ``selection``,
        ``items``, ``reverse_keyed``, ``reversed_items``, ``scales``, ``n_rows``."""
        return {"file": self.file, "format": self.format, "selection": self.selection,
                "items": list(self.items), "reverse_keyed": list(self.reverse_keyed),
                "reversed_items": list(self.reversed_items),
                "scales": {k: [float(v[0]), float(v[1])] for k, v in self.scales.items()},
                "n_rows": int(len(self.data))}


def read_item_data(path: str | os.PathLike[str], *, instrument: Any = None,
                   construct: str | None = None, items: Sequence[str] | None = None,
                   format: str | None = None, mapping: str | os.PathLike[str] | None = None,
                   dictionary: str | os.PathLike[str] | None = None,
                   reverse: bool | Sequence[str] = False, all_numeric: bool = False,
                   absent: str = "error", keep_columns: bool = False,
                   group: str | None = None) -> ItemData:
    """Read the item answers of a data file, select the items and key them.

    Parameters
    ----------
    path : path-like
        A CSV/TSV/XLSX table with one column per item, or a rating export (see
        :func:`read_item_table`).
    instrument : Instrument or path-like, optional
        Take its likert and binary items (every construct, or ``construct``; with
        ``items``, those), their reverse keys and response scales.
    construct : str, optional
        One construct of ``instrument`` (its items, whatever its kind).
    items : sequence of str, optional
        The item columns (default: the instrument's, else every column holding numbers).
    format, mapping, dictionary : optional
        Read a rating export (see :func:`read_item_table`).
    reverse : bool or sequence of str
        ``True``: reverse the instrument's reverse-keyed items, :math:`x' = \\max + \\min -
        x` on the item's scale; a list of item ids: reverse those (on the instrument's
        scale, else on the observed range of all items, as ``psych::alpha``).
    all_numeric : bool
        With neither ``instrument`` nor ``items``: require every column (but unnamed index
        columns) to hold numbers, instead of skipping text columns (ids, names, dates).
    absent : {"error", "ignore"}
        An item not in the file raises (``unknown_column``), or is left out (listed in
        :attr:`ItemData.absent`, for a model that reports its own missing items).
    keep_columns : bool
        Also return the file's other columns, as read.
    group : str, optional
        A grouping column (DIF, invariance): it must be in the file, is returned as read
        after the items, and is never taken as an item.

    Returns
    -------
    ItemData
        The item frame and its provenance.

    Raises
    ------
    StatisticsError
        Both ``construct`` and ``items``; ``construct`` without ``instrument`` or
        unknown; an instrument with no likert or binary items; an absent item column
        (``unknown_column``), or an absent ``group`` column; a cell that is not a number
        (``not_a_number``: file, row, column, value); a blank column; text columns with
        ``all_numeric``; ``group`` among the items.

    Examples
    --------
    >>> d = read_item_data("tests/data/bfi.csv", items=["A1", "A2", "A3"], reverse=["A1"])
    >>> d.reversed_items, d.data.shape
    (('A1',), (2800, 3))
    """
    if construct is not None and items is not None:
        raise StatisticsError("give either construct or items, not both")
    if construct is not None and instrument is None:
        raise StatisticsError("construct needs instrument")
    if absent not in ("error", "ignore"):
        raise StatisticsError(f"absent={absent!r} is not allowed; choose 'error' or 'ignore'")
    table = read_item_table(path, instrument=instrument, format=format, mapping=mapping,
                            dictionary=dictionary)
    if group is not None:
        table.require([group])
    inst = _instrument(instrument) if instrument is not None else None
    scales: dict[str, tuple[float, float]] = {}
    keyed: list[str] = []
    wanted: list[str]
    if items is not None:
        wanted = [str(i) for i in items]
        selection = "items"
        if inst is not None:  # the instrument's keys and scales of the items named
            for c in inst.constructs:
                sc = inst.scale_of(c)
                lo, hi = (sc.min, sc.max) if sc is not None else (0, 1)
                for it in c.items:
                    if it.id in wanted:
                        scales[it.id] = (float(lo), float(hi))
                        if it.reverse:
                            keyed.append(it.id)
    elif inst is not None:
        if construct is not None:
            constructs = [inst.find_construct(construct)]
            selection = "construct"
        else:
            constructs = [c for c in inst.constructs if c.kind in ("likert", "binary")]
            selection = "instrument"
        wanted = []
        for c in constructs:
            sc = inst.scale_of(c)
            lo, hi = (sc.min, sc.max) if sc is not None else (0, 1)
            for it in c.items:
                wanted.append(it.id)
                scales[it.id] = (float(lo), float(hi))
                if it.reverse:
                    keyed.append(it.id)
        if not wanted:
            name = instrument if isinstance(instrument, (str, os.PathLike)) else inst.label
            raise StatisticsError(f"{name}: the instrument has no likert or binary items")
    else:
        wanted = [c for c in table.item_columns() if c != group]
        selection = "numeric columns"
        if all_numeric:
            text = [c for c in table.columns
                    if c not in wanted and c != group and not str(c).startswith("Unnamed:")]
            if text:
                shown = ", ".join(text[:5]) + (f" and {len(text) - 5} more"
                                               if len(text) > 5 else "")
                raise StatisticsError(
                    f"{path}: column(s) {shown} hold text, so not every column is an item; "
                    "name the item columns with --items (e.g. --items A1,A2,A3) or give "
                    "the instrument with --instrument")
            wanted = [c for c in table.columns
                      if c != group and not str(c).startswith("Unnamed:")]
    if group is not None and group in wanted:
        raise StatisticsError(f"{path}: the group column {group!r} cannot also be an item")
    wanted = list(dict.fromkeys(wanted)) if absent == "ignore" else wanted
    missing = [c for c in wanted if c not in table.data.columns]
    if absent == "ignore":
        wanted = [c for c in wanted if c in table.data.columns]
    else:
        table.require(wanted, what="item column")
    numbers = table.numeric(wanted)
    if keep_columns:
        df = table.data.copy()
        df[wanted] = numbers
    else:
        df = numbers
        if group is not None:
            df[group] = table.data[group]
    if reverse is True:
        flip = list(keyed)
    elif reverse is False:
        flip = []
    else:
        flip = [str(i) for i in reverse]
        keyed = list(flip)
        unknown = [i for i in flip if i not in wanted]
        if unknown:
            raise StatisticsError(f"{path}: reverse-keyed item(s) {', '.join(unknown)} are "
                                  "not among the items")
    if flip and any(i not in scales for i in flip):
        import numpy as np

        x = numbers.to_numpy()
        observed = (float(np.nanmin(x)), float(np.nanmax(x)))
        for i in flip:
            scales.setdefault(i, observed)
    for i in flip:
        low, high = scales[i]
        df[i] = high + low - df[i]
    return ItemData(data=df, items=tuple(wanted), reverse_keyed=tuple(keyed),
                    reversed_items=tuple(flip), scales=scales, file=str(path),
                    format=str(table.format), selection=selection, absent=tuple(missing))


def read_cfa_model(path: str | os.PathLike[str]) -> str | dict[str, list[str]]:
    """Read a factor-model file.

    Parameters
    ----------
    path : path-like
        Lavaan syntax (a text whose lines use ``=~``, ``~~`` or ``~ 1``; any suffix,
        e.g. ``.lav``), or a YAML/JSON file mapping each factor to its items,
        ``{visual: [x1, x2, x3], textual: [x4, x5, x6]}``.

    Returns
    -------
    str or dict
        The lavaan syntax as text (parsed when the model is fitted, see
        :func:`instrval.stats.cfa.cfa`), or ``{factor: [item, ...]}``.

    Raises
    ------
    StatisticsError
        A file that cannot be read (missing, too large, not YAML/JSON), a document that
        is not a mapping of factors (``bad_model``), or a factor whose items are not a
        non-empty list of ids (``bad_items``, with the line).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "hs.yaml").write_text("visual: [x1, x2, x3]\\ntextual: [x4, x5, x6]\\n")
    >>> read_cfa_model(folder / "hs.yaml")
    {'visual': ['x1', 'x2', 'x3'], 'textual': ['x4', 'x5', 'x6']}
    >>> _ = (folder / "hs.lav").write_text("visual =~ x1 + x2 + x3\\n")
    >>> read_cfa_model(folder / "hs.lav")
    'visual =~ x1 + x2 + x3\\n'
    """
    from instrval.io.files import read_input_bytes
    from instrval.io.yamlfile import load_document

    raw = read_input_bytes(path, error=StatisticsError, what="model file")
    text = raw.decode("utf-8", errors="replace")
    if "=~" in text and _SYNTAX.search(text):
        return text
    doc = load_document(path, error=StatisticsError, what="model file")
    data = doc.data
    where = str(path)
    if not isinstance(data, dict) or not data:
        raise StatisticsError(
            f"{where}: a model file maps each factor to its list of items, "
            "e.g. {visual: [x1, x2, x3]}",
            [Problem("bad_model", "not a mapping of factor -> items", file=where)])
    problems = []
    model: dict[str, list[str]] = {}
    for factor, its in data.items():
        key = str(factor)
        if not isinstance(its, list) or not its or not all(
                isinstance(i, (str, int)) for i in its):
            problems.append(Problem("bad_items", f"factor {key!r}: items must be a list of "
                                    "item ids", file=where, key=key,
                                    line=doc.lines.get(key), value=its))
            continue
        model[key] = [str(i) for i in its]
    if problems:
        raise StatisticsError.from_problems(problems, where)
    return model
