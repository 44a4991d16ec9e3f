"""Intraclass correlations: the six forms of Shrout & Fleiss (1979).

From the two-way ANOVA of an n-targets x k-raters table (one rating per cell):

* ``MSB`` between targets, ``MSJ`` between raters (judges), ``MSE`` residual, and
  ``MSW = (SSJ + SSE) / (n (k - 1))`` within targets.
* ICC1  = (MSB - MSW) / (MSB + (k - 1) MSW)                 one-way random, single rater
* ICC2  = (MSB - MSE) / (MSB + (k - 1) MSE + k (MSJ - MSE) / n)   two-way random, absolute
* ICC3  = (MSB - MSE) / (MSB + (k - 1) MSE)                 two-way mixed, consistency
* ICC1k = (MSB - MSW) / MSB,  ICC2k = (MSB - MSE) / (MSB + (MSJ - MSE) / n),
  ICC3k = (MSB - MSE) / MSB                                  (means of k raters)
* F = MSB / MSW (df n - 1, n (k - 1)) for ICC1/ICC1k; F = MSB / MSE (df n - 1,
  (n - 1)(k - 1)) for the others; p = P(F' > F).
* Confidence intervals from the F distribution as in Shrout & Fleiss (1979) and
  ``psych::ICC``; for ICC2/ICC2k with Satterthwaite's approximate df ``v``.

Intervals are computed at full precision (pingouin 0.7 rounds them to 2 decimals).
Tested against ``psych::ICC(x, lmer = FALSE)`` to 1e-6 (``tests/fixtures/icc.json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from instrval._choices import check_choice
from instrval._jsonable import float_or_none
from instrval._result import Result
from instrval.errors import StatisticsError
from instrval.stats._common import show_value
from instrval.stats._dist import f_ppf, f_sf

__all__ = ["ICCResult", "icc", "ICC_TYPES"]

#: The six forms, in psych's order.
ICC_TYPES = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
_DESCRIPTIONS = (
    "Single raters absolute",
    "Single random raters",
    "Single fixed raters",
    "Average raters absolute",
    "Average random raters",
    "Average fixed raters",
)
NAN_POLICIES = ("raise", "omit")


@dataclass(frozen=True, repr=False)
class ICCResult(Result):
    """The six Shrout & Fleiss intraclass correlations.

    Attributes
    ----------
    table : DataFrame
        One row per form: ``type`` (ICC1 ... ICC3k), ``description``, ``icc``, ``f``,
        ``df1``, ``df2``, ``pvalue``, ``ci_low``, ``ci_high``.
    n_targets, n_raters : int
    confidence : float
    anova : dict
        Mean squares ``msb``, ``msw``, ``msj``, ``mse``.
    targets_dropped : tuple
        Targets left out because of missing ratings (``nan_policy="omit"``).
    """

    table: pd.DataFrame = field(repr=False)
    n_targets: int
    n_raters: int
    confidence: float
    anova: dict[str, float]
    targets_dropped: tuple[Any, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The six-row table (a copy)."""
        return self.table.copy()

    def __getitem__(self, icc_type: str) -> float:
        """``result["ICC2"]`` -> the ICC value of that form."""
        if icc_type not in ICC_TYPES:
            raise KeyError(f"{icc_type!r}; choose one of {', '.join(ICC_TYPES)}")
        return float(self.table.loc[self.table["type"] == icc_type, "icc"].iloc[0])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``{"icc": [{type, description, icc, f, df1, df2, pvalue,
        ci_low, ci_high}], "n_targets", "n_raters", "confidence", "anova",
        "targets_dropped"}``."""
        rows = []
        for rec in self.table.to_dict(orient="records"):
            rows.append({
                "type": rec["type"],
                "description": rec["description"],
                "icc": float_or_none(rec["icc"]),
                "f": float_or_none(rec["f"]),
                "df1": int(rec["df1"]),
                "df2": int(rec["df2"]),
                "pvalue": float_or_none(rec["pvalue"]),
                "ci_low": float_or_none(rec["ci_low"]),
                "ci_high": float_or_none(rec["ci_high"]),
            })
        return {
            "icc": rows,
            "n_targets": int(self.n_targets),
            "n_raters": int(self.n_raters),
            "confidence": float(self.confidence),
            "anova": {k: float_or_none(v) for k, v in self.anova.items()},
            "targets_dropped": [str(t) for t in self.targets_dropped],
        }


def _to_wide(data: pd.DataFrame, targets: str, raters: str, ratings: str) -> pd.DataFrame:
    missing_cols = [c for c in (targets, raters, ratings) if c not in data.columns]
    if missing_cols:
        raise StatisticsError(
            f"column(s) {', '.join(map(repr, missing_cols))} not found; the data has: "
            f"{', '.join(map(str, data.columns))}"
        )
    d = data[[targets, raters, ratings]]
    blank = d[targets].isna() | d[raters].isna()
    if blank.any():
        i = d.index[blank.to_numpy()][0]
        raise StatisticsError(f"row index {show_value(i)} has no target or rater id")
    dup = d.duplicated(subset=[targets, raters], keep=False)
    if dup.any():
        first = d[dup].iloc[0]
        raise StatisticsError(
            f"target {show_value(first[targets])} was rated more than once by rater "
            f"{show_value(first[raters])}; "
            "the ICC needs one rating per target and rater"
        )
    return d.pivot(index=targets, columns=raters, values=ratings)


def icc(
    data: pd.DataFrame,
    *,
    targets: str | None = None,
    raters: str | None = None,
    ratings: str | None = None,
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> ICCResult:
    """Intraclass correlations ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k (Shrout & Fleiss 1979).

    Parameters
    ----------
    data : DataFrame
        Long form (one row per rating, with the columns named by ``targets``, ``raters``
        and ``ratings``) or, when those three are all None, wide form: one row per target,
        one numeric column per rater.
    targets, raters, ratings : str, optional
        Column names of the long form.
    confidence : float
        Level of the confidence intervals (default 0.95).
    nan_policy : {"raise", "omit"}
        Missing ratings raise an error, or the targets with a missing rating are dropped
        (listed in ``targets_dropped``).

    Returns
    -------
    ICCResult

    Notes
    -----
    Formulas: see the module docstring. Lower/upper bounds (``a = 1 - confidence``):
    ICC1: ``FL = F/qF(1-a/2; n-1, n(k-1))``, ``FU = F*qF(1-a/2; n(k-1), n-1)``,
    ``(FL-1)/(FL+k-1)``, ``(FU-1)/(FU+k-1)``; ICC1k: ``1-1/FL``, ``1-1/FU``; ICC3 and
    ICC3k the same with ``F = MSB/MSE`` and df ``(n-1)(k-1)``; ICC2 with Satterthwaite's
    ``v`` as in psych. R equivalent: ``psych::ICC(x, lmer = FALSE, alpha = 1 - confidence)``
    (wide ``x``). pingouin's ``intraclass_corr`` gives the same ICCs but rounds the
    intervals to 2 decimals.

    References
    ----------
    Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in assessing rater
    reliability. Psychological Bulletin 86, 420-428. McGraw KO, Wong SP (1996). Forming
    inferences about some intraclass correlation coefficients. Psychological Methods 1, 30-46.

    Examples
    --------
    >>> import pandas as pd
    >>> sf = pd.DataFrame({"J1": [9, 6, 8, 7, 10, 6], "J2": [2, 1, 4, 1, 5, 2],
    ...                    "J3": [5, 3, 6, 2, 6, 4], "J4": [8, 2, 8, 6, 9, 7]})
    >>> round(icc(sf)["ICC3"], 4)
    0.7148
    """
    if not (isinstance(confidence, (int, float)) and 0.0 < float(confidence) < 1.0):
        raise StatisticsError(f"confidence must be a number between 0 and 1, got {confidence!r}")
    check_choice("nan_policy", nan_policy, NAN_POLICIES)
    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(np.asarray(data))
    given = [a is not None for a in (targets, raters, ratings)]
    if any(given) and not all(given):
        raise StatisticsError(
            "give all of targets=, raters= and ratings= (long form) or none of them (wide form)"
        )
    wide = _to_wide(data, targets, raters, ratings) if all(given) else data  # type: ignore[arg-type]
    num = wide.apply(pd.to_numeric, errors="coerce")
    bad = num.isna() & wide.notna()
    if bad.to_numpy().any():
        r, c = np.argwhere(bad.to_numpy())[0]
        raise StatisticsError(
            f"rating {show_value(wide.iloc[r, c])} (target {show_value(wide.index[r])}, rater "
            f"{show_value(wide.columns[c])}) "
            "is not a number"
        )
    num = num.astype("float64")
    dropped: tuple[Any, ...] = ()
    incomplete = num.isna().any(axis=1)
    if incomplete.any():
        if nan_policy == "raise":
            t = num.index[incomplete.to_numpy()][0]
            raise StatisticsError(
                f"{int(incomplete.sum())} target(s) lack a rating from some rater (first: "
                f"{show_value(t)}); the ICC needs a complete targets x raters table. Pass "
                "nan_policy='omit' to drop them"
            )
        dropped = tuple(num.index[incomplete.to_numpy()])
        num = num[~incomplete]
    x = num.to_numpy()
    n, k = x.shape
    if n < 2 or k < 2:
        raise StatisticsError(
            f"the ICC needs at least 2 targets and 2 raters with complete ratings; got {n} "
            f"target(s) and {k} rater(s)"
        )

    gm = x.mean()
    ssb = k * ((x.mean(axis=1) - gm) ** 2).sum()
    ssj = n * ((x.mean(axis=0) - gm) ** 2).sum()
    sst = ((x - gm) ** 2).sum()
    sse = sst - ssb - ssj
    msb = ssb / (n - 1)
    msj = ssj / (k - 1)
    mse = sse / ((n - 1) * (k - 1))
    msw = (ssj + sse) / (n * (k - 1))
    if not (msw > 0 and mse > 0):
        raise StatisticsError(
            "the ratings have no within-target variation (every rater gave each target the "
            "same rating), so the ICC's F ratios are undefined"
        )

    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    icc3 = (msb - mse) / (msb + (k - 1) * mse)
    icc1k = (msb - msw) / msb
    icc2k = (msb - mse) / (msb + (msj - mse) / n)
    icc3k = (msb - mse) / msb

    f11 = msb / msw
    df11n, df11d = n - 1, n * (k - 1)
    p11 = f_sf(f11, df11n, df11d)
    f21 = msb / mse
    df21n, df21d = n - 1, (n - 1) * (k - 1)
    p21 = f_sf(f21, df21n, df21d)

    a = 1.0 - confidence
    q = 1.0 - a / 2.0
    f1l = f11 / f_ppf(q, df11n, df11d)
    f1u = f11 * f_ppf(q, df11d, df11n)
    f3l = f21 / f_ppf(q, df21n, df21d)
    f3u = f21 * f_ppf(q, df21d, df21n)
    l1, u1 = (f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)
    l3, u3 = (f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)
    l1k, u1k = 1 - 1 / f1l, 1 - 1 / f1u
    l3k, u3k = 1 - 1 / f3l, 1 - 1 / f3u

    fj = msj / mse
    vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = (n - 1) * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    fu2 = f_ppf(q, n - 1, v)
    fl2 = f_ppf(q, v, n - 1)
    l2 = n * (msb - fu2 * mse) / (fu2 * (k * msj + (k * n - k - n) * mse) + n * msb)
    u2 = n * (fl2 * msb - mse) / (k * msj + (k * n - k - n) * mse + n * fl2 * msb)
    l2k = l2 * k / (1 + l2 * (k - 1))
    u2k = u2 * k / (1 + u2 * (k - 1))

    table = pd.DataFrame({
        "type": list(ICC_TYPES),
        "description": list(_DESCRIPTIONS),
        "icc": [icc1, icc2, icc3, icc1k, icc2k, icc3k],
        "f": [f11, f21, f21, f11, f21, f21],
        "df1": [df11n, df21n, df21n, df11n, df21n, df21n],
        "df2": [df11d, df21d, df21d, df11d, df21d, df21d],
        "pvalue": [p11, p21, p21, p11, p21, p21],
        "ci_low": [l1, l2, l3, l1k, l2k, l3k],
        "ci_high": [u1, u2, u3, u1k, u2k, u3k],
    })
    table = table.astype({"icc": float, "f": float, "pvalue": float, "ci_low": float,
                          "ci_high": float, "df1": int, "df2": int})
    return ICCResult(
        table=table,
        n_targets=n,
        n_raters=k,
        confidence=float(confidence),
        anova={"msb": float(msb), "msw": float(msw), "msj": float(msj), "mse": float(mse)},
        targets_dropped=dropped,
    )
