"""An evidence summary structured like the COSMIN criteria for good measurement properties.

Each measurement property the data speak to gets a rating -- ``sufficient``,
``insufficient`` or ``indeterminate`` -- with the numbers behind it and the criterion used.
Thresholds come from :class:`~instrval.model.rules.DecisionRules`.

* **Content validity** (Terwee et al. 2018, COSMIN methodology for content validity):
  *relevance* -- sufficient when at least ``content_share_min`` (85%) of the items are
  relevant (relevance ratio >= ``relevance_min``; with an expert panel also I-CVI >=
  ``i_cvi_min``, or 1.00 for items rated by five or fewer experts; the panel's S-CVI/Ave
  is listed); *comprehensiveness* -- sufficient when the interviews raised no missing
  concept that reached ``qual_min_participants`` participants and was not settled by the
  experts; *comprehensibility* -- sufficient when at least ``content_share_min`` of the
  items discussed were found representative (not misread or unclear). COSMIN asks the
  target population, not professionals, about comprehensibility, so an expert panel's
  clarity ratings are listed as evidence but do not set that rating.
* **Structural validity** (Prinsen et al. 2018, after Hu & Bentler 1999): sufficient when
  CFI or TLI > ``cfi_min``, or RMSEA < ``rmsea_max``, or SRMR < ``srmr_max``;
  insufficient otherwise; indeterminate without a CFA. When an ordinal (WLSMV) CFA is
  given -- Likert items with few categories -- the rating uses its fit, with the scaled
  (mean- and variance-adjusted) CFI, TLI and RMSEA as Mplus and lavaan's ``*.scaled``
  measures report them; the ML fit is listed beside it. Item response models (``irt``)
  are listed with their item fit; without a CFA the rating rests on them: sufficient when
  no item misfits (Prinsen et al. 2018: adequate IRT/Rasch model fit), insufficient
  otherwise.
* **Internal consistency** (Prinsen et al. 2018): sufficient when structural validity is
  sufficient and Cronbach's alpha >= ``alpha_min`` for every scale; insufficient when
  structural validity is sufficient and some alpha is lower; indeterminate otherwise.
* **Cross-cultural validity / measurement invariance** (Prinsen et al. 2018): sufficient
  when no important differences between groups were found -- every invariance level
  tested holds (multi-group CFA) and no item shows important DIF; insufficient otherwise.
  Any result object with ``levels`` (each with ``level`` or ``name`` and a boolean
  ``holds``) and/or ``dif_items`` (items flagged) is accepted.
* **Reliability** (Terwee et al. 2007; Prinsen et al. 2018): sufficient when the test-retest
  ICC(A,1) of every scale is >= :data:`ICC_MIN` (0.70), insufficient otherwise.
* **Measurement error** (Prinsen et al. 2018): sufficient when the smallest detectable
  change (SDC) is below the minimal important change (MIC) for every scale, insufficient
  when not; indeterminate when no MIC is defined (the SEM and SDC are listed).
* **Criterion validity** (Prinsen et al. 2018): sufficient when the correlation with the
  gold standard, or the AUC, is >= :data:`CRITERION_MIN` (0.70).
* **Hypotheses testing for construct validity** and **responsiveness** (Prinsen et al.
  2018; Terwee et al. 2007): sufficient when at least :data:`HYPOTHESES_SHARE_MIN` (75%)
  of the results agree with the hypotheses set in advance, insufficient otherwise.

The three criteria are the rules ``icc_min``, ``criterion_min`` and ``hypotheses_share_min``
of :class:`~instrval.model.rules.DecisionRules` (a study file may change them).

Every property without data gets the rating ``indeterminate`` with the evidence
"no data: ..." naming what would be needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from instrval._result import Result
from instrval.integrate.decisions import i_cvi_threshold
from instrval.model.rules import DecisionRules, default_value

__all__ = ["CosminSummary", "cosmin_summary", "RATINGS", "ICC_MIN", "CRITERION_MIN",
           "HYPOTHESES_SHARE_MIN", "PROPERTIES"]

#: COSMIN criteria for good measurement properties (Prinsen et al. 2018, Table 1): the
#: defaults of the rules ``icc_min``, ``criterion_min`` and ``hypotheses_share_min``
#: (declared, with their sources and bounds, in :data:`~instrval.model.rules.THRESHOLDS`).
ICC_MIN = default_value("icc_min")
CRITERION_MIN = default_value("criterion_min")
HYPOTHESES_SHARE_MIN = default_value("hypotheses_share_min")
#: The nine measurement properties, in COSMIN's order.
PROPERTIES = ("content validity", "structural validity", "internal consistency",
              "cross-cultural validity / measurement invariance", "reliability",
              "measurement error", "criterion validity",
              "hypotheses testing for construct validity", "responsiveness")

RATINGS = ("sufficient", "insufficient", "indeterminate")
COLUMNS = ("property", "aspect", "rating", "evidence", "criterion")


@dataclass(frozen=True, repr=False)
class CosminSummary(Result):
    """One row per property/aspect: ``property``, ``aspect``, ``rating``, ``evidence``
    (the numbers, as text), ``criterion``; ``values`` holds the numbers per aspect."""

    table: pd.DataFrame
    values: Mapping[str, Mapping[str, Any]]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        rows = self.table.to_dict(orient="records")
        for r in rows:
            r["values"] = dict(self.values.get(r["aspect"], {}))
        return {"rows": rows}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _cut(x: float) -> str:
    """A threshold as a percentage, as given (0.85 -> ``85%``)."""
    return f"{100 * x:g}%"


def cosmin_summary(joint: Any, *, reliability: Mapping[str, Any] | None = None,
                   cfa: Any = None, cfa_ordinal: Any = None, content_validity: Any = None,
                   rules: DecisionRules | None = None,
                   content_validity_aspects: Mapping[str, Any] | None = None,
                   retest: Any = None, invariance: Any = None, criterion: Any = None,
                   hypotheses: Any = None, responsiveness: Any = None,
                   irt: Mapping[str, Any] | None = None) -> CosminSummary:
    """Rate the measurement properties the data speak to (see the module docstring).

    Parameters
    ----------
    joint : JointDisplay
    reliability : mapping of construct id to AlphaResult, optional
    cfa : CFAResult, optional
        ``fit`` with ``cfi``, ``tli``, ``rmsea``, ``srmr``.
    cfa_ordinal : CFAResult, optional
        A WLSMV fit of the same model (``cfa(..., estimator="wlsmv")``); when given, the
        structural-validity rating uses it (scaled CFI, TLI, RMSEA and SRMR).
    content_validity : result, optional
        The panel's relevance result; its ``scale`` (S-CVI/Ave, S-CVI/UA) is listed in the
        evidence (the joint display has the I-CVIs already).
    content_validity_aspects : mapping of aspect to result, optional
        The panel's other aspects; the ``clarity`` I-CVIs are listed under
        comprehensibility (supporting only).
    rules : DecisionRules, optional
    retest : RetestResult, optional
        From :func:`~instrval.stats.measurement_error.retest`: reliability (ICC(A,1)) and
        measurement error (SDC against the MIC).
    invariance : object, optional
        A measurement invariance and/or DIF result (duck-typed: ``levels`` with ``holds``,
        ``dif_items``); see the module docstring.
    criterion : CriterionResult or list of them, optional
    hypotheses : HypothesesResult, optional
        Hypotheses testing for construct validity.
    responsiveness : ResponsivenessResult or HypothesesResult, optional
    irt : mapping of construct id to IRTResult, optional
        Item response models (:func:`~instrval.stats.irt.irt`): their item fit is listed
        under structural validity, and rates it when no CFA was run.
    """
    rules = rules or DecisionRules()
    t = joint.items
    items = t[t["row_type"] == "item"]
    rows: list[dict[str, Any]] = []
    values: dict[str, dict[str, Any]] = {}
    share = rules.content_share_min

    # -- relevance
    rel = items["relevant"].dropna()
    icvi = pd.to_numeric(items["i_cvi"], errors="coerce").dropna()
    if len(rel) or len(icvi):
        panel_text = ""
        ok = pd.Series(True, index=items.index)
        parts = []
        n_judged = 0
        if len(rel):
            ok &= items["relevant"].map(lambda v: v is not False)
            parts.append(f"{int(rel.astype(bool).sum())} of {len(rel)} items have a "
                         f"relevance ratio >= {_cut(rules.relevance_min)}")
            n_judged = len(rel)
        if len(icvi):
            experts = (items["cvi_experts"] if "cvi_experts" in items.columns
                       else pd.Series(None, index=items.index, dtype=object))
            cut = pd.Series([i_cvi_threshold(n, rules) for n in experts], index=items.index)
            num = pd.to_numeric(items["i_cvi"], errors="coerce")
            low = (num < cut) & num.notna()
            ok &= ~low
            small = bool((cut.loc[icvi.index] > rules.i_cvi_min).any())
            parts.append(f"{int(len(icvi) - low.sum())} of {len(icvi)} items have I-CVI >= "
                         f"{rules.i_cvi_min:g}" + (" (1.00 with <= 5 experts)" if small else ""))
            n_judged = max(n_judged, len(icvi))
            scale = getattr(content_validity, "scale", None) or {}
            if scale.get("s_cvi_ave") is not None:
                panel_text = (f"; expert panel of {scale.get('n_experts')}: S-CVI/Ave = "
                              f"{scale['s_cvi_ave']:.3f} (>= {rules.s_cvi_ave_min:g} "
                              f"recommended), S-CVI/UA = "
                              f"{scale.get('s_cvi_ua', float('nan')):.3f}")
        judged = items.index[items["relevant"].notna()
                             | pd.to_numeric(items["i_cvi"], errors="coerce").notna()]
        frac = float(ok.loc[judged].mean()) if len(judged) else float("nan")
        rating = "sufficient" if frac >= share else "insufficient"
        values["relevance"] = {"items_judged": int(n_judged), "share_relevant": frac}
        if len(icvi):
            scale = getattr(content_validity, "scale", None) or {}
            values["relevance"]["items_i_cvi_low"] = int(low.sum())
            values["relevance"]["s_cvi_ave"] = scale.get("s_cvi_ave")
            values["relevance"]["s_cvi_ua"] = scale.get("s_cvi_ua")
        rows.append({"property": "content validity", "aspect": "relevance", "rating": rating,
                     "evidence": "; ".join(parts) + f" ({_pct(frac)} meet every criterion)"
                     + panel_text,
                     "criterion": f">= {_cut(share)} of items relevant"})
    else:
        rows.append(_indeterminate("content validity", "relevance",
                                   "no relevance ratios and no expert panel"))

    # -- comprehensiveness
    discussed = items["qual_participants"].map(lambda v: v is not None and v == v and v > 0)
    mc = t[t["row_type"] == "missing_concept"]
    if bool(discussed.any()) or len(mc):
        cand = mc[mc["proposed"] == "add"]
        unsettled = cand[cand["decision"] != "add"]
        unsettled = unsettled[unsettled["decided_by"] != "expert"]
        added = int((mc["decision"] == "add").sum())
        rating = "sufficient" if unsettled.empty else "insufficient"
        values["comprehensiveness"] = {"missing_concepts": int(len(mc)),
                                       "candidates": int(len(cand)), "added": added,
                                       "unsettled": int(len(unsettled))}
        rows.append({
            "property": "content validity", "aspect": "comprehensiveness", "rating": rating,
            "evidence": (f"{len(mc)} missing concept(s) raised, {len(cand)} by >= "
                         f"{rules.qual_min_participants} participants; {added} added by the "
                         f"experts; {len(unsettled)} unsettled"),
            "criterion": "no missing concept left unsettled"})
    else:
        rows.append(_indeterminate("content validity", "comprehensiveness",
                                   "no qualitative evidence"))

    # -- comprehensibility
    rep = items["representative"].dropna()
    clarity_text, clarity_values = _clarity(content_validity_aspects, rules)
    if len(rep):
        frac = float(rep.astype(bool).mean())
        values["comprehensibility"] = {"items_judged": int(len(rep)),
                                       "share_representative": frac, **clarity_values}
        rows.append({
            "property": "content validity", "aspect": "comprehensibility",
            "rating": "sufficient" if frac >= share else "insufficient",
            "evidence": (f"{int(rep.astype(bool).sum())} of {len(rep)} items discussed were "
                         f"understood as intended ({_pct(frac)})") + clarity_text,
            "criterion": f">= {_cut(share)} of items understood as intended"})
    else:
        row = _indeterminate("content validity", "comprehensibility", "no qualitative verdicts")
        row["evidence"] += clarity_text
        if clarity_values:
            values["comprehensibility"] = dict(clarity_values)
        rows.append(row)

    # -- structural validity
    structural_ok = False
    fits = []
    ml_fit: Any = getattr(cfa, "fit", None) if cfa is not None else None
    ord_fit: Any = getattr(cfa_ordinal, "fit", None) if cfa_ordinal is not None else None
    if ord_fit:
        fits.append(("WLSMV", _ordinal_indices(ord_fit)))
    if ml_fit:
        fits.append(("ML", {k: ml_fit.get(k) for k in ("cfi", "tli", "rmsea", "srmr")}))
    if fits:
        used_name, used = fits[0]
        checks = []
        if _num(used.get("cfi")):
            checks.append(used["cfi"] > rules.cfi_min)
        if _num(used.get("tli")):
            checks.append(used["tli"] > rules.cfi_min)
        if _num(used.get("rmsea")):
            checks.append(used["rmsea"] < rules.rmsea_max)
        if _num(used.get("srmr")):
            checks.append(used["srmr"] < rules.srmr_max)
        structural_ok = any(checks)
        src = ml_fit if used_name == "ML" else ord_fit
        values["structural validity"] = {
            **{k: src.get(k) for k in ("chi2", "df")}, **used, "estimator": used_name}
        if used_name == "WLSMV" and ml_fit:
            values["structural validity"]["ml"] = {
                k: ml_fit.get(k) for k in ("chi2", "df", "cfi", "tli", "rmsea", "srmr")}
        ev_parts = []
        for name, f in fits:
            ev = ", ".join(f"{k.upper()} = {f[k]:.3f}" for k in ("cfi", "tli", "rmsea", "srmr")
                           if _num(f.get(k)))
            ev_parts.append(f"{name}: {ev}" if len(fits) > 1 else ev)
        evidence = "; ".join(ev_parts)
        if len(fits) > 1:
            evidence += f" (rated on {used_name}, the estimator for ordinal items)"
        rows.append({
            "property": "structural validity", "aspect": "structural validity",
            "rating": "sufficient" if structural_ok else "insufficient", "evidence": evidence,
            "criterion": (f"CFI or TLI > {rules.cfi_min:g}, or RMSEA < {rules.rmsea_max:g}, "
                          f"or SRMR < {rules.srmr_max:g}")})
    elif irt:
        misfit = {cid: list(r.misfitting) for cid, r in irt.items()}
        structural_ok = not any(misfit.values())
        values["structural validity"] = {"irt": _irt_values(irt)}
        rows.append({
            "property": "structural validity", "aspect": "structural validity",
            "rating": "sufficient" if structural_ok else "insufficient",
            "evidence": _irt_text(irt) + " (no CFA: rated on the item response model)",
            "criterion": "adequate item response model fit: no item misfits"})
    else:
        rows.append(_indeterminate("structural validity", "structural validity",
                                   "no confirmatory factor analysis"))
    if fits and irt:
        rows[-1]["evidence"] += "; " + _irt_text(irt)
        values["structural validity"]["irt"] = _irt_values(irt)

    # -- internal consistency
    if reliability:
        alphas = {cid: float(r.alpha) for cid, r in reliability.items()}
        low = [cid for cid, a in alphas.items() if not a >= rules.alpha_min]
        values["internal consistency"] = {"alpha": alphas}
        ev = ", ".join(f"{cid}: alpha = {a:.3f}" for cid, a in alphas.items())
        if not structural_ok:
            rating = "indeterminate"
            ev += " (structural validity not shown sufficient)"
        else:
            rating = "insufficient" if low else "sufficient"
        rows.append({"property": "internal consistency", "aspect": "internal consistency",
                     "rating": rating, "evidence": ev,
                     "criterion": (f"sufficient structural validity and alpha >= "
                                   f"{rules.alpha_min:g} per scale")})
    else:
        rows.append(_indeterminate("internal consistency", "internal consistency",
                                   "no reliability analysis"))
    rows.append(_invariance(invariance, values))
    rows.extend(_retest_rows(retest, values, rules))
    rows.append(_criterion(criterion, values, rules))
    rows.append(_hypotheses_row("hypotheses testing for construct validity",
                                hypotheses, values,
                                "no data: no hypotheses file (expected correlations with other "
                                "instruments, differences between known groups)", rules))
    resp = getattr(responsiveness, "hypotheses", responsiveness)
    rows.append(_hypotheses_row("responsiveness", resp, values,
                                "no data: no repeated measurement with an anchor of change "
                                "and hypotheses about change scores", rules))
    return CosminSummary(pd.DataFrame(rows, columns=list(COLUMNS)), values)


def _irt_values(irt: Mapping[str, Any]) -> dict[str, Any]:
    return {cid: {"model": r.model, "items": int(len(r.items)),
                  "misfitting": list(r.misfitting), "misfit_rule": r.misfit_rule}
            for cid, r in irt.items()}


def _irt_text(irt: Mapping[str, Any]) -> str:
    parts = []
    for cid, r in irt.items():
        bad = list(r.misfitting)
        k = len(r.items)
        parts.append(f"{cid}: {k - len(bad)} of {k} items fit"
                     + (f" ({', '.join(bad)} misfit)" if bad else ""))
    models = ", ".join(dict.fromkeys(r.model for r in irt.values()))
    return f"IRT ({models}): " + "; ".join(parts)


def _rule(rules: Any, name: str, default: float) -> float:
    """A COSMIN threshold: the rules object's when it has one, else COSMIN's default."""
    v: Any = getattr(rules, name, None)
    return float(v) if _num(v) else default


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _invariance(inv: Any, values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    prop = "cross-cultural validity / measurement invariance"
    if inv is None:
        return {"property": prop, "aspect": prop, "rating": "indeterminate",
                "evidence": "no data: no multi-group (invariance) or DIF analysis given",
                "criterion": "no important differences between groups (invariance holds, "
                             "no important DIF)"}
    levels = list(_get(inv, "levels", None) or [])
    dif = _get(inv, "dif_items", None)
    dif = list(dif) if dif is not None else None
    parts, ok = [], True
    held = []
    for lv in levels:
        name = str(_get(lv, "level", None) or _get(lv, "name", "level"))
        h = bool(_get(lv, "holds", False))
        held.append({"level": name, "holds": h})
        ok &= h
    if held:
        parts.append("invariance: " + ", ".join(
            f"{x['level']} {'holds' if x['holds'] else 'does not hold'}" for x in held))
    if dif is not None:
        ok &= not dif
        parts.append("DIF: " + (f"{len(dif)} item(s) flagged ({', '.join(map(str, dif))})"
                                if dif else "no item flagged"))
    group = _get(inv, "group", None)
    if group:
        parts.insert(0, f"groups by {group}")
    if not held and dif is None:
        return {"property": prop, "aspect": prop, "rating": "indeterminate",
                "evidence": "no data: the invariance result has no levels and no DIF items",
                "criterion": "no important differences between groups"}
    values[prop] = {"levels": held, "dif_items": dif, "group": group}
    return {"property": prop, "aspect": prop,
            "rating": "sufficient" if ok else "insufficient", "evidence": "; ".join(parts),
            "criterion": "no important differences between groups (every invariance level "
                         "holds, no important DIF)"}


def _retest_rows(rt: Any, values: dict[str, dict[str, Any]], rules: Any
                 ) -> list[dict[str, Any]]:
    if rt is None:
        return [{"property": "reliability", "aspect": "reliability",
                 "rating": "indeterminate",
                 "evidence": "no data: no test-retest measurement",
                 "criterion": f"ICC >= {_rule(rules, 'icc_min', ICC_MIN):g}"},
                {"property": "measurement error", "aspect": "measurement error",
                 "rating": "indeterminate",
                 "evidence": "no data: no test-retest measurement",
                 "criterion": "SDC < MIC"}]
    t = rt.table
    icc_min = _rule(rules, "icc_min", ICC_MIN)
    iccs = {str(r["scale"]): float(r["icc_agreement"]) for _, r in t.iterrows()}
    n = {str(r["scale"]): int(r["n"]) for _, r in t.iterrows()}
    ev = "; ".join(
        f"{r['scale']}: ICC(A,1) = {r['icc_agreement']:.3f} "
        f"[{r['icc_agreement_ci_low']:.3f}, {r['icc_agreement_ci_high']:.3f}], n = {r['n']}"
        for _, r in t.iterrows())
    rel_ok = all(v >= icc_min for v in iccs.values())
    values["reliability"] = {"icc_agreement": iccs, "n": n}
    rows = [{"property": "reliability", "aspect": "reliability",
             "rating": "sufficient" if rel_ok else "insufficient", "evidence": ev,
             "criterion": f"ICC(A,1) >= {icc_min:g} for every scale (test-retest)"}]
    me_parts = []
    verdicts = []
    for _, r in t.iterrows():
        txt = (f"{r['scale']}: SEM = {r['sem_agreement']:.3f}, SDC = {r['sdc_individual']:.3f} "
               f"(group {r['sdc_group']:.3f}), limits of agreement {r['loa_low']:.3f} to "
               f"{r['loa_high']:.3f}")
        mic = r.get("mic")
        if _num(mic):
            txt += f", MIC = {mic:.3f}"
            verdicts.append(bool(r["sdc_individual"] < mic))
        me_parts.append(txt)
    values["measurement error"] = {
        str(r["scale"]): {k: (float(r[k]) if _num(r.get(k)) else None)
                          for k in ("sem_agreement", "sdc_individual", "sdc_group",
                                    "loa_low", "loa_high", "mic")}
        for _, r in t.iterrows()}
    src = getattr(rt, "mic_source", None)
    if verdicts and len(verdicts) == len(t):
        rating = "sufficient" if all(verdicts) else "insufficient"
        evidence = "; ".join(me_parts) + (f"; MIC: {src}" if src else "")
    else:
        rating = "indeterminate"
        evidence = "; ".join(me_parts) + " (no MIC defined)"
    rows.append({"property": "measurement error", "aspect": "measurement error",
                 "rating": rating, "evidence": evidence,
                 "criterion": "SDC < MIC for every scale"})
    return rows


def _criterion(crit: Any, values: dict[str, dict[str, Any]], rules: Any) -> dict[str, Any]:
    prop = "criterion validity"
    cmin = _rule(rules, "criterion_min", CRITERION_MIN)
    crit_rule = f"correlation with the gold standard or AUC >= {cmin:g}"
    if crit is None or (isinstance(crit, (list, tuple)) and not crit):
        return {"property": prop, "aspect": prop, "rating": "indeterminate",
                "evidence": "no data: no gold standard given", "criterion": crit_rule}
    results = list(crit) if isinstance(crit, (list, tuple)) else [crit]
    parts, ok = [], True
    vals = []
    for c in results:
        stat = "r" if c.kind == "continuous" else "AUC"
        parts.append(f"{c.scale} vs {c.criterion}: {stat} = {c.estimate:.3f} "
                     f"[{c.ci_low:.3f}, {c.ci_high:.3f}], n = {c.n}")
        ok &= bool(c.estimate >= cmin)
        vals.append({"scale": c.scale, "criterion": c.criterion, "statistic": stat.lower(),
                     "estimate": float(c.estimate)})
    values[prop] = {"results": vals}
    return {"property": prop, "aspect": prop, "rating": "sufficient" if ok else "insufficient",
            "evidence": "; ".join(parts), "criterion": crit_rule}


def _hypotheses_row(prop: str, res: Any, values: dict[str, dict[str, Any]], why: str,
                    rules: Any) -> dict[str, Any]:
    share_min = _rule(rules, "hypotheses_share_min", HYPOTHESES_SHARE_MIN)
    crit = f">= {_cut(share_min)} of the hypotheses hold"
    if res is None or not getattr(res, "n_hypotheses", 0):
        return {"property": prop, "aspect": prop, "rating": "indeterminate", "evidence": why,
                "criterion": crit}
    t = res.table
    held = [str(i) for i, h in zip(t["id"], t["holds"], strict=True) if h]
    failed = [str(i) for i, h in zip(t["id"], t["holds"], strict=True) if not h]
    share = res.n_holds / res.n_hypotheses
    ev = (f"{res.n_holds} of {res.n_hypotheses} hypotheses hold ({_pct(share)})"
          + (f"; not confirmed: {', '.join(failed)}" if failed else ""))
    values[prop] = {"n_hypotheses": int(res.n_hypotheses), "n_holds": int(res.n_holds),
                    "share": share, "holds": held, "not_confirmed": failed}
    return {"property": prop, "aspect": prop,
            "rating": "sufficient" if share >= share_min else "insufficient",
            "evidence": ev, "criterion": crit}


def _clarity(aspects: Mapping[str, Any] | None,
             rules: DecisionRules) -> tuple[str, dict[str, Any]]:
    """Evidence text and values from the panel's clarity ratings (supporting only)."""
    res = (aspects or {}).get("clarity")
    items = getattr(res, "items", None)
    if not isinstance(items, pd.DataFrame) or items.empty:
        return "", {}
    cut = [i_cvi_threshold(n, rules) for n in items["n_experts"]]
    low = [str(i) for i, v, c in zip(items["item_id"], items["i_cvi"], cut, strict=True)
           if v < c]
    text = (f"; expert panel (supporting, not rated: COSMIN asks the target population): "
            f"{len(items) - len(low)} of {len(items)} items have clarity I-CVI >= "
            f"{rules.i_cvi_min:g}" + (f" (below: {', '.join(low)})" if low else ""))
    return text, {"clarity_items": int(len(items)), "clarity_low": low}


def _num(v: Any) -> bool:
    """True for a finite number."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v \
        and abs(v) != float("inf")


def _ordinal_indices(fit: Mapping[str, Any]) -> dict[str, Any]:
    """CFI, TLI, RMSEA (scaled where the fit has them) and SRMR of a WLSMV fit."""
    out = {}
    for k in ("cfi", "tli", "rmsea"):
        v = fit.get(f"{k}_scaled")
        out[k] = v if _num(v) else fit.get(k)
    out["srmr"] = fit.get("srmr")
    return out


def _indeterminate(prop: str, aspect: str, why: str) -> dict[str, Any]:
    return {"property": prop, "aspect": aspect, "rating": "indeterminate",
            "evidence": why, "criterion": "not assessable from the data given"}
