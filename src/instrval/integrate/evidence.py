"""The joint display: quantitative and qualitative evidence side by side, per item.

One row per item of the instrument (plus one row per missing concept raised in the
interviews) with

* quantitative evidence: for check-box and choice items the relevance ratio, its interval
  and verdict; for scale items (likert, binary) their psychometric evidence -- alpha (KR-20)
  if the item is deleted, the corrected item-total correlation, the loading on the factor of
  the item's own construct and the highest loading on another factor, the difficulty
  (proportion correct or endorsed) of binary items; for every item the expert panel's
  I-CVI, modified kappa, CVR with its critical value and, when the panel rated clarity, the
  clarity I-CVI; item floor and ceiling shares (descriptive);
* qualitative evidence: participants, segments by category, the representativeness verdict,
  themes and one or two quotes;
* the convergence of the two strands, the proposed decision and the ids of the rules that
  fired (:mod:`instrval.integrate.decisions`), and the experts' decision where there is one.

Inputs are the result objects of the statistics modules; every input is optional and the
columns of a missing input are left empty.

Adding a psychometric signal (a DIF flag, an IRT item-fit statistic) needs no redesign:
pass its per-item table as ``extra`` (columns ``item_id`` and the signal), and add an item
flag (:class:`~instrval.integrate.decisions.Rule` with ``strand="psychometric"`` and a
``check`` reading the column) to the flags given to ``joint_display(flags=...)`` -- the
flag then enters the quantitative verdict of scale items and the convergence.
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
    ENDORSEMENT_KINDS,
    apply_expert_decisions,
    propose_decisions,
    rule_catalogue,
)
from instrval.model.rules import DecisionRules

__all__ = ["JointDisplay", "evidence_table", "joint_display", "scale_table", "EVIDENCE_COLUMNS",
           "SCALE_EVIDENCE_COLUMNS"]

#: Columns of the evidence table, in order.
EVIDENCE_COLUMNS = (
    "row_type", "item_id", "construct_id", "kind", "label", "concept",
    "relevance_selected", "relevance_presented", "relevance_ratio", "relevance_ci_low",
    "relevance_ci_high", "relevant",
    "scale_alpha", "alpha_if_deleted", "r_drop", "loading_factor", "loading",
    "cross_loading", "difficulty", "cvi_experts", "i_cvi", "modified_kappa", "cvr", "cvr_critical",
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


def _loadings(efa: Any, instrument: Any = None) -> dict[str, tuple[str, float, float | None]]:
    """item -> (its own factor, its loading there, the highest |loading| on another factor).

    The own factor of an item is the factor matched to its construct: constructs and
    factors are paired so that the summed absolute loadings of each construct's items on
    its factor are largest (an assignment problem). Items of constructs left without a
    factor (more constructs than factors), or without an instrument, take the factor of
    their highest absolute loading.
    """
    L = getattr(efa, "loadings", None) if efa is not None else None
    if L is None:
        return {}
    if isinstance(L, pd.DataFrame) and "item_id" in L.columns:
        L = L.set_index("item_id")
    L = L.select_dtypes("number")
    L.index = [str(i) for i in L.index]
    own: dict[str, str] = {}
    if instrument is not None and L.shape[1] > 0:
        from scipy.optimize import linear_sum_assignment

        groups = [(c.id, [i for i in c.item_ids if i in L.index]) for c in instrument.constructs]
        groups = [(cid, ids) for cid, ids in groups if ids]
        if groups:
            W = np.array([[float(L.loc[ids, f].abs().sum()) for f in L.columns]
                          for _, ids in groups])
            rows, cols = linear_sum_assignment(-W)
            for r, c in zip(rows, cols, strict=True):
                for i in groups[r][1]:
                    own[i] = str(L.columns[c])
    out = {}
    for item, row in L.iterrows():
        a = row.abs()
        if a.empty or a.isna().all():
            continue
        f = own.get(str(item)) or str(a.sort_values(ascending=False).index[0])
        others = a.drop(index=f)
        cross = float(others.max()) if len(others) else None
        out[str(item)] = (f, float(row[f]), cross)
    return out


def evidence_table(instrument: Any, *, relevance: Any = None,
                   reliability: Mapping[str, Any] | None = None, efa: Any = None,
                   content_validity: Any = None, qual: Any = None, descriptives: Any = None,
                   rules: DecisionRules | None = None,
                   content_validity_aspects: Mapping[str, Any] | None = None,
                   extra: pd.DataFrame | None = None) -> pd.DataFrame:
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
    efa : EFAResult or sequence of EFAResult, optional
        ``loadings`` (items x factors); each item's loading on the factor matched to its
        construct and its highest cross-loading. Several results (e.g. one for the Likert
        and one for the binary scales) are combined.
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
    extra : DataFrame, optional
        More per-item evidence: ``item_id`` and any columns, appended after
        :data:`EVIDENCE_COLUMNS` (e.g. a DIF flag or an IRT fit statistic).

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
    loads: dict[str, tuple[str, float, float | None]] = {}
    for one in (efa if isinstance(efa, (list, tuple)) else [efa]):
        loads.update(_loadings(one, instrument))
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
        # relevance ratios judge endorsement items only; scale items are judged by their
        # psychometric evidence (a hard test item is never "not relevant")
        r = rel.get(it.id, {}) if c.kind in ENDORSEMENT_KINDS else {}
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
            "difficulty": (_val(a.get("mean")) if c.kind == "binary" and a
                           else _val(d.get("mean")) if c.kind == "binary" else None),
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
    out = pd.DataFrame(rows, columns=list(EVIDENCE_COLUMNS), dtype=object).where(
        lambda x: x.notna(), None) if rows else pd.DataFrame(columns=list(EVIDENCE_COLUMNS))
    if extra is not None and not extra.empty:
        if "item_id" not in extra.columns:
            raise ValueError("extra evidence needs an item_id column")
        clash = [c for c in extra.columns if c != "item_id" and c in out.columns]
        if clash:
            raise ValueError(f"extra evidence repeats evidence columns: {', '.join(clash)}")
        ex = (extra.assign(item_id=extra["item_id"].astype(str))
              .drop_duplicates("item_id").set_index("item_id"))
        for col in extra.columns:
            if col == "item_id":
                continue
            out[col] = pd.Series([_val(ex[col].get(i)) if i is not None else None
                                  for i in out["item_id"]], index=out.index, dtype=object)
    return out


#: Columns of the scale table (one row per Likert or binary scale).
SCALE_EVIDENCE_COLUMNS = (
    "construct_id", "kind", "k", "n", "alpha", "alpha_label", "alpha_ci_low",
    "alpha_ci_high", "check_keys", "floor_share", "ceiling_share", "rules_fired")


def scale_table(instrument: Any, *, reliability: Mapping[str, Any] | None = None,
                totals: Any = None, rules: DecisionRules | None = None) -> pd.DataFrame:
    """One row per Likert or binary scale: alpha (KR-20 for binary scales) with its
    interval, the items psych would advise to reverse (``check_keys``), the shares of
    respondents at the lowest / highest possible total and the scale-level rules that
    fired (``R16-floor-ceiling``: a share above ``floor_ceiling_max``, Terwee et al. 2007).

    Parameters
    ----------
    instrument : Instrument
    reliability : mapping of construct id to AlphaResult, optional
    totals : ScaleTotalsResult, optional
        From :func:`instrval.stats.descriptives.scale_totals`.
    rules : DecisionRules, optional
    """
    rules = rules or DecisionRules()
    tot = {}
    tdf = _frame(totals, "scales")
    if tdf is not None and not tdf.empty:
        tot = {str(r["construct_id"]): r for r in tdf.to_dict(orient="records")}
    rows = []
    for c in instrument.constructs:
        if c.kind not in ("likert", "binary"):
            continue
        rel = (reliability or {}).get(c.id)
        t = tot.get(c.id, {})
        if rel is None and not t:
            continue
        fl, ce = _val(t.get("floor_share")), _val(t.get("ceiling_share"))
        fired = []
        if ((fl is not None and fl > rules.floor_ceiling_max)
                or (ce is not None and ce > rules.floor_ceiling_max)):
            fired.append("R16-floor-ceiling")
        rows.append({
            "construct_id": c.id, "kind": c.kind, "k": len(c.items),
            "n": _val(t.get("n")) if t else _val(getattr(rel, "n", None)),
            "alpha": _val(getattr(rel, "alpha", None)),
            "alpha_label": "KR-20" if c.kind == "binary" else "alpha",
            "alpha_ci_low": _val(getattr(rel, "ci_low", None)),
            "alpha_ci_high": _val(getattr(rel, "ci_high", None)),
            "check_keys": ", ".join(getattr(rel, "check_keys", ()) or ()) or None,
            "floor_share": fl, "ceiling_share": ce, "rules_fired": ";".join(fired),
        })
    return pd.DataFrame(rows, columns=list(SCALE_EVIDENCE_COLUMNS), dtype=object)


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
    scales : DataFrame
        One row per Likert or binary scale (:func:`scale_table`); empty without scales.
    """

    items: pd.DataFrame
    rules: DecisionRules = field(default_factory=DecisionRules)
    scales: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(SCALE_EVIDENCE_COLUMNS)))

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
            **self._strand_counts(it),
        }

    def _strand_counts(self, it: pd.DataFrame) -> dict[str, Any]:
        """Counts by quantitative strand, only when scale items were judged by their
        item statistics (``psychometric``: items ``sound`` / with a ``problem``)."""
        if "quant_verdict" not in it.columns or not (it["quant_strand"] == "psychometric").any():
            return {}
        ps = it[it["quant_strand"] == "psychometric"]
        return {"psychometric": {"sound": int((ps["quant_verdict"] == "sound").sum()),
                                 "problem": int((ps["quant_verdict"] == "problem").sum())}}

    def rule_catalogue(self) -> pd.DataFrame:
        return rule_catalogue(self.rules)

    def to_dict(self) -> dict[str, Any]:
        d = {"counts": self.counts(),
             "rows": [{k: _json(v) for k, v in r.items()}
                      for r in self.items.to_dict(orient="records")]}
        if not self.scales.empty:
            d["scales"] = [{k: _json(v) for k, v in r.items()}
                           for r in self.scales.to_dict(orient="records")]
        return d


def _json(v: Any) -> Any:
    v = _val(v)
    if isinstance(v, float) and (np.isnan(v) or np.isinf(v)):
        return None
    return v


def joint_display(instrument: Any, *, relevance: Any = None,
                  reliability: Mapping[str, Any] | None = None, efa: Any = None,
                  content_validity: Any = None, qual: Any = None, descriptives: Any = None,
                  decisions: Any = None, rules: DecisionRules | None = None,
                  content_validity_aspects: Mapping[str, Any] | None = None,
                  totals: Any = None, extra: pd.DataFrame | None = None,
                  flags: Any = None) -> JointDisplay:
    """Build the joint display: evidence, convergence, proposed and final decisions.

    See :func:`evidence_table` for the inputs (the expert panel's results --
    ``content_validity`` and ``content_validity_aspects`` -- are supporting evidence only:
    they fire R14/R15 but never change a proposal); ``decisions`` is an
    :class:`~instrval.io.decisions.ExpertDecisions`; ``totals`` the scale totals
    (:func:`instrval.stats.descriptives.scale_totals`) for the scale table; ``extra`` and
    ``flags`` add evidence columns and item flags (see the module docstring). The decision
    logic is in :mod:`instrval.integrate.decisions` and docs/decision-rules.md.

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
                        content_validity_aspects=content_validity_aspects, extra=extra)
    table = apply_expert_decisions(propose_decisions(ev, rules, flags=flags), decisions)
    scales = scale_table(instrument, reliability=reliability, totals=totals, rules=rules)
    return JointDisplay(table.reset_index(drop=True), rules, scales)
