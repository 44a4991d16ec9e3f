"""The inter-coder agreement tables of the report.

:func:`agreement_summary` turns an :class:`~instrval.stats.agreement.AgreementResult` into
the two tables the report shows: *overall* (``pooled`` and ``assigned_codes``, with the
confidence interval of Cohen's kappa when there are two coders) and *per code* (codes
applied to at least ``min_segments`` double-coded segments, weakest agreement first).

The statistics are those of :func:`instrval.stats.agreement.coder_agreement`; only the
interval of Cohen's kappa is added here, from the same segment x coder tables, as
``psych::cohen.kappa`` computes it (Fleiss, Cohen & Everitt 1969; normal-theory interval
``kappa -/+ z sqrt(var)``, clipped to [-1, 1]).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import StatisticsError

__all__ = ["AgreementSummary", "agreement_summary", "MIN_SEGMENTS", "SCOPE_LABELS"]

#: Codes applied to fewer double-coded segments than this are left out of the per-code
#: table (their kappa rests on one or two segments).
MIN_SEGMENTS = 3

SCOPE_LABELS = {
    "pooled": "pooled (segment \u00d7 code: applied or not)",
    "assigned_codes": "assigned codes (the set of codes per segment)",
}

OVERALL_COLUMNS = ("scope", "n_segments", "n_coders", "n_units", "percent_agreement",
                   "cohen_kappa", "cohen_ci_low", "cohen_ci_high", "fleiss_kappa",
                   "krippendorff_alpha")
CODE_COLUMNS = ("code", "n_segments_coded", "n_present", "percent_agreement", "cohen_kappa",
                "cohen_ci_low", "cohen_ci_high", "fleiss_kappa", "krippendorff_alpha")


@dataclass(frozen=True)
class AgreementSummary:
    """The report's agreement tables.

    Attributes
    ----------
    overall : DataFrame
        One row per scope (``pooled``, ``assigned_codes``): ``n_segments`` (double-coded),
        ``n_coders``, ``n_units`` (units compared: segments x codes when pooled),
        ``percent_agreement``, ``cohen_kappa`` with ``cohen_ci_low`` / ``cohen_ci_high``
        (NaN unless two coders), ``fleiss_kappa``, ``krippendorff_alpha``.
    codes : DataFrame
        Codes with ``n_segments_coded >= min_segments`` (segments to which at least one
        coder applied the code), sorted by Krippendorff's alpha (lowest first), then code.
    all_codes : DataFrame
        Every code compared, in the order of the agreement result, with ``listed`` (True
        for the codes in ``codes``).
    coders : tuple of str
    n_segments : int
        Segments coded by two or more coders.
    n_segments_total : int
        Distinct segments in the coding data.
    n_codes : int
        Codes compared; ``n_codes - len(codes)`` were applied too rarely to be listed.
    min_segments : int
    confidence : float
    """

    overall: pd.DataFrame
    codes: pd.DataFrame
    all_codes: pd.DataFrame
    coders: tuple[str, ...]
    n_segments: int
    n_segments_total: int
    n_codes: int
    min_segments: int
    confidence: float

    @property
    def n_codes_omitted(self) -> int:
        return self.n_codes - len(self.codes)

    def to_dict(self) -> dict[str, Any]:
        from instrval.report.results_json import jsonable

        return {"coders": list(self.coders), "n_segments": int(self.n_segments),
                "n_segments_total": int(self.n_segments_total), "n_codes": int(self.n_codes),
                "min_segments": int(self.min_segments), "confidence": float(self.confidence),
                "overall": jsonable(self.overall), "codes": jsonable(self.all_codes)}

    def to_frame(self) -> pd.DataFrame:
        """Overall rows (``scope``) and every code (``code``) in one table."""
        return pd.concat([self.overall.assign(code=None),
                          self.all_codes.assign(scope="code")], ignore_index=True)[
            ["scope", "code", *[c for c in OVERALL_COLUMNS if c != "scope"],
             "n_segments_coded", "n_present", "listed"]]


def _interval(table: np.ndarray, values: list[Any], confidence: float) -> tuple[float, float]:
    from instrval.stats.agreement import _cohen_codes

    valid = table >= 0
    if table.shape[1] != 2 or len(np.unique(table[valid])) < 2 or not valid.all(axis=1).any():
        return float("nan"), float("nan")
    try:
        k = _cohen_codes(table, values, alpha=1 - confidence)
    except StatisticsError:  # pragma: no cover - guarded above
        return float("nan"), float("nan")
    return k.ci_low, k.ci_high


def agreement_summary(agreement: Any, coding: Any, *, min_segments: int = MIN_SEGMENTS,
                      confidence: float = 0.95) -> AgreementSummary:
    """The overall and per-code agreement tables (see the module docstring).

    Parameters
    ----------
    agreement : AgreementResult
        From :func:`instrval.stats.agreement.coder_agreement` on ``coding``.
    coding : CodingData
        The coding data ``agreement`` was computed from (for the kappa intervals).
    min_segments : int
        Per-code rows need the code applied to at least this many double-coded segments.
    confidence : float
        Level of the interval of Cohen's kappa.
    """
    import warnings

    from instrval.stats.agreement import _coder_tables

    coders = tuple(agreement.coders)
    n_total = int(coding.segments["segment_id"].nunique()) if len(coding.segments) else 0
    if agreement.n_segments == 0:
        empty = pd.DataFrame(columns=list(CODE_COLUMNS))
        return AgreementSummary(pd.DataFrame(columns=list(OVERALL_COLUMNS)), empty,
                                empty.assign(listed=pd.Series(dtype=bool)), coders, 0,
                                n_total, 0, int(min_segments), float(confidence))
    codes_in = list(agreement.codes["code"])
    t = _coder_tables(coding, codes=codes_in, coders=list(coders))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # zero variance: psych's "bad"
        binary = [0.0, 1.0]
        ci_code = [_interval(tab, binary, confidence) for tab in t.code_tables]
        ci_pooled = (_interval(t.pooled(), binary, confidence) if t.codes
                     else (np.nan, np.nan))
        ci_labels = _interval(t.labels, t.label_values, confidence)
    rows = []
    for rec in agreement.overall.to_dict(orient="records"):
        lo, hi = ci_pooled if rec["scope"] == "pooled" else ci_labels
        n_units = (rec["n_segments"] * len(codes_in) if rec["scope"] == "pooled"
                   else rec["n_segments"])
        rows.append({"scope": rec["scope"], "n_segments": int(rec["n_segments"]),
                     "n_coders": int(rec["n_coders"]), "n_units": int(n_units),
                     "percent_agreement": rec["percent_agreement"],
                     "cohen_kappa": rec["cohen_kappa"], "cohen_ci_low": lo,
                     "cohen_ci_high": hi, "fleiss_kappa": rec["fleiss_kappa"],
                     "krippendorff_alpha": rec["krippendorff_alpha"]})
    overall = pd.DataFrame(rows, columns=list(OVERALL_COLUMNS))
    per = []
    for rec, tab, (lo, hi) in zip(agreement.codes.to_dict(orient="records"), t.code_tables,
                                  ci_code, strict=True):
        per.append({"code": rec["code"], "n_segments_coded": int((tab == 1).any(axis=1).sum()),
                    "n_present": int(rec["n_present"]),
                    "percent_agreement": rec["percent_agreement"],
                    "cohen_kappa": rec["cohen_kappa"], "cohen_ci_low": lo, "cohen_ci_high": hi,
                    "fleiss_kappa": rec["fleiss_kappa"],
                    "krippendorff_alpha": rec["krippendorff_alpha"]})
    all_codes = pd.DataFrame(per, columns=list(CODE_COLUMNS))
    all_codes["listed"] = all_codes["n_segments_coded"] >= min_segments
    codes = all_codes[all_codes["listed"]].drop(columns="listed")
    codes = codes.assign(_a=codes["krippendorff_alpha"].astype(float)).sort_values(
        ["_a", "code"], na_position="first", kind="mergesort").drop(columns="_a")
    return AgreementSummary(overall, codes.reset_index(drop=True), all_codes, coders,
                            int(agreement.n_segments), n_total, len(codes_in),
                            int(min_segments), float(confidence))
