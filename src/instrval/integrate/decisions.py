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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from instrval.model.rules import DecisionRules

__all__ = ["Rule", "RULE_CATALOGUE", "rule_catalogue", "propose_decisions",
           "apply_expert_decisions", "i_cvi_threshold", "CONVERGENCE", "PROPOSALS",
           "SCALE_KINDS", "ENDORSEMENT_KINDS", "item_flags"]

CONVERGENCE = ("confirmation", "expansion", "discordance", "silence")
PROPOSALS = ("keep", "revise", "remove", "add", "none")
#: Construct kinds whose items form a scale: their quantitative strand is the items'
#: psychometric evidence.
SCALE_KINDS = ("likert", "binary")
#: Construct kinds judged by relevance ratios (endorsement check-boxes and choices).
ENDORSEMENT_KINDS = ("multi_select", "single_choice")

Check = Callable[[dict[str, Any], DecisionRules], bool]


@dataclass(frozen=True)
class Rule:
    """One decision rule."""

    id: str
    statement: str
    proposes: str | None
    convergence: str | None
    thresholds: tuple[str, ...]
    decisive: bool
    #: For item flags (supporting rules): which strand the flag belongs to --
    #: ``psychometric`` flags make up the quantitative verdict of a scale item.
    strand: str | None = None
    #: For item flags: ``check(row, rules)`` is True when the flag fires on an evidence row.
    check: Check | None = field(default=None, compare=False, repr=False)
    #: For item flags: the construct kinds the flag applies to (None = every kind).
    kinds: tuple[str, ...] | None = None

    def to_dict(self, rules: DecisionRules | None = None) -> dict[str, Any]:
        r = rules or DecisionRules()
        return {"id": self.id, "statement": self.statement, "proposes": self.proposes,
                "convergence": self.convergence, "decisive": self.decisive,
                "thresholds": {t: getattr(r, t) for t in self.thresholds}}

    def fires(self, row: dict[str, Any], rules: DecisionRules) -> bool:
        """True when this item flag applies to the row's kind and its check holds."""
        if self.check is None:
            return False
        if self.kinds is not None and row.get("kind") not in self.kinds:
            return False
        return bool(self.check(row, rules))


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


def _gain(row: dict[str, Any], rules: DecisionRules) -> bool:
    a_del, a = _num(row.get("alpha_if_deleted")), _num(row.get("scale_alpha"))
    return a_del is not None and a is not None and a_del - a > rules.alpha_gain_min


def _below(col: str, threshold: str, *, absolute: bool = False) -> Check:
    def check(row: dict[str, Any], rules: DecisionRules) -> bool:
        v = _num(row.get(col))
        return v is not None and (abs(v) if absolute else v) < getattr(rules, threshold)
    return check


def _cross(row: dict[str, Any], rules: DecisionRules) -> bool:
    v = _num(row.get("cross_loading"))
    return v is not None and abs(v) > rules.cross_loading_max


def _icvi(row: dict[str, Any], rules: DecisionRules) -> bool:
    v = _num(row.get("i_cvi"))
    return v is not None and v < i_cvi_threshold(row.get("cvi_experts"), rules)


def _dif(row: dict[str, Any], rules: DecisionRules) -> bool:
    return row.get("dif_class") in ("B", "C")


def _misfit(row: dict[str, Any], rules: DecisionRules) -> bool:
    msq = [v for v in (_num(row.get("irt_infit")), _num(row.get("irt_outfit"))) if v is not None]
    if any(not rules.irt_msq_min <= v <= rules.irt_msq_max for v in msq):
        return True
    p = _num(row.get("irt_p_adjusted"))
    return p is not None and p < rules.irt_fit_alpha


def _cvr(row: dict[str, Any], rules: DecisionRules) -> bool:
    cvr, crit = _num(row.get("cvr")), _num(row.get("cvr_critical"))
    return cvr is not None and crit is not None and cvr < crit


#: Every rule, in the order they are checked. Item flags (rules with a ``check``) are
#: evaluated on every item row whose kind they apply to; a new psychometric signal (a DIF
#: flag, an IRT misfit statistic) is one more evidence column and one more flag here with
#: ``strand="psychometric"`` -- it then enters the quantitative verdict of scale items.
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
         "No quantitative evidence (no relevance ratio, no item statistics): the "
         "qualitative verdict decides; representative -> keep, not representative -> "
         "revise wording (an open question until experts decide).",
         None, "silence", ("qual_min_participants", "qual_max_challenge_share"), True),
    Rule("R6-no-decisive-evidence",
         "Neither quantitative evidence nor a qualitative verdict: keep (nothing speaks "
         "against the item).",
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
         "Cronbach's alpha (KR-20 for binary items) of the scale would rise by more than "
         "alpha_gain_min if the item were deleted.",
         None, "expansion", ("alpha_gain_min",), False, "psychometric", _gain),
    Rule("R11-item-total-r-low",
         "Corrected item-total correlation (r.drop) below r_drop_min.",
         None, "expansion", ("r_drop_min",), False, "psychometric",
         _below("r_drop", "r_drop_min")),
    Rule("R12-loading-low",
         "Absolute EFA loading on the item's own factor (the factor of its construct) "
         "below loading_min.",
         None, "expansion", ("loading_min",), False, "psychometric",
         _below("loading", "loading_min", absolute=True)),
    Rule("R13-cross-loading",
         "Highest absolute EFA loading on another factor above cross_loading_max.",
         None, "expansion", ("cross_loading_max",), False, "psychometric", _cross),
    Rule("R14-i-cvi-low",
         "Expert-panel item content validity index below i_cvi_min (below 1.00 when five "
         "or fewer experts rated the item; Lynn 1986).",
         None, "expansion", ("i_cvi_min",), False, "panel", _icvi),
    Rule("R15-cvr-below-critical",
         "Lawshe's content validity ratio below its critical value for the panel size.",
         None, "expansion", (), False, "panel", _cvr),
    Rule("R16-floor-ceiling",
         "More than floor_ceiling_max of the respondents at the lowest or highest possible "
         "scale total (Terwee et al. 2007): a finding about the scale, listed with the "
         "scales; item-level shares are descriptive.",
         None, None, ("floor_ceiling_max",), False),
    Rule("R17-modified-kappa-low",
         "Expert-panel modified kappa (chance-corrected I-CVI) below modified_kappa_min.",
         None, "expansion", ("modified_kappa_min",), False, "panel",
         _below("modified_kappa", "modified_kappa_min")),
    Rule("R18-sound-and-representative",
         "Scale item: no psychometric flag and representative: keep (confirmation).",
         "keep", "confirmation", ("qual_min_participants", "qual_max_challenge_share"), True),
    Rule("R19-problem-confirmed",
         "Scale item: at least one psychometric flag and not representative: both strands "
         "find a problem (confirmation of a problem). Remove when the item does not measure "
         "its construct (r.drop below r_drop_min and own-factor loading below loading_min, "
         "or one of them when only one was computed); otherwise revise. Experts may choose "
         "the other.",
         None, "confirmation", ("r_drop_min", "loading_min", "qual_max_challenge_share"),
         True),
    Rule("R20-problem-but-representative",
         "Scale item: a psychometric flag, but representative in the interviews: "
         "discordance; keep, and leave the decision to the experts (an open question). "
         "Never removed on statistics alone, nor for being hard.",
         "keep", "discordance", ("qual_max_challenge_share",), True),
    Rule("R21-sound-not-representative",
         "Scale item: no psychometric flag, but not representative: discordance; propose "
         "to revise the wording, pending an expert decision (an open question).",
         "revise", "discordance", ("qual_max_challenge_share",), True),
    Rule("R22-psychometrics-only",
         "Scale item with item statistics but no qualitative verdict: keep (silence of the "
         "qualitative strand); psychometric flags are listed for the experts.",
         "keep", "silence", ("qual_min_participants",), True),
    Rule("R23-dif",
         "Differential item functioning between the groups of the study's dif: key, moderate "
         "or large (class B or C): ordinal logistic regression with a 2-df likelihood-ratio "
         "p below the DIF alpha and a Nagelkerke R-squared change of at least "
         "dif_r2_change_min (Jodoin & Gierl 2001), or Mantel-Haenszel with |ETS delta| of "
         "at least dif_ets_delta_min (Zwick 2012).",
         None, "expansion", ("dif_r2_change_min", "dif_ets_delta_min"), False,
         "psychometric", _dif),
    Rule("R24-irt-misfit",
         "Item misfit in the item response model of the study's irt: key: an infit or "
         "outfit mean square outside irt_msq_min..irt_msq_max (Rasch, partial credit, "
         "rating scale), or an S-X2 p adjusted for the false discovery rate below "
         "irt_fit_alpha (2PL, graded response).",
         None, "expansion", ("irt_msq_min", "irt_msq_max", "irt_fit_alpha"), False,
         "psychometric", _misfit),
    Rule("E1-expert-decision",
         "An expert decision overrides the proposed decision; the report shows both.",
         None, None, (), True),
)

#: The item flags (rules with a check), in catalogue order.
ITEM_FLAGS: tuple[Rule, ...] = tuple(r for r in RULE_CATALOGUE if r.check is not None)


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


def item_flags(row: dict[str, Any], rules: DecisionRules,
               flags: tuple[Rule, ...] | None = None) -> list[str]:
    """Ids of the item flags (:data:`ITEM_FLAGS`, or ``flags``) that fire on an evidence row."""
    return [f.id for f in (ITEM_FLAGS if flags is None else flags) if f.fires(row, rules)]


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
    diff = _num(row.get("difficulty"))
    if diff is not None:
        parts.append(f"difficulty p = {diff:.3f}")
    for col, label in (("alpha_if_deleted", "alpha if deleted"), ("r_drop", "r.drop"),
                       ("loading", "loading"), ("cross_loading", "cross-loading")):
        v = _num(row.get(col))
        if v is not None:
            if col == "loading" and not _isna(row.get("loading_factor")):
                label = f"loading on {row['loading_factor']}"
            parts.append(f"{label} = {v:.3f}")
    if not _isna(row.get("dif_class")):
        parts.append(f"DIF by {row.get('dif_group')}: class {row['dif_class']}"
                     + (f" ({row['dif_type']})" if row.get("dif_type") not in (None, "none")
                        else ""))
    if not _isna(row.get("irt_model")):
        fit = [f"{label} {v:.2f}" for label, v in (
            ("infit", _num(row.get("irt_infit"))), ("outfit", _num(row.get("irt_outfit"))))
            if v is not None]
        p = _num(row.get("irt_p_adjusted"))
        if p is not None:
            fit.append("S-X2 adjusted p " + ("< .001" if p < 0.001 else f"= {p:.3f}"))
        parts.append(f"IRT ({row['irt_model']}): " + (", ".join(fit) or "no item fit"))
    icvi = _num(row.get("i_cvi"))
    if icvi is not None:
        panel = [f"I-CVI = {icvi:.3f}"]
        n = _num(row.get("cvi_experts"))
        cvr, crit = _num(row.get("cvr")), _num(row.get("cvr_critical"))
        if cvr is not None:
            panel.append(f"CVR = {cvr:.3f}"
                         + (f" (critical {crit:.3f})" if crit is not None else ""))
        kappa = _num(row.get("modified_kappa"))
        if kappa is not None:
            panel.append(f"kappa* = {kappa:.3f}")
        clarity = _num(row.get("clarity_i_cvi"))
        if clarity is not None:
            panel.append(f"clarity I-CVI = {clarity:.3f}")
        parts.append("expert panel" + (f" ({int(n)} experts)" if n is not None else "")
                     + ": " + ", ".join(panel))
    return "; ".join(parts)


#: Evidence columns that carry item statistics (the psychometric strand of scale items).
ITEM_STATISTIC_COLUMNS = ("r_drop", "alpha_if_deleted", "loading", "cross_loading",
                          "i_cvi", "modified_kappa", "cvr", "dif_class", "irt_infit",
                          "irt_outfit", "irt_p_adjusted")


def _has_item_statistics(row: dict[str, Any]) -> bool:
    return any(not _isna(row.get(c)) for c in ITEM_STATISTIC_COLUMNS)


def _flag_names(ids: list[str]) -> str:
    return ", ".join(i.split("-", 1)[0] for i in ids)


def _scale_decision(row: dict[str, Any], rep: bool | None, problems: list[str], wording: int,
                    rules: DecisionRules) -> tuple[str, str, list[str], str]:
    """Proposal, convergence, rules fired and reason for a scale item with statistics."""
    flagged = f"psychometric flags {_flag_names(problems)}" if problems else ""
    if rep is None:
        reason = ("item statistics " + ("flag a problem (" + _flag_names(problems) + ")"
                                        if problems else "are sound")
                  + "; no qualitative verdict on the item")
        return "keep", "silence", ["R22-psychometrics-only"], reason
    if not problems and rep:
        fired = ["R18-sound-and-representative"]
        c = "confirmation"
        reason = "sound item statistics and representative"
        if wording > 0:
            fired.append("R7-wording-suggestions")
            c = "expansion"
            reason += f"; {wording} wording suggestion(s) noted"
        return "keep", c, fired, reason
    if problems and not rep:
        r_drop, lo = _num(row.get("r_drop")), _num(row.get("loading"))
        low = [v is not None and v < m for v, m in ((r_drop, rules.r_drop_min),
                                                     (None if lo is None else abs(lo),
                                                      rules.loading_min))]
        known = [v is not None for v in (r_drop, lo)]
        not_measuring = any(known) and all(lw for lw, k in zip(low, known, strict=True) if k)
        p = "remove" if not_measuring else "revise"
        reason = (f"{flagged} and not representative: both strands find a problem; "
                  + ("the item does not measure its construct (r.drop and own-factor "
                     "loading low): remove" if not_measuring else "revise the item"))
        return p, "confirmation", ["R19-problem-confirmed"], reason
    if problems and rep:
        return "keep", "discordance", ["R20-problem-but-representative"], (
            f"{flagged}, but representative in the interviews: discordance, for the experts")
    return "revise", "discordance", ["R21-sound-not-representative"], (
        "sound item statistics but not representative: revise the wording, pending an "
        "expert decision")


def propose_decisions(evidence: pd.DataFrame, rules: DecisionRules | None = None, *,
                      flags: tuple[Rule, ...] | None = None) -> pd.DataFrame:
    """Apply the decision rules to an evidence table (one row per item or missing concept).

    Parameters
    ----------
    evidence : DataFrame
        From :func:`instrval.integrate.evidence.evidence_table`: ``row_type`` (``item`` or
        ``missing_concept``), ``relevant`` (bool or NA), ``representative`` (bool or NA),
        ``qual_participants``, ``qual_wording`` and the supporting statistics.
    rules : DecisionRules, optional
    flags : tuple of Rule, optional
        The item flags to evaluate (default :data:`ITEM_FLAGS`); extend it with a rule
        whose ``check`` reads an extra evidence column to add a signal.

    Scale items (``likert``, ``binary``) with item statistics are judged by their
    psychometric strand: *sound* when no psychometric or panel flag fires, a *problem*
    otherwise, compared with the qualitative verdict (R18-R22). Check-box and choice
    items are judged by relevance (R1-R4). Without quantitative evidence the qualitative
    verdict decides (R5, R6).

    Returns
    -------
    DataFrame
        ``evidence`` with ``quant_strand`` (``relevance`` / ``psychometric`` / None),
        ``quant_verdict`` (``relevant`` / ``not relevant`` / ``sound`` / ``problem``),
        ``convergence``, ``proposed``, ``rules_fired`` (``;``-joined rule ids, decisive
        first), ``supporting_rules`` (the item flags), ``reason`` and ``evidence`` added.
    """
    rules = rules or DecisionRules()
    flags = ITEM_FLAGS if flags is None else tuple(flags)
    by_id = {f.id: f for f in flags}
    out = evidence.copy()
    conv, prop, fired_col, supp_col, reason_col, ev_col = [], [], [], [], [], []
    strand: list[str | None] = []
    verdict: list[str | None] = []
    for row in evidence.to_dict(orient="records"):
        supp = item_flags(row, rules, flags) if row.get("row_type") == "item" else []
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
            strand.append(None)
            verdict.append(None)
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
        scale = row.get("kind") in SCALE_KINDS and _has_item_statistics(row)
        problems = [f for f in supp if by_id[f].strand in ("psychometric", "panel")]
        if scale:
            strand.append("psychometric")
            verdict.append("problem" if problems else "sound")
        elif rel is not None:
            strand.append("relevance")
            verdict.append("relevant" if rel else "not relevant")
        else:
            strand.append(None)
            verdict.append(None)
        if scale:
            p, c, fired, reason = _scale_decision(row, rep, problems, wording, rules)
        elif rel is False:
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
        if supp and not scale:
            reason += "; supporting flags: " + ", ".join(s.split("-", 1)[0] for s in supp)
        conv.append(c)
        prop.append(p)
        fired_col.append(";".join(fired + supp))
        supp_col.append(";".join(supp))
        reason_col.append(reason)
        ev_col.append(_evidence_text(row, rules))
    out["quant_strand"] = pd.Series(strand, index=out.index, dtype=object)
    out["quant_verdict"] = pd.Series(verdict, index=out.index, dtype=object)
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
