"""REDCap exports: the data dictionary, record-level rows, ids, value labels and the
check boxes hidden by branching logic.

Nothing here reads the export: :mod:`instrval.io.ratings.read` parses it and calls these
steps. :func:`recode_by_labels` serves SPSS value labels too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import Problem, RatingsError
from instrval.io.ratings.raw import RawTable
from instrval.model.instrument import Instrument
from instrval.validate.ratings import as_text, blank_mask, gate_codes

__all__ = ["read_redcap_dictionary", "redcap_prepare", "recode_by_labels",
           "redcap_blank_hidden"]


def read_redcap_dictionary(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read a REDCap data dictionary (CSV) into ``{field: {"form", "type", "label",
    "choices": {code: label}}}`` (field names lower-cased), with
    :func:`instrval.io.redcap_dictionary.parse_redcap_dictionary`."""
    from instrval.io.redcap_dictionary import parse_redcap_dictionary

    return parse_redcap_dictionary(path, error=RatingsError).as_mapping()


def redcap_prepare(raw: RawTable, instrument: Instrument,
                   ddict: Mapping[str, Mapping[str, Any]] | None) -> list[Problem]:
    """Give a REDCap export rating and respondent ids; merge record-level rows.

    In a project with repeating instruments, rows with a blank
    ``redcap_repeat_instrument`` hold record-level fields (e.g. the clinician's
    specialty); they are merged into the record's rating rows and are not ratings
    themselves. Without a ``rating_id`` field a rating is identified by
    ``record_id``, the event and the repeat instance.
    """
    df = raw.frame
    problems: list[Problem] = []
    cols = {c.lower(): c for c in df.columns}
    rec = cols.get("record_id") or (df.columns[0] if len(df.columns) else None)
    if rec is None:
        return problems
    rep = cols.get("redcap_repeat_instrument")
    inst = cols.get("redcap_repeat_instance")
    ev = cols.get("redcap_event_name")
    keep = np.ones(len(df), dtype=bool)
    if rep is not None:
        is_rep = ~blank_mask(df[rep])
        if is_rep.any() and (~is_rep).any():
            base = df.loc[~is_rep]
            recid = as_text(df[rec])
            key_cols = [rec] + ([ev] if ev is not None else [])
            value_cols = [c for c in df.columns if c not in key_cols and c not in
                          (rep, inst) and not c.lower().endswith("_complete")]
            filled = base[value_cols].notna() & ~base[value_cols].apply(
                lambda s: pd.Series(blank_mask(s), index=s.index))
            record_cols = [c for c in value_cols if filled[c].any()]
            if record_cols:
                b = base.assign(_key=as_text(base[rec]))[["_key", *record_cols]]
                problems.extend(_conflicting_record_rows(b, raw, np.flatnonzero(~is_rep)))
                b = b.drop_duplicates("_key", keep="first").set_index("_key")
                for c in record_cols:
                    fill = recid.map(b[c])
                    cur_blank = blank_mask(df[c])
                    df[c] = df[c].astype(object).where(~cur_blank, fill.astype(object))
            keep = is_rep
            raw.details["record_rows"] = int((~is_rep).sum())
    if "respondent_id" not in cols:
        df["respondent_id"] = as_text(df[rec])
    if "rating_id" not in cols:
        rid = as_text(df[rec])
        if ev is not None and df[ev].nunique(dropna=True) > 1:
            rid = rid + ":" + as_text(df[ev]).fillna("")
        if inst is not None and rep is not None and (~blank_mask(df[rep])).any():
            rid = rid + "-" + as_text(df[inst]).fillna("")
        df["rating_id"] = rid
    if rec in df.columns and rec.lower() == "record_id":
        df = df.drop(columns=[rec])  # now respondent_id (and part of rating_id)
    if not keep.all():
        raw.frame = df.loc[keep].reset_index(drop=True)
        pos = np.flatnonzero(keep)
        raw.rows = raw.rows[pos]
        old_raw = raw.raw
        if old_raw is not None:
            raw.raw = lambda p, old=old_raw, pos=pos: old(pos[p])
    else:
        raw.frame = df
    if ddict:
        problems.extend(_check_dictionary(instrument, ddict, raw.file))
    return problems


def _conflicting_record_rows(b: pd.DataFrame, raw: RawTable,
                             pos: np.ndarray) -> list[Problem]:
    """A problem for every record-level field that two record-level rows of the same
    record fill with different values (only the first would be used)."""
    out: list[Problem] = []
    dup = b["_key"].duplicated(keep=False).to_numpy()
    if not dup.any():
        return out
    sub = b.loc[dup]
    rows = raw.rows[pos[dup]]
    for c in sub.columns[1:]:
        first: dict[str, tuple[str, int]] = {}
        for key, v, row in zip(sub["_key"], sub[c], rows, strict=True):
            if v is None or (isinstance(v, float) and v != v) or not str(v).strip():
                continue
            text = str(v).strip()
            if key not in first:
                first[key] = (text, int(row))
            elif first[key][0] != text:
                out.append(Problem(
                    "conflicting_record_row",
                    f"record {key!r} has a second record-level row that gives {c!r} as "
                    f"{text!r}, but row {first[key][1]} gives {first[key][0]!r}; keep one",
                    file=raw.file, row=int(row), column=str(c), value=text))
    return out


def _check_dictionary(instrument: Instrument, ddict: Mapping[str, Mapping[str, Any]],
                      file: str | None) -> list[Problem]:
    out: list[Problem] = []
    for c in instrument.constructs:
        fields: list[tuple[str, set[str]]] = []
        if c.gate is not None:
            fields.append((c.gate.id.lower(), {str(c.gate.option_code(o))
                                               for o in c.gate.options}))
        if c.kind in ("multi_select", "single_choice"):
            fields.append((c.id.lower(), {str(c.item_code(i)) for i in c.item_ids}))
        for fname, codes in fields:
            d = ddict.get(fname)
            if d is None:
                out.append(Problem("dictionary_mismatch",
                                   f"the data dictionary has no field {fname!r}",
                                   file=file, column=fname, severity="warning"))
            elif d["choices"] and set(d["choices"]) != codes and not all(
                    lab.lower() in {o.lower() for o in _choice_ids(instrument, fname)}
                    for lab in d["choices"].values()):
                out.append(Problem(
                    "dictionary_mismatch",
                    f"field {fname!r} has codes {', '.join(d['choices'])} in the data "
                    f"dictionary; {instrument.label} expects {', '.join(sorted(codes))}",
                    file=file, column=fname, severity="warning"))
    return out


def _choice_ids(instrument: Instrument, target: str) -> tuple[str, ...]:
    for g in instrument.gates:
        if g.id.lower() == target.lower():
            return g.options
    for c in instrument.constructs:
        if c.id.lower() == target.lower() and c.kind == "single_choice":
            return c.item_ids
    return ()


def recode_by_labels(table: pd.DataFrame, instrument: Instrument,
                     colmap: Mapping[str, str], labels: Mapping[str, Mapping[Any, str]],
                     ) -> None:
    """Recode single-choice and gate codes whose value label names a level or option."""
    lower_labels = {str(k).lower(): v for k, v in labels.items()}
    for col, target in colmap.items():
        lab = lower_labels.get(str(col).lower())
        if not lab:
            continue
        ids = _choice_ids(instrument, target)
        if not ids:
            continue
        by_text: dict[str, str] = {i.lower(): i for i in ids}
        for c in instrument.constructs:
            if c.id == target:
                by_text.update({it.label.lower(): it.id for it in c.items})
        lut: dict[str, str] = {}
        for code, text in lab.items():
            hit = by_text.get(str(text).strip().lower())
            if hit is not None:
                k = code
                if isinstance(k, float) and k.is_integer():
                    k = int(k)
                lut[str(k).strip().lower()] = hit
        if not lut:
            continue
        txt = as_text(table[target])
        key = txt.str.lower().str.replace(r"\.0$", "", regex=True)
        rec = key.map(lut)
        table[target] = rec.astype(object).where(rec.notna(), txt.astype(object))


def redcap_blank_hidden(table: pd.DataFrame, instrument: Instrument) -> None:
    """REDCap writes 0 for every check box, shown or hidden by branching logic: a 0 in a
    gated multi-select construct whose gate is not open means "not presented"."""
    for c in instrument.constructs:
        if c.gate is None or c.kind != "multi_select":
            continue
        if c.gate.id in table.columns:
            gv = as_text(table[c.gate.id]).str.lower().map(gate_codes(c.gate))
            closed = ~gv.isin(list(c.gate.open_when)).fillna(False).to_numpy(dtype=bool)
        else:
            closed = np.ones(len(table), dtype=bool)
        for it in c.item_ids:
            if it not in table.columns:
                continue
            s = table[it]
            zero = as_text(s).isin(["0", "0.0"]).fillna(False).to_numpy(dtype=bool)
            hide = zero & closed
            if hide.any():
                table[it] = s.astype(object).where(~hide, None)
