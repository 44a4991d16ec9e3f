"""The joint display: quantitative and qualitative evidence side by side, per item.

One row per item of the instrument (plus one row per missing concept raised in the
interviews) with

* quantitative evidence: the relevance ratio, its interval and verdict; alpha if the item
  is deleted and the corrected item-total correlation; the item's EFA loading and
  cross-loading; the expert panel's I-CVI, modified kappa, CVR with its critical value and,
  when the panel rated clarity, the clarity I-CVI; floor and ceiling shares;
* qualitative evidence: participants, segments by category, the representativeness verdict,
  themes and one or two quotes;
* the convergence of the two strands, the proposed decision and the ids of the rules that
  fired (:mod:`instrval.integrate.decisions`), and the experts' decision where there is one.

Inputs are the result objects of the statistics modules; every input is optional and the
columns of a missing input are left empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from instrval._result import Result
from instrval.integrate.decisions import (
    CONVERGENCE,
    apply_expert_decisions,
    propose_decisions,
    rule_catalogue,
)
from instrval.model.rules import DecisionRules

__all__ = ["JointDisplay", "evidence_table", "joint_display", "EVIDENCE_COLUMNS"]

#: Columns of the evidence table, in order.
EVIDENCE_COLUMNS = (
    "row_type", "item_id", "construct_id", "kind", "label", "concept",
    "relevance_selected", "relevance_presented", "relevance_ratio", "relevance_ci_low",
    "relevance_ci_high", "relevant",
    "scale_alpha", "alpha_if_deleted", "r_drop", "loading_factor", "loading",
    "cross_loading", "cvi_experts", "i_cvi", "modified_kappa", "cvr", "cvr_critical",
    "clarity_i_cvi", "floor_share", "ceiling_share",
    "missing_share",
    "qual_participants", "qual_segments", "qual_supports", "qual_challenges",
    "qual_wording", "qual_other", "representative", "themes", "quotes",
)


def _frame(obj: Any, attr: str = "items") -> pd.DataFrame | None:
    if obj is None:
        return None
    if isinstance(obj, pd.DataFrame):
        return obj
    got = getattr(obj, attr, None)
    return got if isinstance(got, pd.DataFrame) else None


def _by_item(df: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    if df is None or df.empty or "item_id" not in df.columns:
        return {}
    return {str(r["item_id"]): r for r in df.to_dict(orient="records")}


def _val(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (float, np.floating)) and np.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def _loadings(efa: Any) -> dict[str, tuple[str, float, float | None]]:
    """item -> (factor of the highest |loading|, that loading, second-highest |loading|)."""
    L = getattr(efa, "loadings", None) if efa is not None else None
    if L is None:
        return {}
    if isinstance(L, pd.DataFrame) and "item_id" in L.columns:
        L = L.set_index("item_id")
    L = L.select_dtypes("number")
    out = {}
    for item, row in L.iterrows():
        a = row.abs().sort_values(ascending=False)
        if a.empty or a.isna().all():
            continue
        f = str(a.index[0])
        cross = float(a.iloc[1]) if len(a) > 1 else None
        out[str(item)] = (f, float(row[f]), cross)
    return out


def evidence_table(instrument: Any, *, relevance: Any = None,
                   reliability: Mapping[str, Any] | None = None, efa: Any = None,
                   content_validity: Any = None, qual: Any = None, descriptives: Any = None,
                   rules: DecisionRules | None = None,
                   content_validity_aspects: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Gather the evidence on each item into one table (:data:`EVIDENCE_COLUMNS`).

    Parameters
    ----------
    instrument : Instrument
        The reviewed instrument: one row per item, in its order.
    relevance : RelevanceResult, optional
        Its ``items`` table (``item_id``, ``selected``, ``presented``, ``ratio``,
        ``ci_low``, ``ci_high``, ``relevant``). When ``relevant`` is absent the verdict is
        ``ratio >= rules.relevance_min``.
    reliability : mapping of construct id to AlphaResult, optional
        ``alpha``, and ``items`` with ``alpha_if_deleted`` and ``r_drop``.
    efa : EFAResult, optional
        ``loadings`` (items x factors).
    content_validity : result, optional
        ``items`` with ``n_experts`` (-> ``cvi_experts``), ``i_cvi``, ``modified_kappa``,
        ``cvr``, ``cvr_critical`` (relevance ratings of an expert panel).
    qual : QualEvidence, optional
        ``items`` (``participants``, ``segments``, ``supports``, ``challenges``,
        ``wording``, ``other``, ``representative``), ``quotes`` and
        ``missing_concepts``.
    descriptives : DescriptivesResult, optional
    rules : DecisionRules, optional
        ``quote_count`` quotes per item are kept.
    content_validity_aspects : mapping of aspect to result, optional
        Content validity of the panel's other aspects; the ``clarity`` result's I-CVI
        becomes ``clarity_i_cvi``.

    Returns
    -------
    DataFrame
    """
    rules = rules or DecisionRules()
    rel = _by_item(_frame(relevance))
    cvi = _by_item(_frame(content_validity))
    clarity = _by_item(_frame((content_validity_aspects or {}).get("clarity")))
    q_items = _by_item(_frame(qual))
    desc = _by_item(_frame(descriptives))
    loads = _loadings(efa)
    alpha_items: dict[str, dict[str, Any]] = {}
    scale_alpha: dict[str, float] = {}
    for cid, res in (reliability or {}).items():
        for item_id, rec in _by_item(_frame(res)).items():
            alpha_items[item_id] = rec
            scale_alpha[item_id] = float(res.alpha)
        del cid
    quotes: dict[str, list[str]] = {}
    qdf = _frame(qual, "quotes")
    if qdf is not None and not qdf.empty:
        for r in qdf.to_dict(orient="records"):
            lst = quotes.setdefault(str(r["item_id"]), [])
            if len(lst) < rules.quote_count:
                who = _val(r.get("participant"))
                lst.append(f"\u201c{r['text']}\u201d" + (f" ({who})" if who else ""))
    themes: dict[str, list[str]] = {}
    tdf = _frame(qual, "themes")
    if tdf is not None and not tdf.empty and "item_id" in tdf.columns and "theme" in tdf.columns:
        for r in tdf.to_dict(orient="records"):
            t = _val(r.get("theme"))
            if t and t not in themes.setdefault(str(r["item_id"]), []):
                themes[str(r["item_id"])].append(str(t))

    rows = []
    for c, it in instrument.iter_items():
        r = rel.get(it.id, {})
        ratio = _val(r.get("ratio"))
        relevant = _val(r.get("relevant"))
        if relevant is None and ratio is not None:
            relevant = bool(ratio >= rules.relevance_min)
        a = alpha_items.get(it.id, {})
        lo = loads.get(it.id)
        cv = cvi.get(it.id, {})
        qi = q_items.get(it.id, {})
        d = desc.get(it.id, {})
        rep = _val(qi.get("representative"))
        rows.append({
            "row_type": "item", "item_id": it.id, "construct_id": c.id, "kind": c.kind,
            "label": it.label, "concept": None,
            "relevance_selected": _val(r.get("selected")),
            "relevance_presented": _val(r.get("presented")),
            "relevance_ratio": ratio,
            "relevance_ci_low": _val(r.get("ci_low")),
            "relevance_ci_high": _val(r.get("ci_high")),
            "relevant": None if relevant is None else bool(relevant),
            "scale_alpha": scale_alpha.get(it.id),
            "alpha_if_deleted": _val(a.get("alpha_if_deleted")),
            "r_drop": _val(a.get("r_drop")),
            "loading_factor": lo[0] if lo else None,
            "loading": lo[1] if lo else None,
            "cross_loading": lo[2] if lo else None,
            "cvi_experts": _val(cv.get("n_experts")),
            "i_cvi": _val(cv.get("i_cvi")), "modified_kappa": _val(cv.get("modified_kappa")),
            "cvr": _val(cv.get("cvr")), "cvr_critical": _val(cv.get("cvr_critical")),
            "clarity_i_cvi": _val(clarity.get(it.id, {}).get("i_cvi")),
            "floor_share": _val(d.get("floor_share")),
            "ceiling_share": _val(d.get("ceiling_share")),
            "missing_share": _val(d.get("missing_share")),
            "qual_participants": _val(qi.get("participants")),
            "qual_segments": _val(qi.get("segments")),
            "qual_supports": _val(qi.get("supports")),
            "qual_challenges": _val(qi.get("challenges")),
            "qual_wording": _val(qi.get("wording")),
            "qual_other": _val(qi.get("other")),
            "representative": None if rep is None else bool(rep),
            "themes": "; ".join(themes.get(it.id, [])) or None,
            "quotes": "\n".join(quotes.get(it.id, [])) or None,
        })
    mdf = _frame(qual, "missing_concepts")
    if mdf is not None and not mdf.empty:
        for m in mdf.to_dict(orient="records"):
            theme = _val(m.get("theme"))
            ex = _val(m.get("example_quote", m.get("example")))
            rows.append({
                "row_type": "missing_concept", "item_id": None,
                "construct_id": _val(m.get("construct_id")), "kind": None,
                "label": str(theme or m.get("code")), "concept": str(m.get("code")),
                "qual_participants": _val(m.get("participants")),
                "qual_segments": _val(m.get("segments")),
                "themes": None if theme is None else str(theme),
                "quotes": f"\u201c{ex}\u201d" if ex else None,
            })
    # dtype=object keeps counts as ints where other rows have none (missing concepts)
    return pd.DataFrame(rows, columns=list(EVIDENCE_COLUMNS), dtype=object).where(
        lambda x: x.notna(), None) if rows else pd.DataFrame(columns=list(EVIDENCE_COLUMNS))


@dataclass(frozen=True, repr=False)
class JointDisplay(Result):
    """The joint display with proposed and final decisions.

    Attributes
    ----------
    items : DataFrame
        One row per item and per missing concept: the evidence columns
        (:data:`EVIDENCE_COLUMNS`), then ``convergence``, ``proposed``, ``rules_fired``,
        ``supporting_rules``, ``reason``, ``evidence``, the expert columns, ``decision``,
        ``decided_by`` and ``open_question``.
    rules : DecisionRules
    """

    items: pd.DataFrame
    rules: DecisionRules = field(default_factory=DecisionRules)

    def to_frame(self) -> pd.DataFrame:
        return self.items.copy()

    def open_questions(self) -> pd.DataFrame:
        """Rows no expert decided although the rules ask for one."""
        return self.items[self.items["open_question"].astype(bool)].copy()

    def counts(self) -> dict[str, Any]:
        """Counts for a summary: items, decisions, convergence, open questions."""
        it = self.items[self.items["row_type"] == "item"]
        mc = self.items[self.items["row_type"] == "missing_concept"]
        dec = it["decision"].value_counts()
        added = int((mc["decision"] == "add").sum())
        return {
            "items_reviewed": int(len(it)),
            "kept": int(dec.get("keep", 0)),
            "revised": int(dec.get("revise", 0)),
            "removed": int(dec.get("remove", 0)),
            "added": added,
            "items_in_revision": int(len(it) - dec.get("remove", 0) + added),
            "missing_concepts": int(len(mc)),
            "open_questions": int(self.items["open_question"].astype(bool).sum()),
            "expert_decisions": int((self.items["decided_by"] == "expert").sum()),
            "convergence": {c: int((it["convergence"] == c).sum()) for c in CONVERGENCE},
        }

    def rule_catalogue(self) -> pd.DataFrame:
        return rule_catalogue(self.rules)

    def to_dict(self) -> dict[str, Any]:
        return {"counts": self.counts(),
                "rows": [{k: _json(v) for k, v in r.items()}
                         for r in self.items.to_dict(orient="records")]}


def _json(v: Any) -> Any:
    v = _val(v)
    if isinstance(v, float) and (np.isnan(v) or np.isinf(v)):
        return None
    return v


def joint_display(instrument: Any, *, relevance: Any = None,
                  reliability: Mapping[str, Any] | None = None, efa: Any = None,
                  content_validity: Any = None, qual: Any = None, descriptives: Any = None,
                  decisions: Any = None, rules: DecisionRules | None = None,
                  content_validity_aspects: Mapping[str, Any] | None = None) -> JointDisplay:
    """Build the joint display: evidence, convergence, proposed and final decisions.

    See :func:`evidence_table` for the inputs (the expert panel's results --
    ``content_validity`` and ``content_validity_aspects`` -- are supporting evidence only:
    they fire R14/R15 but never change a proposal); ``decisions`` is an
    :class:`~instrval.io.decisions.ExpertDecisions`. The decision logic is in
    :mod:`instrval.integrate.decisions` and docs/decision-rules.md.

    Examples
    --------
    >>> from instrval import read_instrument, read_ratings, relevance_ratios
    >>> instrument = read_instrument("instruments/iam/iam-2011.yaml")
    >>> ratings = read_ratings("examples/iam/data/iam-sample.csv", instrument)
    >>> rel = relevance_ratios(ratings, cluster=False)
    >>> jd = joint_display(instrument, relevance=rel)
    >>> jd.counts()["removed"]
    2
    """
    rules = rules or DecisionRules()
    ev = evidence_table(instrument, relevance=relevance, reliability=reliability, efa=efa,
                        content_validity=content_validity, qual=qual,
                        descriptives=descriptives, rules=rules,
                        content_validity_aspects=content_validity_aspects)
    table = apply_expert_decisions(propose_decisions(ev, rules), decisions)
    return JointDisplay(table.reset_index(drop=True), rules)
