"""Checks of coded segments against a codebook and an instrument.

:func:`check_segments` takes the raw codings a reader produced (canonical column names,
text cells as read) and sorts them into accepted segments and quarantined rows, collecting
a :class:`~instrval.errors.Problem` for each fault. Nothing is dropped silently:
``accepted + quarantined = read``.

Reason codes (all errors quarantine the row unless noted):

``missing_segment_id``, ``missing_participant``, ``missing_code``
    a required cell is blank;
``empty_text``
    the coded text is blank;
``missing_coder``
    the export has a coder column but this row's coder is blank (whose coding is it?);
``no_coder_column`` (warning, nothing quarantined)
    the export names no coders: agreement cannot be computed;
``unknown_code``
    the code is not in the codebook;
``unknown_item``, ``unknown_construct``
    the row or the codebook names an item or construct the instrument does not have;
``construct_mismatch``
    the item belongs to another construct than the one given;
``item_conflict``
    the row's item differs from the item the codebook gives the code;
``duplicate_segment``
    the same segment, code and coder again (the first is kept);
``conflicting_segment``
    a segment id seen before with another text or participant (the first is kept);
``bad_selection`` (REFI-QDA)
    a selection outside its source text or pointing at an unknown code or source.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from instrval.errors import Problem
from instrval.model.coding import CATEGORIES, SEGMENT_COLUMNS, Codebook, empty_segments
from instrval.model.instrument import Instrument

__all__ = ["check_segments", "parse_category"]

_STR_COLUMNS = [c for c in SEGMENT_COLUMNS if c != "row"]


def _blank(v: Any) -> bool:
    if v is None:
        return True
    try:
        if pd.isna(v):
            return True
    except (TypeError, ValueError):
        pass
    return isinstance(v, str) and not v.strip()


def _s(v: Any) -> str | None:
    """A cell as stripped text (None when blank); for ids and codes, never for text."""
    return None if _blank(v) else str(v).strip()


def parse_category(value: str | None) -> tuple[str | None, str | None, bool]:
    """Split ``"challenges:misread"`` into ``("challenges", "misread", True)``.

    The third value is False when the category is not one of :data:`CATEGORIES`.
    """
    if value is None:
        return None, None, True
    cat, _, rest = str(value).strip().partition(":")
    cat = cat.strip().lower().replace(" ", "_").replace("-", "_")
    sub = rest.strip() or None
    return cat, sub, cat in CATEGORIES


def check_segments(raw: pd.DataFrame, *, file: str | None = None,
                   instrument: Instrument | None = None, codebook: Codebook | None = None,
                   has_coder_column: bool = True,
                   raw_cells: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                   list[Problem]]:
    """Check raw codings; return ``(segments, quarantine, problems)``.

    Parameters
    ----------
    raw : DataFrame
        Canonical column names (``segment_id``, ``participant``, ``document``, ``text``,
        ``code``, ``coder``, optional ``item_id``, ``construct_id``, ``theme``,
        ``category``) and a ``row`` column with the row number users see.
    file : str, optional
        For problem messages.
    instrument : Instrument, optional
        When given, item and construct ids are checked against it.
    codebook : Codebook, optional
        When given, every code must be in it; categories, items and constructs come from it.
    has_coder_column : bool
        False when the export has no coders at all (one warning instead of row errors).
    raw_cells : DataFrame, optional
        The rows as read (original column names), aligned with ``raw``, copied into the
        quarantine table; default ``raw`` itself.
    """
    problems: list[Problem] = []
    if raw_cells is None:
        raw_cells = raw
    item_construct: dict[str, str] = {}
    constructs: set[str] = set()
    if instrument is not None:
        item_construct = {it.id: c.id for c, it in instrument.iter_items()}
        constructs = set(instrument.construct_ids)
    if not has_coder_column:
        problems.append(Problem(
            "no_coder_column", "the export names no coders: each segment is taken as coded "
            "once and inter-coder agreement cannot be computed", file=file,
            severity="warning"))

    accepted: list[dict[str, Any]] = []
    quarantined: list[dict[str, Any]] = []
    seen_key: dict[tuple[str, str | None, str], int] = {}
    seen_seg: dict[str, tuple[str, str | None, int]] = {}

    for pos, rec in enumerate(raw.to_dict(orient="records")):
        row = rec.get("row")
        row = None if _blank(row) else int(row)
        reasons: list[tuple[str, str, str | None, Any]] = []  # reason, message, column, value

        def bad(reason: str, message: str, column: str | None = None, value: Any = None,
                _r: list = reasons) -> None:
            _r.append((reason, message, column, value))

        seg_id = _s(rec.get("segment_id"))
        participant = _s(rec.get("participant"))
        document = _s(rec.get("document")) or participant
        text = rec.get("text")
        text = None if _blank(text) else str(text)
        code = _s(rec.get("code"))
        coder = _s(rec.get("coder")) if has_coder_column else None
        item_id = _s(rec.get("item_id"))
        construct_id = _s(rec.get("construct_id"))
        theme = _s(rec.get("theme"))
        category, subcategory, cat_ok = parse_category(_s(rec.get("category")))
        reader_problem = rec.get("_problem")
        if seg_id is None:
            bad("missing_segment_id", "the segment id is blank", "segment_id")
        if participant is None:
            bad("missing_participant", "the participant is blank", "participant")
        if text is None:
            bad("empty_text", "the coded text is empty", "text", rec.get("text"))
        if code is None:
            bad("missing_code", "the code is blank", "code")
        if has_coder_column and coder is None:
            bad("missing_coder", "the coder is blank, but other rows name their coder",
                "coder")
        if not cat_ok:
            bad("unknown_category", f"category {category!r} is not one of "
                f"{', '.join(CATEGORIES)}", "category", category)
            category = None

        entry = codebook.get(code) if (codebook is not None and code is not None) else None
        if codebook is not None and code is not None and entry is None:
            bad("unknown_code", f"code {code!r} is not in the codebook"
                + (f" {codebook.file}" if codebook.file else ""), "code", code)
        if entry is not None:
            if item_id is not None and entry.item_id is not None and item_id != entry.item_id:
                bad("item_conflict", f"the row names item {item_id!r} but the codebook maps "
                    f"code {code!r} to item {entry.item_id!r}", "item_id", item_id)
            item_id = item_id or entry.item_id
            construct_id = construct_id or entry.construct_id
            theme = theme or entry.theme
            if category is None:
                category, subcategory = entry.category, subcategory or entry.subcategory
            else:
                subcategory = subcategory or entry.subcategory
        elif category is None and code is not None:
            cat, sub, ok = parse_category(code)
            if ok:
                category, subcategory = cat, sub

        if instrument is not None:
            if item_id is not None and item_id not in item_construct:
                bad("unknown_item", f"item {item_id!r} is not in instrument "
                    f"{instrument.label}", "item_id", item_id)
            if construct_id is not None and construct_id not in constructs:
                bad("unknown_construct", f"construct {construct_id!r} is not in instrument "
                    f"{instrument.label}", "construct_id", construct_id)
            if (item_id in item_construct and construct_id is not None
                    and construct_id in constructs
                    and item_construct[item_id] != construct_id):
                bad("construct_mismatch", f"item {item_id!r} belongs to construct "
                    f"{item_construct[item_id]!r}, not {construct_id!r}", "construct_id",
                    construct_id)
            if item_id in item_construct and construct_id is None:
                construct_id = item_construct[item_id]

        if isinstance(reader_problem, tuple):
            # the reader could not resolve the row (e.g. a REFI-QDA selection outside its
            # text): report that alone, the other checks would only repeat it
            reasons[:] = [(reader_problem[0], reader_problem[1], None, None)]
        if not reasons and seg_id is not None:
            key = (seg_id, coder, code or "")
            if key in seen_key:
                bad("duplicate_segment", f"segment {seg_id!r} was already coded {code!r}"
                    + (f" by {coder}" if coder else "") + f" (row {seen_key[key]})",
                    "segment_id", seg_id)
            elif seg_id in seen_seg and (seen_seg[seg_id][0] != text
                                         or seen_seg[seg_id][1] != participant):
                bad("conflicting_segment", f"segment {seg_id!r} has another text or "
                    f"participant than in row {seen_seg[seg_id][2]}", "segment_id", seg_id)

        if reasons:
            for reason, message, column, value in reasons:
                problems.append(Problem(reason, message, file=file, row=row, column=column,
                                        value=value))
            q = {"row": row, "reason": ";".join(dict.fromkeys(r[0] for r in reasons)),
                 "message": "; ".join(r[1] for r in reasons)}
            cells = raw_cells.iloc[pos].to_dict()
            for k, v in cells.items():
                if k in ("row", "_problem"):
                    continue
                q[str(k) if str(k) not in q else f"raw_{k}"] = v
            quarantined.append(q)
            continue
        seg_id = str(seg_id)  # not None: a blank id is a reason above
        seen_key[(seg_id, coder, code or "")] = row if row is not None else pos + 1
        seen_seg.setdefault(seg_id, (text or "", participant,
                                     row if row is not None else pos + 1))
        accepted.append({"segment_id": seg_id, "participant": participant,
                         "document": document, "text": text, "code": code, "coder": coder,
                         "item_id": item_id, "construct_id": construct_id, "theme": theme,
                         "category": category, "subcategory": subcategory, "row": row})

    segments = _segments_frame(accepted)
    quarantine = pd.DataFrame(quarantined)
    if quarantine.empty:
        quarantine = pd.DataFrame(columns=["row", "reason", "message"])
    quarantine["row"] = quarantine["row"].astype("Int64")
    return segments, quarantine, problems


def _segments_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    records = list(records)
    if not records:
        return empty_segments()
    df = pd.DataFrame(records, columns=list(SEGMENT_COLUMNS))
    for c in _STR_COLUMNS:
        df[c] = df[c].astype("string")
    df["row"] = df["row"].astype("Int64")
    return df
