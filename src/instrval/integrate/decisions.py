"""Decision rules: from the evidence about an item to a proposed decision.

Every rule has a stable id (``R1-relevance-below-cutoff``), a statement, the thresholds of
:class:`~instrval.model.rules.DecisionRules` it uses, and whether it is *decisive* (it sets
the proposed decision) or *supporting* (it is listed as evidence that expands the picture
but decides nothing by default). The default logic follows the IAM content validation
(Pluye, Grad et al.; see docs/decision-rules.md): failing relevance was decisive; where
the quantitative and the qualitative strands disagreed, the item went to expert discussion.

Convergence of the two strands, per item (Fetters, Curry & Creswell 2013):

* ``confirmation`` -- both strands say the same;
* ``expansion`` -- they agree on the verdict and one strand adds something (a wording
  suggestion, a supporting statistic flagged);
* ``discordance`` -- they disagree;
* ``silence`` -- one strand (or both) has no evidence on the item.

Expert decisions (:mod:`instrval.io.decisions`) override the proposal; the report shows
both. Discordant items, proposed rewordings and candidate items that no expert decided are
*open questions*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from instrval.model.rules import DecisionRules

__all__ = ["Rule", "RULE_CATALOGUE", "rule_catalogue", "propose_decisions",
           "apply_expert_decisions", "i_cvi_threshold", "CONVERGENCE", "PROPOSALS"]

CONVERGENCE = ("confirmation", "expansion", "discordance", "silence")
PROPOSALS = ("keep", "revise", "remove", "add", "none")


@dataclass(frozen=True)
class Rule:
    """One decision rule."""

    id: str
    statement: str
    proposes: str | None
    convergence: str | None
    thresholds: tuple[str, ...]
    decisive: bool

    def to_dict(self, rules: DecisionRules | None = None) -> dict[str, Any]:
        r = rules or DecisionRules()
        return {"id": self.id, "statement": self.statement, "proposes": self.proposes,
                "convergence": self.convergence, "decisive": self.decisive,
                "thresholds": {t: getattr(r, t) for t in self.thresholds}}


#: Every rule, in the order they are checked.
RULE_CATALOGUE: tuple[Rule, ...] = (
    Rule("R1-relevance-below-cutoff",
         "The relevance ratio is below relevance_min: remove the item, whatever the "
         "qualitative strand says (relevance is decisive; a representative item is then "
         "discordant and goes to the experts, but the proposal stays remove).",
         "remove", None, ("relevance_min",), True),
    Rule("R2-relevant-and-representative",
         "Relevant and representative: keep (confirmation).",
         "keep", "confirmation", ("relevance_min", "qual_min_participants",
                                  "qual_max_challenge_share"), True),
    Rule("R3-relevant-not-representative",
         "Relevant but not representative: discordance; propose to revise the wording and "
         "leave the decision to the experts (an open question until they decide).",
         "revise", "discordance", ("relevance_min", "qual_max_challenge_share"), True),
    Rule("R4-relevant-no-qualitative-evidence",
         "Relevant, and fewer than qual_min_participants participants discussed the item: "
         "keep (silence of the qualitative strand).",
         "keep", "silence", ("relevance_min", "qual_min_participants"), True),
    Rule("R5-qualitative-evidence-only",
         "No relevance ratio: the qualitative verdict decides; representative -> keep, not "
         "representative -> revise wording (an open question until experts decide).",
         None, "silence", ("qual_min_participants", "qual_max_challenge_share"), True),
    Rule("R6-no-decisive-evidence",
         "Neither a relevance ratio nor a qualitative verdict: keep (nothing speaks against "
         "the item); supporting statistics are still listed.",
         "keep", "silence", (), True),
    Rule("R7-wording-suggestions",
         "A representative item on which participants suggested other wording: keep, and "
         "note the suggestions (expansion).",
         "keep", "expansion", (), False),
    Rule("R8-missing-concept",
         "A concept no item covers, raised by at least qual_min_participants participants: "
         "candidate for a new item; added only by an expert decision 'add' with a new item "
         "id and label.",
         "add", None, ("qual_min_participants",), True),
    Rule("R9-missing-concept-below-threshold",
         "A concept no item covers, raised by fewer than qual_min_participants "
         "participants: reported, no action proposed.",
         "none", None, ("qual_min_participants",), True),
    Rule("R10-alpha-if-deleted-gain",
         "Cronbach's alpha of the scale would rise if the item were deleted (supporting).",
         None, "expansion", (), False),
    Rule("R11-item-total-r-low",
         "Corrected item-total correlation (r.drop) below r_drop_min (supporting).",
         None, "expansion", ("r_drop_min",), False),
    Rule("R12-loading-low",
         "Highest absolute EFA loading below loading_min (supporting).",
         None, "expansion", ("loading_min",), False),
    Rule("R13-cross-loading",
         "Second-highest absolute EFA loading above cross_loading_max (supporting).",
         None, "expansion", ("cross_loading_max",), False),
    Rule("R14-i-cvi-low",
         "Expert-panel item content validity index below i_cvi_min (below 1.00 when five "
         "or fewer experts rated the item; Lynn 1986) (supporting).",
         None, "expansion", ("i_cvi_min",), False),
    Rule("R15-cvr-below-critical",
         "Lawshe's content validity ratio below its critical value for the panel size "
         "(supporting).", None, "expansion", (), False),
    Rule("R16-floor-ceiling",
         "More than floor_ceiling_max of the answers at the lowest or highest option "
         "(supporting).", None, "expansion", ("floor_ceiling_max",), False),
    Rule("E1-expert-decision",
         "An expert decision overrides the proposed decision; the report shows both.",
         None, None, (), True),
)


def rule_catalogue(rules: DecisionRules | None = None) -> pd.DataFrame:
    """The rules as a table: ``id``, ``statement``, ``proposes``, ``convergence``,
    ``decisive``, ``thresholds`` (``name = value`` text for the rules given)."""
    r = rules or DecisionRules()
    rows = []
    for rule in RULE_CATALOGUE:
        d = rule.to_dict(r)
        d["thresholds"] = "; ".join(f"{k} = {v:g}" for k, v in d["thresholds"].items())
        rows.append(d)
    return pd.DataFrame(rows, columns=["id", "statement", "proposes", "convergence",
                                       "decisive", "thresholds"])


def _isna(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


def _num(v: Any) -> float | None:
    return None if _isna(v) else float(v)


#: Panels of at most this many experts must agree unanimously (Lynn 1986).
SMALL_PANEL_MAX = 5


def i_cvi_threshold(n_experts: Any, rules: DecisionRules | None = None) -> float:
    """The lowest acceptable I-CVI for an item rated by ``n_experts`` experts.

    ``rules.i_cvi_min`` (.78 by default) with six or more experts; 1.00 with five or fewer,
    where every expert must judge the item relevant (Lynn 1986; Polit & Beck 2006). When
    the panel size is unknown, ``rules.i_cvi_min``.

    >>> i_cvi_threshold(10), i_cvi_threshold(5)
    (0.78, 1.0)
    """
    r = rules or DecisionRules()
    n = _num(n_experts)
    if n is not None and 0 < n <= SMALL_PANEL_MAX:
        return 1.0
    return float(r.i_cvi_min)


def _supporting(row: dict[str, Any], rules: DecisionRules) -> list[str]:
    fired = []
    a_del, a = _num(row.get("alpha_if_deleted")), _num(row.get("scale_alpha"))
    if a_del is not None and a is not None and a_del > a:
        fired.append("R10-alpha-if-deleted-gain")
    r_drop = _num(row.get("r_drop"))
    if r_drop is not None and r_drop < rules.r_drop_min:
        fired.append("R11-item-total-r-low")
    lo = _num(row.get("loading"))
    if lo is not None and abs(lo) < rules.loading_min:
        fired.append("R12-loading-low")
    cross = _num(row.get("cross_loading"))
    if cross is not None and abs(cross) > rules.cross_loading_max:
        fired.append("R13-cross-loading")
    icvi = _num(row.get("i_cvi"))
    if icvi is not None and icvi < i_cvi_threshold(row.get("cvi_experts"), rules):
        fired.append("R14-i-cvi-low")
    cvr, crit = _num(row.get("cvr")), _num(row.get("cvr_critical"))
    if cvr is not None and crit is not None and cvr < crit:
        fired.append("R15-cvr-below-critical")
    fl, ce = _num(row.get("floor_share")), _num(row.get("ceiling_share"))
    rated = row.get("kind") == "likert"
    if rated and ((fl is not None and fl > rules.floor_ceiling_max)
                  or (ce is not None and ce > rules.floor_ceiling_max)):
        fired.append("R16-floor-ceiling")
    return fired


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.2f}%"


def _cut(v: float) -> str:
    """A threshold as a percentage, as given (0.1 -> ``10%``, 0.125 -> ``12.5%``)."""
    return f"{100 * v:g}%"


def _evidence_text(row: dict[str, Any], rules: DecisionRules) -> str:
    parts = []
    r = _num(row.get("relevance_ratio"))
    if r is not None:
        lo, hi = _num(row.get("relevance_ci_low")), _num(row.get("relevance_ci_high"))
        ci = f" [{_pct(lo)}, {_pct(hi)}]" if lo is not None and hi is not None else ""
        n = row.get("relevance_presented")
        parts.append(f"relevance R = {_pct(r)}{ci}"
                     + (f", n = {int(n):,}" if not _isna(n) else "")
                     + f" (cut-off {_cut(rules.relevance_min)})")
    rep = row.get("representative")
    npart = row.get("qual_participants")
    if not _isna(npart) and int(npart) > 0:
        verdict = ("representative" if rep is True else "not representative" if rep is False
                   else "no verdict")
        parts.append(f"qualitative: {int(npart)} participants, "
                     f"{int(row.get('qual_supports') or 0)} supporting / "
                     f"{int(row.get('qual_challenges') or 0)} challenging segments, {verdict}")
    for col, label in (("alpha_if_deleted", "alpha if deleted"), ("r_drop", "r.drop"),
                       ("loading", "loading")):
        v = _num(row.get(col))
        if v is not None:
            parts.append(f"{label} = {v:.3f}")
    icvi = _num(row.get("i_cvi"))
    if icvi is not None:
        panel = [f"I-CVI = {icvi:.3f}"]
        n = _num(row.get("cvi_experts"))
        cvr, crit = _num(row.get("cvr")), _num(row.get("cvr_critical"))
        if cvr is not None:
            panel.append(f"CVR = {cvr:.3f}"
                         + (f" (critical {crit:.3f})" if crit is not None else ""))
        clarity = _num(row.get("clarity_i_cvi"))
        if clarity is not None:
            panel.append(f"clarity I-CVI = {clarity:.3f}")
        parts.append("expert panel" + (f" ({int(n)} experts)" if n is not None else "")
                     + ": " + ", ".join(panel))
    return "; ".join(parts)


def propose_decisions(evidence: pd.DataFrame, rules: DecisionRules | None = None) -> pd.DataFrame:
    """Apply the decision rules to an evidence table (one row per item or missing concept).

    Parameters
    ----------
    evidence : DataFrame
        From :func:`instrval.integrate.evidence.evidence_table`: ``row_type`` (``item`` or
        ``missing_concept``), ``relevant`` (bool or NA), ``representative`` (bool or NA),
        ``qual_participants``, ``qual_wording`` and the supporting statistics.
    rules : DecisionRules, optional

    Returns
    -------
    DataFrame
        ``evidence`` with ``convergence``, ``proposed``, ``rules_fired`` (``;``-joined rule
        ids, decisive first), ``supporting_rules``, ``reason`` and ``evidence`` added.
    """
    rules = rules or DecisionRules()
    out = evidence.copy()
    conv, prop, fired_col, supp_col, reason_col, ev_col = [], [], [], [], [], []
    for row in evidence.to_dict(orient="records"):
        supp = _supporting(row, rules) if row.get("row_type") == "item" else []
        if row.get("row_type") == "missing_concept":
            n = int(row.get("qual_participants") or 0)
            if n >= rules.qual_min_participants:
                c, p, fired = "silence", "add", ["R8-missing-concept"]
                reason = (f"{n} participants raised a concept no item covers "
                          f"(>= {rules.qual_min_participants}): candidate for a new item")
            else:
                c, p, fired = "silence", "none", ["R9-missing-concept-below-threshold"]
                reason = (f"{n} participant(s) raised a concept no item covers "
                          f"(< {rules.qual_min_participants}): no action proposed")
            conv.append(c)
            prop.append(p)
            fired_col.append(";".join(fired))
            supp_col.append("")
            reason_col.append(reason)
            ev_col.append(f"qualitative: {n} participants, "
                          f"{int(row.get('qual_segments') or 0)} segments")
            continue
        rel = row.get("relevant")
        rel = None if _isna(rel) else bool(rel)
        rep = row.get("representative")
        rep = None if _isna(rep) else bool(rep)
        wording = int(row.get("qual_wording") or 0) if not _isna(row.get("qual_wording")) else 0
        fired: list[str] = []
        if rel is False:
            p = "remove"
            fired.append("R1-relevance-below-cutoff")
            c = {True: "discordance", False: "confirmation", None: "silence"}[rep]
            reason = (f"relevance ratio {_pct(_num(row.get('relevance_ratio')))} is below the "
                      f"cut-off {_cut(rules.relevance_min)}; relevance is decisive")
            if rep is True:
                reason += (" (the qualitative strand found the item representative: "
                           "discordance, for the experts)")
        elif rel is True:
            if rep is True:
                p, c = "keep", "confirmation"
                fired.append("R2-relevant-and-representative")
                reason = "relevant and representative"
                if wording > 0:
                    fired.append("R7-wording-suggestions")
                    c = "expansion"
                    reason += f"; {wording} wording suggestion(s) noted"
                if supp:
                    c = "expansion"
            elif rep is False:
                p, c = "revise", "discordance"
                fired.append("R3-relevant-not-representative")
                reason = ("relevant but not representative: revise the wording, pending an "
                          "expert decision")
            else:
                p, c = "keep", "silence"
                fired.append("R4-relevant-no-qualitative-evidence")
                reason = "relevant; no qualitative verdict on the item"
        else:
            if rep is None:
                p, c = "keep", "silence"
                fired.append("R6-no-decisive-evidence")
                reason = "no relevance ratio and no qualitative verdict: nothing speaks against it"
            else:
                fired.append("R5-qualitative-evidence-only")
                c = "silence"
                if rep:
                    p, reason = "keep", "representative (no relevance ratio)"
                    if wording > 0:
                        fired.append("R7-wording-suggestions")
                        reason += f"; {wording} wording suggestion(s) noted"
                else:
                    p, reason = "revise", ("not representative (no relevance ratio): revise "
                                           "the wording, pending an expert decision")
        if supp:
            reason += "; supporting flags: " + ", ".join(s.split("-", 1)[0] for s in supp)
        conv.append(c)
        prop.append(p)
        fired_col.append(";".join(fired + supp))
        supp_col.append(";".join(supp))
        reason_col.append(reason)
        ev_col.append(_evidence_text(row, rules))
    out["convergence"] = conv
    out["proposed"] = prop
    out["rules_fired"] = fired_col
    out["supporting_rules"] = supp_col
    out["reason"] = reason_col
    out["evidence"] = ev_col
    return out


def apply_expert_decisions(table: pd.DataFrame, decisions: Any = None) -> pd.DataFrame:
    """Add the experts' decisions to a table from :func:`propose_decisions`.

    Adds ``expert_decision``, ``expert_rationale``, ``expert_who``, ``expert_date``,
    ``new_label``, ``new_text``, ``new_item_id``, ``decision`` (the expert's when given,
    else the proposal; candidate items without an expert ``add`` become ``none``),
    ``decided_by`` (``expert`` / ``rules``) and ``open_question`` (discordance, a proposed
    rewording or a candidate item that no expert decided).

    Parameters
    ----------
    table : DataFrame
    decisions : ExpertDecisions, optional
    """
    out = table.copy()
    cols = {k: [] for k in ("expert_decision", "expert_rationale", "expert_who",
                            "expert_date", "new_label", "new_text", "new_item_id",
                            "new_construct_id", "decision", "decided_by", "open_question")}
    for row in table.to_dict(orient="records"):
        d = None
        if decisions is not None:
            if row.get("row_type") == "missing_concept":
                d = decisions.for_concept(str(row.get("concept")))
            elif not _isna(row.get("item_id")):
                d = decisions.for_item(str(row["item_id"]))
        if d is not None:
            dec = d["decision"]
            final = {"reject": "none"}.get(dec, dec)
            cols["expert_decision"].append(dec)
            cols["expert_rationale"].append(d.get("rationale"))
            cols["expert_who"].append(d.get("who"))
            cols["expert_date"].append(d.get("date"))
            cols["new_label"].append(d.get("new_label"))
            cols["new_text"].append(d.get("new_text"))
            is_add = dec == "add"
            cols["new_item_id"].append(d.get("item") if is_add else None)
            cols["new_construct_id"].append(
                (d.get("construct") or row.get("construct_id")) if is_add else None)
            cols["decision"].append(final)
            cols["decided_by"].append("expert")
            cols["open_question"].append(False)
        else:
            for k in ("expert_decision", "expert_rationale", "expert_who", "expert_date",
                      "new_label", "new_text", "new_item_id", "new_construct_id"):
                cols[k].append(None)
            prop = row.get("proposed")
            final = "none" if prop == "add" else prop
            cols["decision"].append(final)
            cols["decided_by"].append("rules")
            cols["open_question"].append(bool(
                row.get("convergence") == "discordance" or prop in ("revise", "add")))
    for k, v in cols.items():
        out[k] = pd.Series(v, index=out.index, dtype=bool if k == "open_question" else object)
    return out
