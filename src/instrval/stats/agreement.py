"""Inter-coder agreement: percent agreement, Cohen's, Fleiss' kappa, Krippendorff's alpha.

Every statistic is a pure function of a table of ratings and returns a frozen result.
:func:`coder_agreement` applies them to a :class:`~instrval.model.coding.CodingData`: for
each code, a segment x coder presence/absence table over the segments that two or more
coders coded, and overall (all codes pooled, and the set of codes each coder assigned to a
segment taken as one nominal label).

References
----------
Cohen J (1960). A coefficient of agreement for nominal scales. *Educ Psychol Meas* 20:37-46.
Cohen J (1968). Weighted kappa. *Psychol Bull* 70:213-220.
Fleiss JL, Cohen J, Everitt BS (1969). Large sample standard errors of kappa and weighted
kappa. *Psychol Bull* 72:323-327.
Fleiss JL (1971). Measuring nominal scale agreement among many raters. *Psychol Bull*
76:378-382.
Fleiss JL, Nee JCM, Landis JR (1979). Large sample variance of kappa in the case of
different sets of raters. *Psychol Bull* 86:974-977.
Krippendorff K (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
Communication, University of Pennsylvania, Departmental Papers 43.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from instrval._choices import check_choice, renamed_keyword
from instrval._result import Result
from instrval.errors import StatisticsError
from instrval.stats._dist import norm_ppf

if TYPE_CHECKING:  # pragma: no cover
    from instrval.model.coding import CodingData

__all__ = [
    "KappaResult",
    "FleissResult",
    "KrippendorffResult",
    "AgreementResult",
    "percent_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "coder_agreement",
    "AgreementSummary",
    "agreement_summary",
    "LEVELS",
    "MIN_SEGMENTS",
]

#: Levels of measurement accepted by :func:`krippendorff_alpha`.
LEVELS = ("nominal", "ordinal", "interval", "ratio")


def _clean(v: float | np.floating) -> float | None:
    x = float(v)
    return None if np.isnan(x) or np.isinf(x) else x


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, repr=False)
class KappaResult(Result):
    """Cohen's kappa for two raters, unweighted and weighted, as psych::cohen.kappa.

    Attributes
    ----------
    kappa, weighted_kappa : float
    var_kappa, var_weighted : float
        Large-sample variances (Fleiss, Cohen & Everitt 1969), as psych computes them;
        a negative or undefined variance is set to 0 and ``bad`` is True (as in psych).
    ci_low, ci_high, weighted_ci_low, weighted_ci_high : float
        Normal-theory interval ``kappa -/+ z(alpha/2) * sqrt(var)``, clipped to [-1, 1].
    n : int
        Units rated by both raters.
    levels : tuple
        The categories, in the order the weights use.
    weights : ndarray
        The agreement weights (1 on the diagonal).
    agree : DataFrame
        The agreement table as proportions (rows rater 1, columns rater 2).
    """

    kappa: float
    weighted_kappa: float
    var_kappa: float
    var_weighted: float
    ci_low: float
    ci_high: float
    weighted_ci_low: float
    weighted_ci_high: float
    n: int
    confidence: float
    levels: tuple[Any, ...]
    weights: np.ndarray = field(repr=False)
    agree: pd.DataFrame = field(repr=False)
    bad: bool = False

    def to_frame(self) -> pd.DataFrame:
        """One row per estimate (``unweighted``, ``weighted``), as psych's ``confid``."""
        return pd.DataFrame({
            "type": ["unweighted", "weighted"],
            "estimate": [self.kappa, self.weighted_kappa],
            "variance": [self.var_kappa, self.var_weighted],
            "ci_low": [self.ci_low, self.weighted_ci_low],
            "ci_high": [self.ci_high, self.weighted_ci_high],
        })

    def to_dict(self) -> dict[str, Any]:
        return {
            "kappa": _clean(self.kappa), "weighted_kappa": _clean(self.weighted_kappa),
            "var_kappa": _clean(self.var_kappa), "var_weighted": _clean(self.var_weighted),
            "ci_low": _clean(self.ci_low), "ci_high": _clean(self.ci_high),
            "weighted_ci_low": _clean(self.weighted_ci_low),
            "weighted_ci_high": _clean(self.weighted_ci_high),
            "n": int(self.n), "confidence": float(self.confidence),
            "levels": [v.item() if isinstance(v, np.generic) else v for v in self.levels],
            "bad": bool(self.bad),
        }


@dataclass(frozen=True, repr=False)
class FleissResult(Result):
    """Fleiss' kappa for a fixed number of raters per subject.

    Attributes
    ----------
    kappa : float
    p_observed, p_expected : float
        Mean per-subject agreement P-bar and chance agreement P-bar_e.
    se0 : float
        Standard error under H0: kappa = 0 (Fleiss, Nee & Landis 1979).
    n_subjects, n_raters : int
    categories : DataFrame
        One row per category: ``category``, ``proportion`` (p_j), ``kappa`` (kappa_j).
    """

    kappa: float
    p_observed: float
    p_expected: float
    se0: float
    n_subjects: int
    n_raters: int
    categories: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.categories.copy()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kappa": _clean(self.kappa), "p_observed": _clean(self.p_observed),
            "p_expected": _clean(self.p_expected), "se0": _clean(self.se0),
            "n_subjects": int(self.n_subjects), "n_raters": int(self.n_raters),
            "categories": [{k: (_clean(v) if isinstance(v, float) else v) for k, v in r.items()}
                           for r in self.categories.to_dict(orient="records")],
        }


@dataclass(frozen=True, repr=False)
class KrippendorffResult(Result):
    """Krippendorff's alpha.

    Attributes
    ----------
    alpha : float
        ``1 - D_o / D_e``.
    d_observed, d_expected : float
        Observed and expected disagreement (per pairable value).
    n_pairable : int
        Values in units with two or more values (``n..`` in Krippendorff 2011).
    level : str
    """

    alpha: float
    d_observed: float
    d_expected: float
    n_pairable: int
    n_units: int
    level: str

    def to_dict(self) -> dict[str, Any]:
        return {"alpha": _clean(self.alpha), "d_observed": _clean(self.d_observed),
                "d_expected": _clean(self.d_expected), "n_pairable": int(self.n_pairable),
                "n_units": int(self.n_units), "level": self.level}


@dataclass(frozen=True, repr=False)
class AgreementResult(Result):
    """Inter-coder agreement on coded segments (see :func:`coder_agreement`).

    Attributes
    ----------
    codes : DataFrame
        One row per code: ``code``, ``n_segments`` (segments coded by two or more of the
        coders), ``n_coders``, ``n_present`` (segment-coder pairs with the code),
        ``percent_agreement``, ``cohen_kappa`` (two coders only, else NaN),
        ``fleiss_kappa`` (NaN unless every segment has the same number of coders),
        ``krippendorff_alpha`` (nominal).
    overall : DataFrame
        Two rows, ``scope`` = ``"pooled"`` (every segment x code presence/absence pooled)
        and ``"assigned_codes"`` (the set of codes each coder gave a segment, as one
        nominal label), with the same statistic columns.
    coders : tuple of str
    n_segments : int
        Segments coded by two or more coders.
    """

    codes: pd.DataFrame
    overall: pd.DataFrame
    coders: tuple[str, ...]
    n_segments: int

    def to_frame(self) -> pd.DataFrame:
        return self.codes.copy()

    def to_dict(self) -> dict[str, Any]:
        def rec(df: pd.DataFrame) -> list[dict[str, Any]]:
            out = []
            for r in df.to_dict(orient="records"):
                out.append({k: (_clean(v) if isinstance(v, (float, np.floating)) else
                                int(v) if isinstance(v, (np.integer,)) else v)
                            for k, v in r.items()})
            return out

        return {"coders": list(self.coders), "n_segments": int(self.n_segments),
                "overall": rec(self.overall), "codes": rec(self.codes)}


# --------------------------------------------------------------------------- helpers
def _as_frame(ratings: Any, what: str) -> pd.DataFrame:
    if isinstance(ratings, pd.DataFrame):
        return ratings
    arr = np.asarray(ratings, dtype=object)
    if arr.ndim != 2:
        raise StatisticsError(f"{what} must be a 2-dimensional table (units x raters), "
                              f"got {arr.ndim} dimension(s)")
    return pd.DataFrame(arr)


def _sorted_levels(values: Sequence[Any]) -> list[Any]:
    uniq = list(dict.fromkeys(values))
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def _encode(arr: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Integer codes of a 2-D array (``-1`` = missing, as ``pd.isna``) and the distinct
    values in order of first appearance (row-major).

    Values are told apart by Python equality, as a dict does (``1``, ``1.0`` and ``True``
    are one value): the same grouping as comparing the values one by one.
    """
    arr = np.asarray(arr)
    if arr.dtype.kind not in "biuf":
        arr = arr.astype(object)
    codes, uniques = pd.factorize(arr.ravel(), use_na_sentinel=True)
    return codes.reshape(arr.shape), list(uniques.tolist() if hasattr(uniques, "tolist")
                                         else uniques)


def _first_seen(codes: np.ndarray) -> np.ndarray:
    """The distinct non-negative codes of a 1-D array in order of first appearance."""
    codes = codes[codes >= 0]
    if codes.size == 0:
        return codes
    _, first = np.unique(codes, return_index=True)
    return codes[np.sort(first)]


def _percent_agreement_codes(codes: np.ndarray) -> float:
    """Percent agreement of a units x raters code array (``-1`` = missing)."""
    valid = codes >= 0
    n = valid.sum(axis=1)
    usable = n >= 2
    n_usable = int(usable.sum())
    if not n_usable:
        return float("nan")
    hi = np.where(valid, codes, -1).max(axis=1)
    lo = np.where(valid, codes, np.iinfo(codes.dtype).max).min(axis=1)
    agree = int((usable & (hi == lo)).sum())
    return agree / n_usable


def _count_table(codes: np.ndarray, values: list[Any], cats: list[Any]) -> np.ndarray:
    """Units x categories counts (float) of a units x raters code array, columns ``cats``."""
    index = {v: i for i, v in enumerate(cats)}
    pos = np.array([index.get(v, -1) for v in values], dtype=np.intp)
    rows, cols = np.nonzero(codes >= 0)
    mapped = pos[codes[rows, cols]]
    keep = mapped >= 0
    out = np.zeros((codes.shape[0], len(cats)))
    np.add.at(out, (rows[keep], mapped[keep]), 1.0)
    return out


# --------------------------------------------------------------------------- statistics
def percent_agreement(ratings: Any) -> float:
    """Share of units on which every rater who rated it gave the same value.

    ``PA = (units whose non-missing ratings are all equal) / (units with >= 2 ratings)``.
    Units with fewer than two ratings are left out. For two raters this is the plain
    proportion of agreement p_o of Cohen (1960). It is not corrected for chance:
    a code that is rarely applied gives a high agreement from shared absences alone.

    Parameters
    ----------
    ratings : DataFrame or array, units x raters
        Missing ratings are NaN/None.

    Returns
    -------
    float
        NaN when no unit has two ratings.

    Notes
    -----
    R: ``irr::agree(ratings)$value / 100`` on complete data.

    Examples
    --------
    >>> percent_agreement([[1, 1], [1, 2], [2, 2], [3, 3]])
    0.75
    """
    df = _as_frame(ratings, "ratings")
    codes, _ = _encode(df.to_numpy())
    return _percent_agreement_codes(codes)


def cohen_kappa(ratings: Any, *, weights: str | np.ndarray | None = "quadratic",
                levels: Sequence[Any] | None = None, confidence: float = 0.95,
                alpha: float | None = None) -> KappaResult:
    """Cohen's kappa and weighted kappa for two raters, with their confidence intervals.

    With ``P`` the agreement table as proportions, ``r`` and ``c`` its margins and ``W``
    agreement weights (1 on the diagonal)::

        kappa   = (p_o - p_c) / (1 - p_c),        p_o = tr(P),     p_c = sum(r_i c_i)
        kappa_w = (sum W*P - sum W*rc') / (1 - sum W*rc')

    The variances are the large-sample formulas of Fleiss, Cohen & Everitt (1969) as coded
    in psych::cohen.kappa, and the interval is ``kappa -/+ z(alpha/2) sqrt(var)``,
    clipped to [-1, 1] as psych does. The default weights are psych's: quadratic in the
    positions of the sorted levels, ``w_ij = 1 - (i - j)^2 / (k - 1)^2`` (positions, not
    values: levels 1, 3, 5 are one step apart).

    Parameters
    ----------
    ratings : DataFrame or array, n x 2
        One row per unit, one column per rater. Rows with a missing rating are dropped
        (psych's ``na.omit`` for raw data).
    weights : {"quadratic", "linear", "unweighted"} or ndarray, default "quadratic"
        Weights for ``weighted_kappa``: ``"linear"`` is ``1 - |i - j| / (k - 1)``;
        an array gives custom agreement weights (k x k). ``None`` means "quadratic".
    levels : sequence, optional
        The categories in order (default: the sorted union of both raters' values).
    confidence : float, default 0.95
        Level of the confidence intervals.
    alpha : float, optional
        Deprecated: ``1 - confidence`` (the name before 0.2; warns).

    Returns
    -------
    KappaResult

    Notes
    -----
    R: ``psych::cohen.kappa(ratings, w = W, alpha = 1 - confidence, levels = levels)``. Tested
    against it to 1e-12.

    Examples
    --------
    >>> r = cohen_kappa([[1, 1], [2, 2], [1, 2], [2, 2]])
    >>> round(r.kappa, 4)
    0.5
    """
    df = _as_frame(ratings, "ratings")
    if df.shape[1] != 2:
        raise StatisticsError(
            f"cohen_kappa needs exactly 2 raters (columns), got {df.shape[1]}; "
            "use fleiss_kappa or krippendorff_alpha for more raters")
    confidence = renamed_keyword("alpha", "confidence", alpha, confidence, 0.95,
                                 convert=lambda a: 1 - a)
    if not 0 < confidence < 1:
        raise StatisticsError(f"confidence must be between 0 and 1, got {confidence!r}")
    complete = ~df.isna().to_numpy().any(axis=1)
    if not complete.any():
        raise StatisticsError("cohen_kappa: no unit was rated by both raters")
    x1 = list(df.iloc[:, 0][complete])
    x2 = list(df.iloc[:, 1][complete])
    labels = list(levels) if levels is not None else _sorted_levels(x1 + x2)
    index = {v: i for i, v in enumerate(labels)}
    unknown = sorted({str(v) for v in x1 + x2 if v not in index})
    if unknown:
        raise StatisticsError(f"ratings {', '.join(unknown)} are not among the levels "
                              f"{labels!r}")
    k = len(labels)
    i1 = np.fromiter((index[a] for a in x1), dtype=np.intp, count=len(x1))
    i2 = np.fromiter((index[b] for b in x2), dtype=np.intp, count=len(x2))
    tab = np.bincount(i1 * k + i2, minlength=k * k).reshape(k, k).astype(float)
    return _cohen_from_table(tab, labels, weights=weights, alpha=1 - confidence)


def _cohen_from_table(tab: np.ndarray, labels: list[Any], *,
                      weights: str | np.ndarray | None, alpha: float) -> KappaResult:
    """Cohen's kappa from a k x k table of counts (rows rater 1); see :func:`cohen_kappa`."""
    k = len(labels)
    tot = tab.sum()
    x = tab / tot
    rs = x.sum(axis=1)
    cs = x.sum(axis=0)
    prob = np.outer(rs, cs)
    po = np.trace(x)
    pc = np.trace(prob)
    kappa = float("nan") if k == 1 else (po - pc) / (1 - pc)

    if weights is None:
        weights = "quadratic"
    if isinstance(weights, str):
        d = np.abs(np.subtract.outer(np.arange(k), np.arange(k))).astype(float)
        denom = max(k - 1, 1)
        if weights == "quadratic":
            w = 1 - d ** 2 / denom ** 2
        elif weights == "linear":
            w = 1 - d / denom
        elif weights == "unweighted":
            w = np.eye(k)
        else:
            raise StatisticsError(f"weights must be 'quadratic', 'linear', 'unweighted' or "
                                  f"a k x k array, got {weights!r}")
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (k, k):
            raise StatisticsError(f"weights must be a {k} x {k} array (one row and column "
                                  f"per level), got shape {w.shape}")

    wpo = float((w * x).sum())
    wpc = float((w * prob).sum())
    # psych's colSums(w * cs) and rowSums(w * rs) multiply w[i, j] by cs[i] and rs[i]
    # (R recycles a vector down the columns); copied as psych computes them.
    colw = (w * cs[:, np.newaxis]).sum(axis=0)
    roww = (w * rs[:, np.newaxis]).sum(axis=1)
    eye = np.eye(k)
    cs_plus_rs = cs[:, np.newaxis] + rs[np.newaxis, :]        # cs %+% t(rs)
    rs_plus_cs = rs[:, np.newaxis] + cs[np.newaxis, :]        # rs %+% t(cs)
    vark = (1 / (tot * (1 - pc) ** 4)) * (
        np.trace(x * (eye * (1 - pc) - rs_plus_cs * (1 - po)) ** 2)
        + (1 - po) ** 2 * ((x * cs_plus_rs ** 2).sum() - np.trace(x * cs_plus_rs ** 2))
        - (po * pc - 2 * pc + po) ** 2)
    colw_plus_roww = colw[:, np.newaxis] + roww[np.newaxis, :]  # colw %+% t(roww)
    varkw = (1 / (tot * (1 - wpc) ** 4)) * (
        (x * (w * (1 - wpc) - colw_plus_roww * (1 - wpo)) ** 2).sum()
        - (wpo * wpc - 2 * wpc + wpo) ** 2)
    wkappa = (wpo - wpc) / (1 - wpc) if np.trace(w) > 0 else 1 - wpo / wpc
    bad = False
    if not np.isfinite(vark) or vark < 0:
        vark, bad = 0.0, True
    if not np.isfinite(varkw) or varkw < 0:
        varkw, bad = 0.0, True
    z = norm_ppf(alpha / 2)
    bounds = np.array([kappa + z * np.sqrt(vark), kappa - z * np.sqrt(vark),
                       wkappa + z * np.sqrt(varkw), wkappa - z * np.sqrt(varkw)])
    with np.errstate(invalid="ignore"):
        bounds = np.clip(bounds, -1, 1)
    agree = pd.DataFrame(x, index=pd.Index(labels, name="rater1"),
                         columns=pd.Index(labels, name="rater2"))
    return KappaResult(
        kappa=float(kappa), weighted_kappa=float(wkappa), var_kappa=float(vark),
        var_weighted=float(varkw), ci_low=float(bounds[0]), ci_high=float(bounds[1]),
        weighted_ci_low=float(bounds[2]), weighted_ci_high=float(bounds[3]),
        n=int(tot), confidence=1 - alpha, levels=tuple(labels), weights=w, agree=agree,
        bad=bad)


def fleiss_kappa(table: Any, *, counts: bool = True) -> FleissResult:
    """Fleiss' kappa for many raters (Fleiss 1971).

    With ``n_ij`` the number of the ``n`` raters who put subject ``i`` (of ``N``) in
    category ``j``::

        p_j   = sum_i n_ij / (N n)
        P_i   = (sum_j n_ij^2 - n) / (n (n - 1))
        kappa = (mean(P_i) - sum_j p_j^2) / (1 - sum_j p_j^2)

    ``se0`` is the standard error under kappa = 0 of Fleiss, Nee & Landis (1979), and the
    per-category ``kappa_j = 1 - sum_i n_ij (n - n_ij) / (N n (n - 1) p_j q_j)``.

    Parameters
    ----------
    table : DataFrame or array
        With ``counts=True`` (default): subjects x categories counts, every row summing to
        the same number of raters. With ``counts=False``: subjects x raters ratings
        (complete: Fleiss' kappa needs the same number of raters for every subject).
    counts : bool

    Returns
    -------
    FleissResult

    Notes
    -----
    R: ``irr::kappam.fleiss(ratings)`` (subjects x raters). On the example of Fleiss'
    Wikipedia article (10 subjects, 14 raters, 5 categories) kappa = 0.2099.

    Examples
    --------
    >>> round(fleiss_kappa([[2, 0], [0, 2], [1, 1]]).kappa, 4)
    0.3333
    """
    df = _as_frame(table, "table")
    if counts:
        try:
            n_ij = df.to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise StatisticsError("fleiss_kappa counts must be numbers (subjects x "
                                  "categories); pass counts=False for raw ratings") from None
        cats = list(df.columns)
    else:
        if df.isna().to_numpy().any():
            raise StatisticsError("fleiss_kappa needs complete ratings (the same raters for "
                                  "every subject); use krippendorff_alpha for missing ratings")
        codes, uniq = _encode(df.to_numpy())
        cats = _sorted_levels(uniq)
        n_ij = _count_table(codes, uniq, cats)
    return _fleiss_from_counts(n_ij, cats)


def _fleiss_from_counts(n_ij: np.ndarray, cats: list[Any]) -> FleissResult:
    """Fleiss' kappa from subjects x categories counts (float); see :func:`fleiss_kappa`."""
    if n_ij.size == 0 or (n_ij < 0).any() or np.isnan(n_ij).any():
        raise StatisticsError("fleiss_kappa counts must be non-negative numbers")
    raters = n_ij.sum(axis=1)
    if not np.allclose(raters, raters[0]):
        raise StatisticsError(
            f"fleiss_kappa needs the same number of raters for every subject; rows sum to "
            f"{sorted(set(raters.tolist()))}")
    n = raters[0]
    if n < 2:
        raise StatisticsError(f"fleiss_kappa needs at least 2 raters per subject, got {n:g}")
    big_n = n_ij.shape[0]
    p = n_ij.sum(axis=0) / (big_n * n)
    q = 1 - p
    p_i = ((n_ij ** 2).sum(axis=1) - n) / (n * (n - 1))
    pbar = p_i.mean()
    pe = float((p ** 2).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (pbar - pe) / (1 - pe)
        pq = float((p * q).sum())
        se0 = np.sqrt(2) / (pq * np.sqrt(big_n * n * (n - 1))) * np.sqrt(
            pq ** 2 - float((p * q * (q - p)).sum()))
        kappa_j = 1 - (n_ij * (n - n_ij)).sum(axis=0) / (big_n * n * (n - 1) * p * q)
    cat_df = pd.DataFrame({"category": cats, "proportion": p.astype(float),
                           "kappa": kappa_j.astype(float)})
    return FleissResult(kappa=float(kappa), p_observed=float(pbar), p_expected=pe,
                        se0=float(se0), n_subjects=int(big_n), n_raters=int(n),
                        categories=cat_df)


def krippendorff_alpha(data: Any, *, level: str = "nominal",
                       units: str = "columns") -> KrippendorffResult:
    """Krippendorff's alpha for any number of coders, with missing values.

    From the coincidence matrix ``o_ck = sum_u (number of c-k pairs in unit u) / (m_u - 1)``
    over units with ``m_u >= 2`` values, ``n_c = sum_k o_ck`` and ``n = sum_c n_c``::

        alpha = 1 - D_o / D_e = 1 - (n - 1) sum o_ck d2_ck / sum n_c n_k d2_ck

    with ``d2`` the difference function of the level: nominal ``[c != k]``, ordinal
    ``(sum_{g=c..k} n_g - (n_c + n_k)/2)^2``, interval ``(c - k)^2``, ratio
    ``((c - k)/(c + k))^2`` (Krippendorff 2011).

    Parameters
    ----------
    data : DataFrame or array
        Reliability data, missing values as NaN/None.
    level : {"nominal", "ordinal", "interval", "ratio"}
    units : {"columns", "rows"}, default "columns"
        Where the units are: ``"columns"`` is Krippendorff's layout (coders in rows, units
        in columns); ``"rows"`` takes units in rows and coders in columns.

    Returns
    -------
    KrippendorffResult
        ``alpha`` is NaN when there is no disagreement to expect (one value only).

    Notes
    -----
    R: ``irr::kripp.alpha(as.matrix(data), method = level)``. Krippendorff's (2011)
    example (4 coders, 12 units, missing values) gives .743, .815, .849 and .797.

    Examples
    --------
    >>> round(krippendorff_alpha([[1, 2, 1], [1, 2, 2]]).alpha, 4)
    0.4444
    """
    check_choice("level", level, LEVELS)
    check_choice("units", units, ("columns", "rows"))
    df = _as_frame(data, "data")
    if units == "rows":
        df = df.T
    codes, uniq = _encode(df.to_numpy())
    return _krippendorff_codes(codes, uniq, level)


def _krippendorff_codes(codes: np.ndarray, uniq: list[Any], level: str) -> KrippendorffResult:
    """Krippendorff's alpha of a coders x units code array (``-1`` = missing)."""
    valid = codes >= 0
    m_u = valid.sum(axis=0)
    pair = m_u >= 2
    pcodes = codes[:, pair]
    # the values of pairable units, unit by unit (the order the levels are first met in)
    seen = _first_seen(pcodes.T.ravel())
    values = _sorted_levels([uniq[i] for i in seen])
    if level != "nominal":
        try:
            numeric = np.array([float(v) for v in values])
        except (TypeError, ValueError):
            raise StatisticsError(f"{level} alpha needs numeric values, got "
                                  f"{values[:5]!r}") from None
    k = len(values)
    index = {v: i for i, v in enumerate(values)}
    pos = np.full(len(uniq), -1, dtype=np.intp)
    for i in seen:
        pos[i] = index[uniq[i]]
    n_pair = int(pair.sum())
    cnt = np.zeros((n_pair, k))
    r_i, u_i = np.nonzero(pcodes >= 0)
    np.add.at(cnt, (u_i, pos[pcodes[r_i, u_i]]), 1.0)
    # o = sum_u (cnt_u cnt_u' - diag(cnt_u)) / (m_u - 1), summed by number of values m
    o = np.zeros((k, k))
    m_pair = m_u[pair]
    for m in np.unique(m_pair):
        c_m = cnt[m_pair == m]
        o += (c_m.T @ c_m - np.diag(c_m.sum(axis=0))) / (m - 1)
    nc = o.sum(axis=1)
    n = nc.sum()
    a, b = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    if level == "nominal":
        d2 = (a != b).astype(float)
    elif level == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(nc)])
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        d2 = (cum[hi + 1] - cum[lo] - (nc[a] + nc[b]) / 2) ** 2
        d2[a == b] = 0.0
    elif level == "interval":
        d2 = (numeric[a] - numeric[b]) ** 2
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            d2 = np.nan_to_num(((numeric[a] - numeric[b]) / (numeric[a] + numeric[b])) ** 2)
    if n < 2:
        return KrippendorffResult(float("nan"), float("nan"), float("nan"), int(n),
                                  n_pair, level)
    do = float((o * d2).sum()) / n
    de = float((np.outer(nc, nc) * d2).sum()) / (n * (n - 1))
    alpha = 1 - do / de if de > 0 else float("nan")
    return KrippendorffResult(alpha=float(alpha), d_observed=do, d_expected=de,
                              n_pairable=int(round(n)), n_units=n_pair, level=level)


# --------------------------------------------------------------------------- coded segments
_STAT_COLUMNS = ("percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha")


def _cohen_codes(codes: np.ndarray, values: list[Any], *, alpha: float = 0.05) -> KappaResult:
    """Unweighted Cohen's kappa of a units x 2 code array, on the units both coders coded
    (as :func:`cohen_kappa` on the table of values)."""
    pair = codes[(codes >= 0).all(axis=1)]
    if len(pair) == 0:
        raise StatisticsError("cohen_kappa: no unit was rated by both raters")
    labels = _sorted_levels([values[i] for i in
                             _first_seen(np.concatenate([pair[:, 0], pair[:, 1]]))])
    index = {v: i for i, v in enumerate(labels)}
    pos = np.array([index.get(v, -1) for v in values], dtype=np.intp)
    k = len(labels)
    tab = np.bincount(pos[pair[:, 0]] * k + pos[pair[:, 1]],
                      minlength=k * k).reshape(k, k).astype(float)
    return _cohen_from_table(tab, labels, weights="unweighted", alpha=alpha)


def _stats_codes(codes: np.ndarray, values: list[Any]) -> dict[str, float]:
    """Agreement statistics for a units x coders code array (``-1`` where a coder did not
    code the unit; ``values[c]`` is the value of code ``c``).

    The same statistics, through the same arithmetic, as calling :func:`percent_agreement`,
    :func:`cohen_kappa` (unweighted, the units both coders coded), :func:`fleiss_kappa`
    (when every unit has the same number of coders) and nominal
    :func:`krippendorff_alpha` on the table of values.
    """
    out = {c: float("nan") for c in _STAT_COLUMNS}
    if codes.shape[0] == 0:
        return out
    out["percent_agreement"] = _percent_agreement_codes(codes)
    valid = codes >= 0
    present = np.unique(codes[valid])
    if codes.shape[1] == 2 and valid.all(axis=1).any() and len(present) > 1:
        out["cohen_kappa"] = _cohen_codes(codes, values).kappa
    m = valid.sum(axis=1)
    if len(present) > 1 and (m == m[0]).all() and m[0] >= 2:
        cats = sorted([values[i] for i in present], key=str)
        out["fleiss_kappa"] = _fleiss_from_counts(_count_table(codes, values, cats),
                                                  cats).kappa
    out["krippendorff_alpha"] = _krippendorff_codes(codes.T, values, "nominal").alpha
    return out


@dataclass(frozen=True)
class _CoderTables:
    """The segment x coder tables :func:`coder_agreement` works on (codes: ``-1`` = the
    coder did not code the segment).

    ``code_tables[j]``: 1 where the coder applied ``codes[j]``, 0 where the coder coded the
    segment with other codes only. ``labels``: index into ``label_values``, the set of
    codes a coder gave the segment joined with ``+``.
    """

    shared: list[str]
    coders: tuple[str, ...]
    codes: list[str]
    code_tables: list[np.ndarray]
    labels: np.ndarray
    label_values: list[Any]

    def pooled(self) -> np.ndarray:
        """The per-code tables stacked (unit = segment x code), codes in order."""
        return np.concatenate(self.code_tables)


def _coder_tables(coding: CodingData, *, codes: Sequence[str] | None = None,
                  coders: Sequence[str] | None = None) -> _CoderTables:
    """Build every table of :func:`coder_agreement` at once (one pass over the segments)."""
    seg = coding.segments
    seg = seg[seg["coder"].notna()]
    if coders is not None:
        unknown = sorted(set(coders) - set(seg["coder"]))
        if unknown:
            raise StatisticsError(f"unknown coder(s) {', '.join(unknown)}; coders in the "
                                  f"data: {', '.join(sorted(set(seg['coder'])))}")
        seg = seg[seg["coder"].isin(list(coders))]
    per_seg = seg.groupby("segment_id")["coder"].nunique()
    shared = sorted(per_seg[per_seg >= 2].index)
    sub = seg[seg["segment_id"].isin(shared)]
    all_coders = tuple(sorted(sub["coder"].unique()))
    if not shared:
        return _CoderTables([], all_coders, [], [], np.zeros((0, len(all_coders)), np.int64),
                            [])
    n_seg, n_cod = len(shared), len(all_coders)
    s_idx = pd.Index(shared).get_indexer(sub["segment_id"])
    r_idx = pd.Index(list(all_coders)).get_indexer(sub["coder"])
    coded = np.zeros((n_seg, n_cod), dtype=bool)
    coded[s_idx, r_idx] = True
    use_codes = list(codes) if codes is not None else sorted(sub["code"].unique())
    distinct = list(dict.fromkeys(use_codes))
    c_idx = pd.Index(distinct).get_indexer(sub["code"])
    has = np.zeros((len(distinct), n_seg, n_cod), dtype=np.int64)
    hit = c_idx >= 0
    has[c_idx[hit], s_idx[hit], r_idx[hit]] = 1
    # per code: 1 = the coder applied it, 0 = coded the segment otherwise, -1 = not coded
    tables = np.where(coded[np.newaxis], has, -1)
    # the set of codes a coder gave a segment, as one label ("a+b")
    sets = (sub.drop_duplicates(["segment_id", "coder", "code"])
            .sort_values("code", kind="mergesort")
            .groupby(["segment_id", "coder"], sort=False)["code"].agg("+".join))
    lab_codes, lab_values = _encode(sets.to_numpy(dtype=object))
    labels = np.full((n_seg, n_cod), -1, dtype=np.int64)
    labels[pd.Index(shared).get_indexer(sets.index.get_level_values(0)),
           pd.Index(list(all_coders)).get_indexer(sets.index.get_level_values(1))] = lab_codes
    return _CoderTables(list(shared), all_coders, use_codes,
                        [tables[distinct.index(c)] for c in use_codes], labels,
                        lab_values)


def coder_agreement(coding: CodingData, *, codes: Sequence[str] | None = None,
                    coders: Sequence[str] | None = None) -> AgreementResult:
    """Inter-coder agreement on the segments that two or more coders coded.

    A segment counts when at least two coders (of ``coders``, default all) coded it
    (gave it at least one code). For each code, the segment x coder table holds 1 when the
    coder applied the code to the segment and 0 when the coder coded the segment with
    other codes only; percent agreement, Cohen's kappa (exactly two coders), Fleiss' kappa
    and Krippendorff's nominal alpha are computed on it. Overall, ``pooled`` stacks these
    tables for all codes (unit = segment x code) and ``assigned_codes`` takes the set of
    codes a coder gave a segment as one nominal label (``"a+b"`` for two codes).

    Parameters
    ----------
    coding : CodingData
    codes : sequence of str, optional
        Codes to report (default: every code used on a double-coded segment).
    coders : sequence of str, optional
        Coders to compare (default: every coder).

    Returns
    -------
    AgreementResult
        Empty tables (and ``n_segments = 0``) when no segment was coded twice.

    Notes
    -----
    R: for one code, ``psych::cohen.kappa(cbind(A, B))`` on the 0/1 columns and
    ``irr::kripp.alpha(t(cbind(A, B)))``.
    """
    t = _coder_tables(coding, codes=codes, coders=coders)
    cols = ["code", "n_segments", "n_coders", "n_present", *_STAT_COLUMNS]
    if not t.shared:
        empty = pd.DataFrame(columns=cols)
        return AgreementResult(codes=empty,
                               overall=pd.DataFrame(columns=["scope", *cols[1:]]),
                               coders=t.coders, n_segments=0)
    n_seg, n_cod = len(t.shared), len(t.coders)
    binary = [0.0, 1.0]
    rows = []
    for code, table in zip(t.codes, t.code_tables, strict=True):
        rows.append({"code": code, "n_segments": n_seg, "n_coders": n_cod,
                     "n_present": int((table == 1).sum()), **_stats_codes(table, binary)})
    codes_df = pd.DataFrame(rows, columns=cols)
    overall_rows = []
    if t.codes:
        big = t.pooled()
        overall_rows.append({"scope": "pooled", "n_segments": n_seg, "n_coders": n_cod,
                             "n_present": int((big == 1).sum()),
                             **_stats_codes(big, binary)})
    overall_rows.append({"scope": "assigned_codes", "n_segments": n_seg, "n_coders": n_cod,
                         "n_present": int((t.labels >= 0).sum()),
                         **_stats_codes(t.labels, t.label_values)})
    overall = pd.DataFrame(overall_rows, columns=["scope", *cols[1:]])
    return AgreementResult(codes=codes_df, overall=overall, coders=t.coders,
                           n_segments=n_seg)


# ------------------------------------------------------------- the report's tables
#: Codes applied to fewer double-coded segments than this are left out of the per-code
#: table (their kappa rests on one or two segments).
MIN_SEGMENTS = 3

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
        from instrval._jsonable import to_jsonable

        def jsonable(df: pd.DataFrame) -> Any:
            return to_jsonable(df, fallback=str)

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


def _kappa_interval(table: np.ndarray, values: list[Any],
                    confidence: float) -> tuple[float, float]:
    """The interval of Cohen's kappa on a segment x coder table (NaN when undefined)."""
    valid = table >= 0
    if table.shape[1] != 2 or len(np.unique(table[valid])) < 2 or not valid.all(axis=1).any():
        return float("nan"), float("nan")
    try:
        k = _cohen_codes(table, values, alpha=1 - confidence)
    except StatisticsError:  # pragma: no cover - guarded above
        return float("nan"), float("nan")
    return k.ci_low, k.ci_high


def agreement_summary(agreement: AgreementResult, coding: CodingData, *,
                      min_segments: int = MIN_SEGMENTS,
                      confidence: float = 0.95) -> AgreementSummary:
    """The overall and per-code agreement tables a report shows.

    *Overall*: ``pooled`` and ``assigned_codes`` (as :func:`coder_agreement`), with the
    interval of Cohen's kappa when there are two coders; *per code*: the codes applied to
    at least ``min_segments`` double-coded segments, weakest agreement first.

    The interval of Cohen's kappa is computed from the same segment x coder tables, as
    ``psych::cohen.kappa`` computes it (Fleiss, Cohen & Everitt 1969; normal-theory
    interval ``kappa -/+ z sqrt(var)``, clipped to [-1, 1]).

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
        ci_code = [_kappa_interval(tab, binary, confidence) for tab in t.code_tables]
        ci_pooled = (_kappa_interval(t.pooled(), binary, confidence) if t.codes
                     else (np.nan, np.nan))
        ci_labels = _kappa_interval(t.labels, t.label_values, confidence)
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
