"""Qualitative evidence per item: who discussed it, how, and is it representative?

:func:`item_evidence` turns checked coded segments (a
:class:`~instrval.model.coding.CodingData`) into one row per item of the instrument, with
the representativeness judgement of the rule below, exemplar quotes, and the inductive
themes and missing-concept codes that point at a construct but at no item (candidates for
new items).

The rule (parameters in :class:`~instrval.model.rules.DecisionRules`)
--------------------------------------------------------------------
For each item, ``participants`` is the number of distinct participants with at least one
segment about the item (any category). A participant *challenges* the item when they have
at least one ``challenges`` segment about it and no more ``supports`` than ``challenges``
segments (their majority view; a tie counts as a challenge). Then

* fewer than ``qual_min_participants`` participants: ``representative`` is ``<NA>``
  (no qualitative evidence);
* otherwise the item is representative unless the share of challenging participants
  exceeds ``qual_max_challenge_share``.

``wording`` and ``other`` segments are counted and shown but do not enter the judgement: a
wording suggestion does not say that the item misses its construct.

One coding per segment
----------------------
When several coders coded a segment (for an agreement check), the evidence uses the
codings of one coder per segment: the coder with the most coded segments in the data
(ties broken by name) among those who coded it. Second codings count only for
:func:`instrval.stats.agreement.coder_agreement`.

Exemplar quotes
---------------
Chosen deterministically: segments are ranked by the length of their text (longest first,
then segment id), and ``quote_count`` quotes are taken in turn from the categories
``supports``, ``challenges``, ``wording``, ``other`` (``challenges`` first when the item is
judged not representative), so that the default of two gives the longest supporting and
the longest challenging segment. Segment ids passed in ``pinned_quotes`` come first, in the
order given, and the rest is filled automatically. Texts are kept verbatim (they are
untrusted: escape them when rendering).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from instrval._jsonable import jsonable_scalar
from instrval._result import Result
from instrval.errors import CodingError, Problem
from instrval.model.coding import CodingData
from instrval.model.instrument import Instrument
from instrval.model.rules import DecisionRules

__all__ = ["QualEvidence", "item_evidence", "primary_codings"]

ITEM_COLUMNS = ("item_id", "construct_id", "participants", "segments", "supports",
                "challenges", "wording", "other", "challenging_participants",
                "challenge_share", "representative", "rule")
QUOTE_COLUMNS = ("item_id", "segment_id", "participant", "text", "category", "pinned")
MISSING_COLUMNS = ("construct_id", "code", "theme", "participants", "segments",
                   "example_segment_id", "example_participant", "example_quote")
THEME_COLUMNS = ("theme", "construct_id", "item_id", "codes", "participants", "segments")


@dataclass(frozen=True, repr=False)
class QualEvidence(Result):
    """Qualitative evidence per item (see :func:`item_evidence`).

    Attributes
    ----------
    items : DataFrame
        One row per item, in instrument order: ``item_id``, ``construct_id``,
        ``participants``, ``segments``, ``supports``, ``challenges``, ``wording``, ``other``
        (segment counts), ``challenging_participants``, ``challenge_share``,
        ``representative`` (nullable boolean; ``<NA>``: no qualitative evidence), ``rule``.
    quotes : DataFrame
        Exemplar quotes: ``item_id``, ``segment_id``, ``participant``, ``text``,
        ``category``, ``pinned``.
    missing_concepts : DataFrame
        Codes that map to a construct but to no item (``missing_concept`` codes and
        inductive themes): ``construct_id``, ``code``, ``theme``, ``participants``,
        ``segments``, ``example_segment_id``, ``example_participant``, ``example_quote``.
    themes : DataFrame
        Inductive themes: ``theme``, ``construct_id``, ``item_id``, ``codes``
        (``; ``-joined), ``participants``, ``segments``.
    rules : DecisionRules
    """

    items: pd.DataFrame
    quotes: pd.DataFrame
    missing_concepts: pd.DataFrame
    themes: pd.DataFrame
    rules: DecisionRules

    def to_frame(self) -> pd.DataFrame:
        return self.items.copy()

    def quotes_for(self, item_id: str) -> pd.DataFrame:
        return self.quotes[self.quotes["item_id"] == item_id].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """``{"items": [{item_id, participants, supports, challenges, representative,
        quotes: [{segment_id, participant, text, category}]}], "missing_concepts": [...]}``."""
        items = []
        for r in self.items.itertuples(index=False):
            q = self.quotes[self.quotes["item_id"] == r.item_id]
            items.append({
                "item_id": r.item_id,
                "participants": int(r.participants),
                "supports": int(r.supports),
                "challenges": int(r.challenges),
                "representative": jsonable_scalar(r.representative),
                "quotes": [{"segment_id": x.segment_id, "participant": x.participant,
                            "text": x.text, "category": x.category}
                           for x in q.itertuples(index=False)],
            })
        missing = [{k: jsonable_scalar(v) for k, v in rec.items()}
                   for rec in self.missing_concepts.to_dict(orient="records")]
        return {"items": items, "missing_concepts": missing}


def primary_codings(segments: pd.DataFrame) -> pd.DataFrame:
    """Keep one coder's codings per segment: the coder with the most segments overall
    (ties by name) among the coders who coded it. Rows without a coder are all kept."""
    if segments.empty:
        return segments
    coder = segments["coder"].fillna("")
    per_coder = segments.assign(_c=coder).groupby("_c")["segment_id"].nunique()
    ranking = sorted(per_coder.index, key=lambda c: (-per_coder[c], c))
    rank = {c: i for i, c in enumerate(ranking)}
    r = coder.map(rank)
    best = r.groupby(segments["segment_id"]).transform("min")
    return segments[r == best].reset_index(drop=True)


def _rank_segments(df: pd.DataFrame) -> pd.DataFrame:
    """One row per segment, longest text first, then segment id."""
    one = df.drop_duplicates("segment_id")
    return one.assign(_len=one["text"].str.len()).sort_values(
        ["_len", "segment_id"], ascending=[False, True], kind="mergesort")


def item_evidence(coding: CodingData, instrument: Instrument, *,
                  rules: DecisionRules | None = None,
                  pinned_quotes: Sequence[str] | None = None) -> QualEvidence:
    """Representativeness evidence per item from coded segments.

    Parameters
    ----------
    coding : CodingData
        Checked coded segments (:func:`instrval.io.coding.read_coding`).
    instrument : Instrument
    rules : DecisionRules, optional
        ``qual_min_participants``, ``qual_max_challenge_share`` and ``quote_count`` are
        used (defaults 2, 0.5 and 2).
    pinned_quotes : sequence of str, optional
        Segment ids to show as quotes of their item (or as the example of their missing
        concept), before the automatic choice.

    Returns
    -------
    QualEvidence

    Raises
    ------
    CodingError
        When a pinned segment id is unknown or maps to no item and no missing concept.

    Notes
    -----
    The rule and the quote choice are described in the module docstring. There is no R
    equivalent: the counts are checked by hand in ``tests/test_qual_evidence.py``.
    """
    rules = rules or DecisionRules()
    seg = primary_codings(coding.segments)
    known_items = set(instrument.item_ids)
    pinned = list(dict.fromkeys(pinned_quotes or []))
    problems: list[Problem] = []
    all_ids = set(coding.segments["segment_id"].dropna())
    for sid in pinned:
        if sid not in all_ids:
            problems.append(Problem("unknown_segment", f"pinned quote {sid!r} is not an "
                                    "accepted segment of the coding data", value=sid))
    if problems:
        raise CodingError.from_problems(problems, "pinned quotes")

    cat = seg["category"].fillna("other").astype(str)
    cat = cat.where(cat.isin(["supports", "challenges", "wording"]), "other")
    seg = seg.assign(_cat=cat)

    # every per-item count from one grouping each (not one pass over the table per item)
    about = seg[seg["item_id"].isin(known_items)]
    by_item = about.groupby("item_id", sort=False)
    n_part_s = by_item["participant"].nunique()
    n_seg_s = by_item["segment_id"].nunique()
    cat_counts = about.groupby(["item_id", "_cat"])["segment_id"].nunique()
    per_p = about.groupby(["item_id", "participant", "_cat"])["segment_id"].nunique().unstack(
        fill_value=0)
    if len(per_p):
        sup = per_p["supports"] if "supports" in per_p else pd.Series(0, index=per_p.index)
        ch = per_p["challenges"] if "challenges" in per_p else pd.Series(0, index=per_p.index)
        n_chal_s = ((ch > 0) & (ch >= sup)).groupby(level="item_id").sum()
    else:
        n_chal_s = pd.Series(dtype=int)
    # quote candidates: one row per item x category x segment, longest text first
    fields = ["item_id", "segment_id", "participant", "text", "_cat"]
    ranked = about.drop_duplicates(["item_id", "_cat", "segment_id"])
    ranked = ranked.assign(_len=ranked["text"].str.len()).sort_values(
        ["_len", "segment_id"], ascending=[False, True], kind="mergesort")
    pools_all: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rec in ranked[fields].to_dict(orient="records"):
        pools_all.setdefault((rec["item_id"], rec["_cat"]), []).append(rec)
    first_row = {(rec["item_id"], rec["segment_id"]): rec for rec in
                 about.drop_duplicates(["item_id", "segment_id"])[fields].to_dict(
                     orient="records")}

    item_rows = []
    quote_rows = []
    used_pins: set[str] = set()
    min_p = int(rules.qual_min_participants)
    max_share = float(rules.qual_max_challenge_share)
    for construct, item in instrument.iter_items():
        n_part = int(n_part_s.get(item.id, 0))
        counts = {c: int(cat_counts.get((item.id, c), 0))
                  for c in ("supports", "challenges", "wording", "other")}
        n_chal = int(n_chal_s.get(item.id, 0))
        share = n_chal / n_part if n_part else float("nan")
        if n_part < min_p:
            representative: Any = pd.NA
            rule = (f"no qualitative evidence: {n_part} participant"
                    f"{'' if n_part == 1 else 's'} discussed the item, fewer than "
                    f"qual_min_participants = {min_p}")
        else:
            representative = bool(share <= max_share)
            verdict = "representative" if representative else "not representative"
            op = "<=" if representative else ">"
            rule = (f"{verdict}: {n_chal} of {n_part} participants challenged the item "
                    f"(share {share:.2f} {op} qual_max_challenge_share = {max_share:g})")
        item_rows.append({
            "item_id": item.id, "construct_id": construct.id, "participants": n_part,
            "segments": int(n_seg_s.get(item.id, 0)), **counts,
            "challenging_participants": n_chal, "challenge_share": share,
            "representative": representative, "rule": rule})

        # quotes: pinned first, then round-robin over categories by length
        chosen: list[tuple[dict[str, Any], bool]] = []
        for sid in pinned:
            hit = first_row.get((item.id, sid))
            if hit is not None:
                chosen.append((hit, True))
                used_pins.add(sid)
        order = ["supports", "challenges", "wording", "other"]
        if representative is False:
            order = ["challenges", "supports", "wording", "other"]
        pools = {c: list(pools_all.get((item.id, c), ())) for c in order}
        taken = {r["segment_id"] for r, _ in chosen}
        while len(chosen) < rules.quote_count and any(pools.values()):
            for c in order:
                while pools[c] and pools[c][0]["segment_id"] in taken:
                    pools[c].pop(0)
                if pools[c] and len(chosen) < rules.quote_count:
                    r = pools[c].pop(0)
                    chosen.append((r, False))
                    taken.add(r["segment_id"])
        for r, is_pinned in chosen:
            quote_rows.append({"item_id": item.id, "segment_id": r["segment_id"],
                               "participant": r["participant"], "text": r["text"],
                               "category": r["_cat"], "pinned": is_pinned})

    items = pd.DataFrame(item_rows, columns=list(ITEM_COLUMNS))
    items["representative"] = items["representative"].astype("boolean")
    for c in ("participants", "segments", "supports", "challenges", "wording", "other",
              "challenging_participants"):
        items[c] = items[c].astype(int)
    items["challenge_share"] = items["challenge_share"].astype(float)
    quotes = pd.DataFrame(quote_rows, columns=list(QUOTE_COLUMNS))

    # missing concepts: a construct but no (known) item, coded missing_concept or a theme
    no_item = seg["item_id"].isna() | ~seg["item_id"].isin(known_items)
    mc = seg[no_item & seg["construct_id"].notna()
             & ((seg["category"] == "missing_concept") | seg["theme"].notna())]
    mrows = []
    for (construct_id, code), g in mc.groupby(["construct_id", "code"], sort=True):
        theme = g["theme"].dropna()
        pins = [sid for sid in pinned if sid in set(g["segment_id"])]
        if pins:
            ex = g[g["segment_id"] == pins[0]].iloc[0]
            used_pins.add(pins[0])
        else:
            ex = _rank_segments(g).iloc[0]
        mrows.append({"construct_id": construct_id, "code": code,
                      "theme": theme.iloc[0] if len(theme) else None,
                      "participants": int(g["participant"].nunique()),
                      "segments": int(g["segment_id"].nunique()),
                      "example_segment_id": ex["segment_id"],
                      "example_participant": ex["participant"], "example_quote": ex["text"]})
    missing = pd.DataFrame(mrows, columns=list(MISSING_COLUMNS))
    if len(missing):
        order_c = {c: i for i, c in enumerate(instrument.construct_ids)}
        missing = missing.sort_values(
            ["construct_id", "participants", "code"],
            key=lambda s: s.map(order_c) if s.name == "construct_id" else (
                -s if s.name == "participants" else s),
            kind="mergesort").reset_index(drop=True)

    unused = [sid for sid in pinned if sid not in used_pins]
    if unused:
        raise CodingError.from_problems(
            [Problem("pinned_not_shown", f"pinned quote {sid!r} is not about an item of "
                     f"{instrument.label} or a missing concept", value=sid) for sid in unused],
            "pinned quotes")

    th = seg[seg["theme"].notna()]
    trows = []
    for (theme, construct_id, item_id), g in th.groupby(
            [th["theme"], th["construct_id"].fillna(""), th["item_id"].fillna("")],
            sort=True):
        trows.append({"theme": theme, "construct_id": construct_id or None,
                      "item_id": item_id or None,
                      "codes": "; ".join(sorted(g["code"].dropna().unique())),
                      "participants": int(g["participant"].nunique()),
                      "segments": int(g["segment_id"].nunique())})
    themes = pd.DataFrame(trows, columns=list(THEME_COLUMNS))
    return QualEvidence(items=items, quotes=quotes, missing_concepts=missing, themes=themes,
                        rules=rules)
