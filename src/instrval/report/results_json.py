"""``results.json``: every number of the report, machine-readable.

The layout is documented in docs/report.md and checked by the JSON Schema
docs/results.schema.json (``schema_version`` :data:`SCHEMA_VERSION`). Numbers are at full
precision; NaN becomes ``null``. With the same inputs, seed and timestamp the file is
byte-identical.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pandas as pd

from instrval._jsonable import to_jsonable

__all__ = ["SCHEMA_VERSION", "jsonable", "results_dict", "dumps_results"]

#: Version of the results.json layout.
SCHEMA_VERSION = "1.2"


def jsonable(obj: Any) -> Any:
    """Plain JSON data from results, DataFrames, numpy values (NaN -> None); any other
    object (a path, say) as its text."""
    return to_jsonable(obj, fallback=str)


def _reasons(q: Any) -> dict[str, int]:
    if not isinstance(q, pd.DataFrame) or q.empty or "reason" not in q.columns:
        return {}
    c: Counter[str] = Counter()
    for r in q["reason"].dropna().astype(str):
        for code in r.split(";"):
            if code.strip():
                c[code.strip()] += 1
    return dict(sorted(c.items()))


def data_quality(result: Any) -> dict[str, Any]:
    """Quarantine counts and reasons per input."""
    out: dict[str, Any] = {}
    r = result.ratings
    if r is not None:
        out["ratings"] = {"read": int(r.n_read), "accepted": int(r.n_accepted),
                          "quarantined": int(r.n_quarantined),
                          "respondents": int(r.n_respondents),
                          "reasons": _reasons(r.quarantine),
                          "problems": len(r.problems)}
    c = result.coding
    if c is not None:
        out["coding"] = {"read": int(c.n_read), "accepted": int(c.n_accepted),
                         "quarantined": int(c.n_quarantined),
                         "reasons": _reasons(c.quarantine),
                         "problems": len(c.problems)}
    p = result.panel
    if p is not None:
        # the unit is one rating (long form: one row; wide form: one non-blank cell)
        accepted = int(len(p.data))
        src = p.source or {}
        read = src.get("ratings_read")
        if read is None:
            read = accepted + int(len(p.quarantine))
        out["panel"] = {"read": int(read), "accepted": accepted,
                        "quarantined": int(len(p.quarantine)),
                        "experts": len(p.experts),
                        "reasons": _reasons(p.quarantine),
                        "problems": len(p.problems)}
    return out


def _content_validity(result: Any) -> dict[str, Any] | None:
    """``content_validity``: the panel's relevance indices (``items``, ``scale``,
    ``options``, as ``ContentValidityResult.to_dict()``), the same for every other rated
    aspect under ``aspects`` (e.g. ``clarity``), and ``panel`` (experts, aspects, scale,
    layout)."""
    cv = result.content_validity
    if cv is None:
        return None
    d = jsonable(cv)
    d["aspects"] = {a: jsonable(r) for a, r in
                    (result.content_validity_aspects).items()}
    p = result.panel
    if p is not None:
        d["panel"] = {"experts": [str(e) for e in p.experts], "aspects": list(p.aspects),
                      "scale_min": int(p.scale_min), "scale_max": int(p.scale_max),
                      "layout": (p.source or {}).get("layout"),
                      "ratings": int(len(p.data)), "quarantined": int(len(p.quarantine))}
    return d


def _omega(result: Any) -> dict[str, Any] | None:
    """``omega``: omega total and hierarchical of all Likert items (psych::omega) and the
    one-factor omega per scale."""
    om = result.omega
    scales = result.omega_scales
    if om is None and not scales:
        return None
    d: dict[str, Any] = {"omega_total": None, "omega_hierarchical": None}
    if om is not None:
        d.update(jsonable(om))
    d["scales"] = {cid: jsonable(o) for cid, o in scales.items()}
    return d


def _relative_summary(result: Any, summary: Any) -> Any:
    """The coding summary with its file shown relative to the study file."""
    d = jsonable(summary)
    if isinstance(d, dict) and d.get("file"):
        from pathlib import Path

        d["file"] = result.study.display_path(Path(d["file"]))
    return d


def measurement_properties(result: Any) -> dict[str, Any]:
    """Scale scores, test-retest, hypotheses, criterion validity and responsiveness
    (``measurement_properties`` of results.json; None for each part not computed)."""
    def part(name: str) -> Any:
        v = getattr(result, name)
        return jsonable(v) if v is not None else None

    crit = result.criterion
    return {"scores": part("scores"), "retest": part("retest"),
            "hypotheses": part("hypotheses"),
            "criterion": [jsonable(c) for c in crit] or None,
            "responsiveness": part("responsiveness"),
            "invariance": part("invariance")}


def _groups(result: Any) -> dict[str, Any]:
    """``dif`` (per scale, ``DIFResult.to_dict()``) and ``irt`` (per scale,
    ``IRTResult.to_dict()`` without person scores), present only when the study asked for
    them; measurement invariance is ``measurement_properties.invariance``."""
    out: dict[str, Any] = {}
    dif = result.dif
    if dif:
        out["dif"] = {cid: jsonable(r.to_dict()) for cid, r in dif.items()}
    irt = result.irt
    if irt:
        out["irt"] = {cid: jsonable(r.to_dict(include_scores=False)) for cid, r in irt.items()}
    return out


def results_dict(result: Any, *, files: str | None = None) -> dict[str, Any]:
    """The content of results.json (see docs/report.md)."""
    from instrval.integrate.decisions import RULE_CATALOGUE

    inst, rev = result.instrument, result.revised
    jd = result.joint
    qual = None
    if result.qual is not None:
        qual = {
            "summary": (_relative_summary(result, result.coding.summary())
                        if result.coding is not None else None),
            "items": jsonable(result.qual.items),
            "quotes": jsonable(result.qual.quotes),
            "missing_concepts": jsonable(result.qual.missing_concepts),
            "agreement": jsonable(result.agreement) if result.agreement is not None else None,
            "agreement_table": (result.agreement_summary.to_dict()
                                if result.agreement_summary is not None
                                else None),
        }
    changelog = [{"version": e.version, "item": e.item, "action": e.action,
                  "reason": e.reason, "evidence": e.evidence}
                 for e in rev.changelog if e.version == rev.version]
    d: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generated_by": {"name": "instrval", "version": result.software.get("instrval")},
        "timestamp": result.timestamp,
        "software": dict(result.software),
        "study": result.study.to_dict(),
        "inputs": jsonable(result.inputs),
        "rules": [jsonable(r) for r in result.study.rules.describe()],
        "rule_catalogue": [r.to_dict(result.study.rules) for r in RULE_CATALOGUE],
        "analyses": dict(result.analyses),
        "instrument": {"id": inst.id, "version": inst.version, "label": inst.label,
                       "title": inst.title, "n_constructs": len(inst.constructs),
                       "n_items": len(inst.items)},
        "revised_instrument": {"id": rev.id, "version": rev.version, "label": rev.label,
                               "status": rev.status, "file": files,
                               "n_items": len(rev.items),
                               "derived_from": f"{rev.derived_from.id}@{rev.derived_from.version}"
                               if rev.derived_from else None},
        "summary": jsonable(result.summary()),
        "descriptives": jsonable(result.descriptives),
        "relevance": jsonable(result.relevance),
        "reliability": {cid: jsonable(r) for cid, r in result.reliability.items()},
        "efa": jsonable(result.efa),
        "parallel_analysis": jsonable(result.parallel),
        "cfa": jsonable(result.cfa),
        "cfa_wlsmv": jsonable(result.cfa_ordinal),
        "omega": _omega(result),
        "content_validity": _content_validity(result),
        "qualitative": qual,
        "joint_display": jsonable(jd.items),
        "open_questions": [
            r["item_id"] if r["row_type"] == "item" else f"concept:{r['concept']}"
            for r in jd.open_questions().to_dict(orient="records")],
        "cosmin": jsonable(result.cosmin.table),
        "measurement_properties": measurement_properties(result),
        "changelog": changelog,
        "diff": jsonable(result.diff) if result.diff is not None else None,
        "data_quality": data_quality(result),
        "notes": list(result.notes),
        "warnings": list(result.warnings),
    }
    d.update(_groups(result))
    scales = jd.scales
    if scales is not None and not scales.empty:
        d["scales"] = jsonable(scales)
    if result.kmo is not None and result.bartlett is not None:
        d["sampling_adequacy"] = {"kmo": jsonable(result.kmo),
                                  "bartlett": jsonable(result.bartlett)}
    return d


def dumps_results(result: Any, *, files: str | None = None) -> str:
    """results.json as text (indented, UTF-8, no NaN)."""
    return json.dumps(results_dict(result, files=files), indent=2, ensure_ascii=False,
                      allow_nan=False) + "\n"
