"""Hypotheses files: the a-priori hypotheses for construct validity or responsiveness.

A YAML (or JSON) file with its own ``format_version`` and a list of hypotheses::

    format_version: "1.0"
    hypotheses:
      - id: H1
        type: correlation          # correlation | known_groups | auc
        scale: stai6               # a construct of the instrument (scored) or a column
        with: trait_anxiety        # the other variable (alias: other)
        direction: positive        # positive | negative | any (default positive)
        min: 0.30                  # |r| at least (in the direction given)
        description: State and trait anxiety are related constructs
      - id: H2
        type: correlation
        scale: stai6
        with: extraversion
        direction: any
        max: 0.30                  # |r| below
      - id: H3
        type: known_groups
        scale: stai6
        group: trait_group         # grouping column
        higher: high               # the group expected to score higher
        lower: low
        min: 0.50                  # Hedges' g at least (min_diff: a raw difference)
      - id: R1
        type: auc
        scale: stai6
        group: threat_film         # anchor of change
        positive: 1
        min: 0.70

Every problem (unknown keys with a hint, wrong types, missing fields, duplicate ids) is
collected into one :class:`HypothesesError` naming the file, the key and its line.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from instrval.errors import InstrvalError, Problem
from instrval.model.hypotheses import DIRECTIONS, HYPOTHESIS_TYPES, Hypothesis

__all__ = ["HypothesesError", "read_hypotheses", "hypotheses_from_mapping",
           "HYPOTHESES_FORMAT_VERSION"]

HYPOTHESES_FORMAT_VERSION = "1.0"

_KEYS = {
    "correlation": ("id", "type", "scale", "with", "other", "direction", "min", "max",
                    "method", "description"),
    "known_groups": ("id", "type", "scale", "group", "higher", "lower", "min", "max",
                     "min_diff", "description"),
    "auc": ("id", "type", "scale", "group", "positive", "min", "description"),
}
_REQUIRED = {"correlation": ("scale",), "known_groups": ("scale", "group", "higher", "lower"),
             "auc": ("scale", "group", "positive")}


class HypothesesError(InstrvalError):
    """A hypotheses file that cannot be used."""


def read_hypotheses(path: str | os.PathLike[str]) -> list[Hypothesis]:
    """Read and check a hypotheses file (see the module docstring).

    Raises
    ------
    HypothesesError
        Listing every problem with the file, key and line.
    """
    from instrval.io.yamlfile import load_document

    doc = load_document(Path(path), error=HypothesesError, what="hypotheses file")
    return hypotheses_from_mapping(doc.data, file=str(path), lines=doc.lines)


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def hypotheses_from_mapping(data: Any, *, file: str | None = None,
                            lines: Mapping[str, int] | None = None) -> list[Hypothesis]:
    """Build hypotheses from plain data: a mapping with ``hypotheses`` (a list), or the
    list itself."""
    lines = lines or {}
    problems: list[Problem] = []

    def add(key: str, reason: str, message: str, value: Any = None) -> None:
        k = key
        line = None
        while k:
            if k in lines:
                line = lines[k]
                break
            k = k.rpartition(".")[0] if "." in k else k.rpartition("[")[0]
        problems.append(Problem(reason, message, file=file, key=key or "(top level)",
                                line=line, value=value))

    items = data
    if isinstance(data, Mapping):
        extra = [k for k in data if k not in ("format_version", "hypotheses", "description")]
        for k in extra:
            add(str(k), "unknown_key", f"unknown key {k!r}; allowed keys: format_version, "
                "description, hypotheses", k)
        fv = str(data.get("format_version", HYPOTHESES_FORMAT_VERSION))
        if fv != HYPOTHESES_FORMAT_VERSION:
            add("format_version", "unsupported_format_version",
                f"hypotheses format_version {fv!r} is not supported; this instrval reads "
                f"{HYPOTHESES_FORMAT_VERSION!r}", fv)
        items = data.get("hypotheses")
    if not isinstance(items, list) or not items:
        add("hypotheses", "missing_key", "hypotheses must be a non-empty list")
        raise HypothesesError.from_problems(problems, file or "hypotheses")
    out: list[Hypothesis] = []
    seen: set[str] = set()
    for i, h in enumerate(items):
        at = f"hypotheses[{i}]"
        if not isinstance(h, Mapping):
            add(at, "wrong_type", f"{at} must be a mapping", h)
            continue
        hid = h.get("id")
        if hid is None or not str(hid).strip():
            add(f"{at}.id", "missing_key", f"{at} needs an id")
            hid = f"#{i + 1}"
        hid = str(hid)
        if hid in seen:
            add(f"{at}.id", "duplicate_id", f"hypothesis id {hid!r} is used twice", hid)
        seen.add(hid)
        typ = h.get("type")
        if typ not in HYPOTHESIS_TYPES:
            add(f"{at}.type", "invalid_value", f"hypothesis {hid}: type must be one of "
                f"{', '.join(HYPOTHESIS_TYPES)}; got {typ!r}", typ)
            continue
        allowed = _KEYS[typ]
        for k in h:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else \
                    f"; allowed keys: {', '.join(allowed)}"
                add(f"{at}.{k}", "unknown_key",
                    f"hypothesis {hid}: unknown key {k!r} for type {typ}{hint}", k)
        for k in _REQUIRED[typ]:
            if h.get(k) is None:
                add(f"{at}.{k}", "missing_key", f"hypothesis {hid} ({typ}) needs {k!r}")
        other = h.get("with", h.get("other"))
        if typ == "correlation" and other is None:
            add(f"{at}.with", "missing_key", f"hypothesis {hid} (correlation) needs 'with', "
                "the variable to correlate with")
        direction = h.get("direction", "positive")
        if direction not in DIRECTIONS:
            add(f"{at}.direction", "invalid_value", f"hypothesis {hid}: direction must be one "
                f"of {', '.join(DIRECTIONS)}; got {direction!r}", direction)
            direction = "positive"
        method = h.get("method", "pearson")
        if method not in ("pearson", "spearman"):
            add(f"{at}.method", "invalid_value", f"hypothesis {hid}: method must be pearson "
                f"or spearman; got {method!r}", method)
            method = "pearson"
        nums: dict[str, float | None] = {}
        for k in ("min", "max", "min_diff"):
            v = h.get(k)
            if v is not None and not _num(v):
                add(f"{at}.{k}", "wrong_type", f"hypothesis {hid}: {k} must be a number, got "
                    f"{v!r}", v)
                v = None
            nums[k] = None if v is None else float(v)
        if typ == "correlation":
            for k in ("min", "max"):
                if nums[k] is not None and not 0 <= nums[k] <= 1:  # type: ignore[operator]
                    add(f"{at}.{k}", "out_of_range", f"hypothesis {hid}: {k} is a correlation "
                        f"size between 0 and 1, got {nums[k]}", nums[k])
        desc = h.get("description")
        out.append(Hypothesis(
            id=hid, type=typ, scale=str(h.get("scale")), other=None if other is None
            else str(other), group=None if h.get("group") is None else str(h["group"]),
            higher=h.get("higher"), lower=h.get("lower"), positive=h.get("positive"),
            direction=direction, min=nums["min"], max=nums["max"], min_diff=nums["min_diff"],
            method=method, description=None if desc is None else str(desc)))
    if problems:
        raise HypothesesError.from_problems(problems, file or "hypotheses")
    return out


def read_scored_table(path: str | os.PathLike[str], *, instrument: Any = None,
                      numeric: Any = (), where: Mapping[str, Any] | None = None,
                      error: type[InstrvalError] | None = None) -> Any:
    """Read a CSV/TSV/XLSX table for scoring and hypotheses: the instrument's item columns
    (those present) and the ``numeric`` columns are checked as numbers (every bad cell is
    reported with file, row and column); ``where`` keeps the rows whose columns equal the
    value given (or one of a list of values), compared as text.

    Returns a DataFrame (the other columns as read).
    """
    from instrval.errors import StatisticsError
    from instrval.io.tables import read_table

    table = read_table(path, error=error or StatisticsError)
    df = table.data.copy()
    cols: list[str] = []
    if instrument is not None:
        cols += [i for i in instrument.item_ids if i in df.columns]
    for c in numeric or ():
        if c is not None and c not in cols:
            cols.append(c)
    if cols:
        df[cols] = table.numeric(cols)
    if where:
        table.require(list(where))
        keep = None
        for col, val in where.items():
            vals = [str(v) for v in (val if isinstance(val, (list, tuple)) else [val])]
            m = df[col].astype(str).isin(vals) & df[col].notna()
            if not m.any():
                seen = sorted(df[col].dropna().astype(str).unique().tolist())
                shown = ", ".join(seen[:20]) + (", ..." if len(seen) > 20 else "")
                msg = (f"no row has {col}={'|'.join(vals)}; column {col!r} has: "
                       f"{shown or '(no values)'}")
                err = error or StatisticsError
                raise err(f"{path}: {msg}", [Problem(reason="no_matching_rows", message=msg,
                                                     file=str(path), column=col,
                                                     value="|".join(vals))])
            keep = m if keep is None else keep & m
        if keep is not None and not keep.any():
            cond = ", ".join(
                f"{c}={'|'.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
                for c, v in where.items())
            err = error or StatisticsError
            raise err(f"{path}: no row matches all of {cond}",
                      [Problem(reason="no_matching_rows", file=str(path),
                               message=f"no row matches all of {cond}")])
        df = df[keep]
    return df
