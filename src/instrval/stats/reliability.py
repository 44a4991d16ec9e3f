"""Internal-consistency reliability: Cronbach's alpha, KR-20 and item statistics.

The statistics follow R's ``psych::alpha`` (Revelle, psych 2.2.9) formula by formula, so
that the deterministic numbers match it to rounding error (tested to 1e-6 against
``tests/fixtures/reliability.json``, written by ``tests/fixtures/r/reliability.R``).

With ``C`` the k x k item covariance matrix and ``R`` the correlation matrix:

* raw alpha        ``(1 - tr C / sum C) * k / (k - 1)``           (Cronbach 1951)
* standardized     ``(1 - k / sum R) * k / (k - 1)``
* Guttman's G6     ``1 - (k - sum smc) / sum R``, ``smc_i = 1 - 1 / (R^-1)_ii`` (Guttman 1945)
* average r        ``(sum R - k) / (k (k - 1))``
* r_drop           ``(sum C[, i] - C_ii) / sqrt(C_ii * sum C[-i, -i])`` (corrected item-total r)
* r_cor            ``colSums(R*)_i / sqrt(sum R*)`` where ``R*`` is ``R`` with the SMCs on the
  diagonal (item-total r corrected for item overlap and unreliability)
* Feldt interval   ``1 - (1 - alpha) * F_{1-p/2 | p/2}(n - 1, (n - 1)(k - 1))`` (Feldt,
  Woodruff & Salih 1987), ``p = 1 - confidence``.

Deliberate differences from psych (each also stated in :func:`cronbach_alpha`):

* An item with zero variance raises :class:`~instrval.errors.StatisticsError`; psych drops
  it with a warning but still counts it in the scale score.
* With two items, ``alpha_if_deleted`` is NaN (alpha of a single item is undefined); psych
  reports ``C12 / C22``.
* Items that correlate negatively with the scale (a negative loading on the first principal
  component of ``R``, oriented so that the loadings sum to a positive number, as
  ``psych::principal``) are named in ``AlphaResult.check_keys`` and in a
  :class:`~instrval.errors.DataQualityWarning` advising to reverse-key them (psych's
  ``check.keys`` advice). ``r_cor`` is NaN when ``sum R*`` is not positive (psych: NaN).
* The bootstrap resamples the reverse-keyed data; psych 2.2.9's bootstrap ignores ``keys``
  (it assigns the keyed matrix to an unused variable), so its bootstrap interval for a scale
  with reverse-keyed items is the interval of the unkeyed scale.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import fdtri as _fdtri

from instrval._jsonable import float_or_none
from instrval._result import Result
from instrval.errors import DataQualityWarning, StatisticsError
from instrval.stats._common import show_value
from instrval.stats._threads import single_threaded_blas

__all__ = [
    "AlphaResult",
    "cronbach_alpha",
    "kr20",
    "alpha_for_construct",
    "feldt_interval",
    "negatively_keyed",
    "MISSING_CHOICES",
    "CI_METHODS",
]

#: How incomplete rows are handled.
MISSING_CHOICES = ("pairwise", "listwise")
#: Which interval fills ``ci_low`` / ``ci_high``.
CI_METHODS = ("feldt", "bootstrap")

_ITEM_COLUMNS = [
    "item_id",
    "n",
    "alpha_if_deleted",
    "std_alpha_if_deleted",
    "g6_if_deleted",
    "average_r_if_deleted",
    "r_drop",
    "r_cor",
    "std_r",
    "mean",
    "sd",
]


@dataclass(frozen=True, repr=False)
class AlphaResult(Result):
    """Cronbach's alpha for one scale, with item statistics.

    Attributes
    ----------
    alpha, std_alpha, g6, average_r : float
        Raw alpha, standardized alpha, Guttman's lambda 6 (from SMCs) and the average
        inter-item correlation.
    n : int
        Rows used for the interval: all rows (``missing="pairwise"``, as psych) or the
        complete rows (``missing="listwise"``).
    k : int
        Number of items.
    ci_low, ci_high : float
        The interval named by ``ci_method`` at level ``confidence``.
    feldt_ci_low, feldt_ci_high : float
        The Feldt interval (always computed).
    boot_ci_low, boot_ci_high : float or None
        Bootstrap percentile interval (None unless ``n_boot > 0``).
    items : pandas.DataFrame
        One row per item: ``item_id``, ``n`` (non-missing values), ``alpha_if_deleted``,
        ``std_alpha_if_deleted``, ``g6_if_deleted``, ``average_r_if_deleted``, ``r_drop``,
        ``r_cor``, ``std_r``, ``mean``, ``sd`` (means and SDs of the reverse-keyed values).
    check_keys : tuple of str
        Items that correlate negatively with the scale as keyed (negative loading on the
        first principal component) and probably should be reverse-keyed; empty when every
        item points the same way.
    """

    alpha: float
    std_alpha: float
    g6: float
    average_r: float
    n: int
    k: int
    ci_low: float
    ci_high: float
    missing: str
    ci_method: str
    confidence: float
    feldt_ci_low: float
    feldt_ci_high: float
    items: pd.DataFrame = field(repr=False)
    reverse: tuple[str, ...] = ()
    scale_range: tuple[float, float] | None = None
    n_boot: int = 0
    seed: int | None = None
    boot_ci_low: float | None = None
    boot_ci_high: float | None = None
    check_keys: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The item table (a copy), one row per item."""
        return self.items.copy()

    def summary_frame(self) -> pd.DataFrame:
        """A one-row table of the scale-level statistics."""
        d = self.to_dict()
        d.pop("items")
        return pd.DataFrame([d])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: plain floats, NaN -> None.

        Keys: ``alpha``, ``std_alpha``, ``g6``, ``average_r``, ``n``, ``k``, ``ci_low``,
        ``ci_high``, ``missing``, ``ci_method``, ``items`` (list of per-item dicts with
        ``item_id``, ``alpha_if_deleted``, ``r_drop``, ``r_cor``, ``mean``, ``sd`` and the
        extra columns), plus ``confidence``, ``feldt_ci_low``, ``feldt_ci_high``,
        ``boot_ci_low``, ``boot_ci_high``, ``n_boot``, ``seed``, ``reverse``,
        ``check_keys``.
        """
        items = []
        for rec in self.items.to_dict(orient="records"):
            out: dict[str, Any] = {}
            for key, v in rec.items():
                if key == "item_id":
                    out[key] = str(v)
                elif key == "n":
                    out[key] = int(v)
                else:
                    out[key] = float_or_none(v)
            items.append(out)
        return {
            "alpha": float_or_none(self.alpha),
            "std_alpha": float_or_none(self.std_alpha),
            "g6": float_or_none(self.g6),
            "average_r": float_or_none(self.average_r),
            "n": int(self.n),
            "k": int(self.k),
            "ci_low": float_or_none(self.ci_low),
            "ci_high": float_or_none(self.ci_high),
            "missing": self.missing,
            "ci_method": self.ci_method,
            "confidence": float(self.confidence),
            "feldt_ci_low": float_or_none(self.feldt_ci_low),
            "feldt_ci_high": float_or_none(self.feldt_ci_high),
            "boot_ci_low": float_or_none(self.boot_ci_low),
            "boot_ci_high": float_or_none(self.boot_ci_high),
            "n_boot": int(self.n_boot),
            "seed": self.seed,
            "reverse": list(self.reverse),
            "check_keys": list(self.check_keys),
            "items": items,
        }


# ----------------------------------------------------------------------------- helpers
def _numeric_items(data: pd.DataFrame, items: Sequence[str] | None) -> pd.DataFrame:
    """Select the item columns and convert them to float, naming any bad column/value."""
    if isinstance(data, np.ndarray):
        data = pd.DataFrame(data, columns=[f"V{i + 1}" for i in range(data.shape[1])])
    if not isinstance(data, pd.DataFrame):
        raise StatisticsError(
            f"data must be a pandas DataFrame or a 2-d numpy array, got {type(data).__name__}"
        )
    items = [str(c) for c in data.columns] if items is None else [str(i) for i in items]
    dup = sorted({i for i in items if items.count(i) > 1})
    if dup:
        raise StatisticsError(f"items listed more than once: {', '.join(dup)}")
    cols = {str(c): c for c in data.columns}
    unknown = [i for i in items if i not in cols]
    if unknown:
        raise StatisticsError(
            f"unknown item column(s) {', '.join(map(repr, unknown))}; "
            f"the data has: {', '.join(map(str, cols)) or '(no columns)'}"
        )
    if len(items) < 2:
        raise StatisticsError(f"alpha needs at least 2 items, got {len(items)}: {items}")
    out = {}
    for i in items:
        s = data[cols[i]]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            out[i] = pd.to_numeric(s, errors="coerce").astype("float64")
        else:
            conv = pd.to_numeric(s, errors="coerce")
            bad = s[conv.isna() & s.notna()]
            bad = bad[bad.astype(str).str.strip() != ""]
            if len(bad):
                raise StatisticsError(
                    f"item {i!r} has non-numeric value {show_value(bad.iloc[0])} (row index "
                    f"{show_value(bad.index[0])}); item values must be numbers"
                )
            out[i] = conv.astype("float64")
    x = pd.DataFrame(out, index=data.index)
    x = x.where(np.isfinite(x.to_numpy()), np.nan) if len(x) else x
    return x


def _smc(R: np.ndarray) -> np.ndarray:
    """Squared multiple correlations, as psych::smc: ``1 - 1/diag(Pinv(R))``, clipped to [0, 1]."""
    u, d, vt = np.linalg.svd(R)
    tol = math.sqrt(np.finfo(float).eps)
    keep = d > max(tol * d[0], 0.0)
    inv = (vt[keep].T / d[keep]) @ u[:, keep].T
    smc = 1.0 - 1.0 / np.diag(inv)
    return np.clip(smc, 0.0, 1.0)


def _alpha_parts(C: np.ndarray) -> tuple[float, float, float, float]:
    """(raw alpha, std alpha, G6, average r) of a covariance matrix, as psych's alpha.1."""
    k = C.shape[0]
    sd = np.sqrt(np.diag(C))
    R = C / np.outer(sd, sd)
    sum_c = C.sum()
    sum_r = R.sum()
    raw = (1.0 - np.trace(C) / sum_c) * k / (k - 1)
    std = (1.0 - k / sum_r) * k / (k - 1)
    g6 = 1.0 - (k - _smc(R).sum()) / sum_r
    av_r = (sum_r - k) / (k * (k - 1))
    return float(raw), float(std), float(g6), float(av_r)


def feldt_interval(alpha: float, n: int, k: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Feldt, Woodruff & Salih (1987) confidence interval for Cronbach's alpha.

    ``low = 1 - (1 - alpha) * qF(1 - p/2; n - 1, (n - 1)(k - 1))`` and
    ``high = 1 - (1 - alpha) * qF(p/2; ...)`` with ``p = 1 - confidence``.

    R equivalent: ``psych::alpha.ci(alpha, n.obs = n, n.var = k, p.val = 1 - confidence)``.
    """
    _check_confidence(confidence)
    if n < 2 or k < 2:
        return float("nan"), float("nan")
    p = 1.0 - confidence
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1.0 - (1.0 - alpha) * _fdtri(df1, df2, 1.0 - p / 2.0)
    high = 1.0 - (1.0 - alpha) * _fdtri(df1, df2, p / 2.0)
    return float(low), float(high)


def _check_confidence(confidence: float) -> None:
    if not (isinstance(confidence, (int, float)) and 0.0 < float(confidence) < 1.0):
        raise StatisticsError(f"confidence must be a number between 0 and 1, got {confidence!r}")


@single_threaded_blas
def _boot_alphas(x: np.ndarray, n_boot: int, rng: np.random.Generator,
                 chunk: int = 250) -> np.ndarray:
    """Raw alpha for ``n_boot`` row resamples of ``x`` (n x k, NaN = missing), vectorised.

    Each resample is a vector of row counts ``w`` (a multinomial draw, equivalent to
    sampling rows with replacement). The pairwise covariance of a resample is built from
    weighted sums over rows observed on both items i and j:
    ``n_ij = sum w M_i M_j``, ``s_i(j) = sum w X_i M_j``, ``s_ij = sum w X_i X_j``, and
    ``c_ij = (s_ij - s_i(j) s_j(i) / n_ij) / (n_ij - 1)`` (R's ``cov(use = "pairwise")``).
    All resamples of a chunk are one matrix product ``W @ P`` with ``P`` the row-wise
    products of the upper triangle.
    """
    n, k = x.shape
    mask = ~np.isnan(x)
    # Centre each column (shift-invariant; keeps the one-pass sums well conditioned).
    centre = np.nanmean(x, axis=0)
    x0 = np.where(mask, x - centre, 0.0)
    iu, ju = np.triu_indices(k)
    complete = bool(mask.all())
    if complete:
        P = np.concatenate([x0[:, iu] * x0[:, ju], x0], axis=1)
    else:
        m = mask.astype(float)
        P = np.concatenate(
            [x0[:, iu] * x0[:, ju], x0[:, iu] * m[:, ju], m[:, iu] * x0[:, ju], m[:, iu] * m[:, ju]],
            axis=1,
        )
    npair = len(iu)
    diag_pos = np.flatnonzero(iu == ju)
    weight = np.where(iu == ju, 1.0, 2.0)  # off-diagonal pairs count twice in sum(C)
    out = np.empty(n_boot)
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        idx = rng.integers(0, n, size=(b, n))
        idx += (np.arange(b) * n)[:, None]
        W = np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(float)
        S = W @ P
        if complete:
            sxy = S[:, :npair]
            sx = S[:, npair:]
            cov = (sxy - sx[:, iu] * sx[:, ju] / n) / (n - 1)
        else:
            sxy = S[:, :npair]
            sxi = S[:, npair:2 * npair]
            sxj = S[:, 2 * npair:3 * npair]
            nij = S[:, 3 * npair:]
            with np.errstate(divide="ignore", invalid="ignore"):
                cov = (sxy - sxi * sxj / nij) / (nij - 1)
        tr = cov[:, diag_pos].sum(axis=1)
        tot = (cov * weight).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[done:done + b] = (1.0 - tr / tot) * k / (k - 1)
        done += b
    return out


# ----------------------------------------------------------------------------- public API
@single_threaded_blas
def cronbach_alpha(
    data: pd.DataFrame,
    *,
    items: Sequence[str] | None = None,
    reverse: Iterable[str] | None = None,
    scale_range: tuple[float, float] | None = None,
    missing: str = "pairwise",
    ci_method: str = "feldt",
    n_boot: int = 0,
    seed: int | None = None,
    confidence: float = 0.95,
) -> AlphaResult:
    """Cronbach's alpha with standardized alpha, Guttman's lambda 6 and item statistics.

    ``alpha = k/(k-1) * (1 - tr(C) / sum(C))`` with ``C`` the item covariance matrix
    (Cronbach 1951). See the module docstring for every other formula.

    Parameters
    ----------
    data : DataFrame
        One row per respondent, one numeric column per item (NaN = missing).
    items : sequence of str, optional
        The item columns (default: all columns).
    reverse : iterable of str, optional
        Reverse-keyed items, recoded ``x' = max + min - x`` before anything is computed.
    scale_range : (min, max), optional
        The response scale used for reverse keying. Default: the smallest and largest
        value found in the item columns (as psych).
    missing : {"pairwise", "listwise"}
        ``"pairwise"`` (psych's default): covariances from pairwise-complete rows, item
        means/SDs from all non-missing values, and ``n`` = all rows, including incomplete
        ones, for the Feldt interval. ``"listwise"``: incomplete rows are dropped first and
        ``n`` is the number of complete rows (pingouin's listwise interval wrongly uses the
        row count before dropping).
    ci_method : {"feldt", "bootstrap"}
        Which interval fills ``ci_low``/``ci_high``. ``"bootstrap"`` needs ``n_boot > 0``.
    n_boot : int
        Number of bootstrap resamples of rows (0 = none). The percentile interval of the
        raw alpha is reported as ``boot_ci_low``/``boot_ci_high``.
    seed : int, optional
        Seed of the bootstrap's random generator (``numpy.random.default_rng(seed)``).
    confidence : float
        Interval level (default 0.95).

    Returns
    -------
    AlphaResult

    Raises
    ------
    StatisticsError
        Unknown items, fewer than 2 items, non-numeric values, a constant item, no
        complete rows, bad options.

    Notes
    -----
    R equivalent: ``psych::alpha(x, keys = c("A1"))`` (pairwise) and
    ``psych::alpha(na.omit(x), keys = ...)`` (listwise); ``$total``, ``$alpha.drop``,
    ``$item.stats`` and ``$feldt``. Deliberate differences: a constant item raises an
    error (psych drops it); with 2 items ``alpha_if_deleted`` is NaN (psych: C12/C22);
    the bootstrap resamples the reverse-keyed data (psych 2.2.9 ignores the keys there).
    psych's bootstrap uses R's random numbers, so bootstrap intervals agree with psych only
    in distribution.

    References
    ----------
    Cronbach LJ (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika 16, 297-334. Guttman L (1945). A basis for analyzing test-retest
    reliability. Psychometrika 10, 255-282. Feldt LS, Woodruff DJ, Salih FA (1987).
    Statistical inference for coefficient alpha. Applied Psychological Measurement 11,
    93-103. Revelle W. psych: ``alpha``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    >>> res = cronbach_alpha(df)
    >>> round(res.alpha, 4)
    0.9538
    """
    if missing not in MISSING_CHOICES:
        raise StatisticsError(
            f"missing must be one of {', '.join(MISSING_CHOICES)}; got {missing!r}"
        )
    if ci_method not in CI_METHODS:
        raise StatisticsError(f"ci_method must be one of {', '.join(CI_METHODS)}; got {ci_method!r}")
    _check_confidence(confidence)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise StatisticsError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if ci_method == "bootstrap" and n_boot == 0:
        raise StatisticsError("ci_method='bootstrap' needs n_boot > 0 (e.g. n_boot=2000)")

    x = _numeric_items(data, items)
    item_ids = list(x.columns)
    rev = [str(r) for r in (reverse or [])]
    bad_rev = [r for r in rev if r not in item_ids]
    if bad_rev:
        raise StatisticsError(
            f"reverse-keyed item(s) {', '.join(map(repr, bad_rev))} are not among the items "
            f"{', '.join(item_ids)}"
        )
    if missing == "listwise":
        x = x.dropna(how="any")
    n = int(len(x))
    k = len(item_ids)
    if n == 0 or x.notna().sum().min() == 0:
        raise StatisticsError(
            "no rows left to compute alpha from"
            + (" after dropping incomplete rows (missing='listwise')" if missing == "listwise" else "")
        )
    if scale_range is None:
        lo, hi = float(np.nanmin(x.to_numpy())), float(np.nanmax(x.to_numpy()))
    else:
        try:
            lo, hi = (float(v) for v in scale_range)
        except (TypeError, ValueError):
            raise StatisticsError(
                f"scale_range must be a (min, max) pair of numbers, got {scale_range!r}"
            ) from None
        if not lo < hi:
            raise StatisticsError(f"scale_range must have min < max, got {scale_range!r}")
    if rev:
        x[rev] = (hi + lo) - x[rev]

    arr = x.to_numpy()
    C = x.cov().to_numpy()  # pairwise-complete, ddof = 1 (R's cov(use="pairwise"))
    var = np.diag(C)
    bad = [item_ids[i] for i in range(k) if not (np.isfinite(var[i]) and var[i] > 0)]
    if bad:
        raise StatisticsError(
            f"item(s) {', '.join(bad)} have zero variance (or fewer than 2 values) and "
            "cannot enter alpha; remove them from the items"
        )
    if not np.isfinite(C).all():
        i, j = np.argwhere(~np.isfinite(C))[0]
        raise StatisticsError(
            f"items {item_ids[i]!r} and {item_ids[j]!r} have fewer than 2 rows answered in "
            "common, so their covariance is undefined"
        )

    raw, std, g6, av_r = _alpha_parts(C)
    sd = np.sqrt(var)
    R = C / np.outer(sd, sd)
    smc = _smc(R)
    RC = R.copy()
    np.fill_diagonal(RC, smc)
    # psych: sqrt of a non-positive total gives NaN (items pointing opposite ways)
    rc_total, r_total = float(RC.sum()), float(R.sum())
    r_cor = (RC.sum(axis=0) / math.sqrt(rc_total) if rc_total > 0
             else np.full(k, np.nan))
    std_r = (R.sum(axis=0) / math.sqrt(r_total) if r_total > 0 else np.full(k, np.nan))
    r_drop = np.empty(k)
    drops = np.full((k, 4), np.nan)
    for i in range(k):
        keep = [j for j in range(k) if j != i]
        sub = C[np.ix_(keep, keep)]
        rest = float(sub.sum())
        r_drop[i] = ((C[:, i].sum() - C[i, i]) / math.sqrt(C[i, i] * rest) if rest > 0
                     else np.nan)
        if k > 2:
            drops[i] = _alpha_parts(sub)

    items_df = pd.DataFrame(
        {
            "item_id": item_ids,
            "n": x.notna().sum().to_numpy().astype(int),
            "alpha_if_deleted": drops[:, 0],
            "std_alpha_if_deleted": drops[:, 1],
            "g6_if_deleted": drops[:, 2],
            "average_r_if_deleted": drops[:, 3],
            "r_drop": r_drop,
            "r_cor": r_cor,
            "std_r": std_r,
            "mean": np.nanmean(arr, axis=0),
            "sd": x.std(ddof=1).to_numpy(),
        },
        columns=_ITEM_COLUMNS,
    )

    check = negatively_keyed(R, item_ids)
    if check:
        warnings.warn(
            f"item(s) {', '.join(check)} correlate negatively with the total scale and "
            "probably should be reversed: give them as reverse-keyed items (reverse=, or "
            "'reverse: true' in the instrument; psych: check.keys=TRUE)"
            + (f"; alpha is {raw:.3f}" if raw < 0 else ""),
            DataQualityWarning, stacklevel=2)
    f_low, f_high = feldt_interval(raw, n, k, confidence=confidence)
    b_low = b_high = None
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        boots = _boot_alphas(arr, int(n_boot), rng)
        boots = boots[np.isfinite(boots)]
        if len(boots) == 0:
            raise StatisticsError("no bootstrap resample gave a finite alpha")
        p = 1.0 - confidence
        b_low, b_high = (float(v) for v in np.quantile(boots, [p / 2.0, 1.0 - p / 2.0]))
    if ci_method == "bootstrap":
        assert b_low is not None and b_high is not None  # n_boot > 0 checked above
        ci_low, ci_high = b_low, b_high
    else:
        ci_low, ci_high = f_low, f_high

    return AlphaResult(
        alpha=raw,
        std_alpha=std,
        g6=g6,
        average_r=av_r,
        n=n,
        k=k,
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        missing=missing,
        ci_method=ci_method,
        confidence=float(confidence),
        feldt_ci_low=f_low,
        feldt_ci_high=f_high,
        items=items_df,
        reverse=tuple(rev),
        scale_range=(lo, hi),
        n_boot=int(n_boot),
        seed=seed,
        boot_ci_low=b_low,
        boot_ci_high=b_high,
        check_keys=tuple(check),
    )


def negatively_keyed(R: np.ndarray, item_ids: Sequence[str]) -> list[str]:
    """Items whose loading on the first principal component of ``R`` is negative.

    The component is oriented so that its loadings sum to a positive number (as
    ``psych::principal``); when they sum to zero (two items of opposite sign) the last item
    is taken as positive. These are the items ``psych::alpha`` names as "negatively
    correlated with the total scale" (its ``check.keys`` advice).

    >>> negatively_keyed(np.array([[1.0, -0.4], [-0.4, 1.0]]), ["a", "b"])
    ['a']
    """
    R = np.asarray(R, dtype=float)
    if R.shape[0] < 2 or not np.isfinite(R).all():
        return []
    vals, vecs = np.linalg.eigh(R)
    v = vecs[:, int(np.argmax(vals))] * math.sqrt(max(float(vals.max()), 0.0))
    total = float(v.sum())
    if abs(total) < 1e-12 * max(1.0, float(np.abs(v).sum())):
        nz = np.flatnonzero(np.abs(v) > 1e-12)
        sign = 1.0 if nz.size == 0 or v[nz[-1]] > 0 else -1.0
    else:
        sign = 1.0 if total > 0 else -1.0
    v = v * sign
    return [str(item_ids[i]) for i in range(len(v)) if v[i] < -1e-12]


def kr20(data: pd.DataFrame, *, items: Sequence[str] | None = None, **kw: Any) -> AlphaResult:
    """Kuder-Richardson formula 20 for binary (0/1) items.

    ``KR-20 = k/(k-1) * (1 - sum p_i q_i / var(total))`` (Kuder & Richardson 1937). With the
    same variance divisor in numerator and denominator it is identical to Cronbach's alpha
    on 0/1 data, so this checks that every value is 0 or 1 and returns
    :func:`cronbach_alpha` (all keyword options pass through).

    R equivalent: ``psych::alpha(x)$total$raw_alpha`` on 0/1 items.

    Raises
    ------
    StatisticsError
        When an item holds a value other than 0, 1 or missing.
    """
    x = _numeric_items(data, items)
    for col in x.columns:
        vals = x[col].dropna()
        bad = vals[~vals.isin([0.0, 1.0])]
        if len(bad):
            raise StatisticsError(
                f"KR-20 needs binary items coded 0/1; item {col!r} has value {show_value(bad.iloc[0])}"
            )
    return cronbach_alpha(x, **kw)


def alpha_for_construct(data: pd.DataFrame, instrument: Any, construct_id: str,
                        **kw: Any) -> AlphaResult:
    """Cronbach's alpha of one construct of an :class:`~instrval.model.instrument.Instrument`.

    The items, the reverse keys (``item.reverse``) and the scale range used for reverse
    keying (``instrument.scale_of(construct)``; 0/1 for binary constructs) come from the
    instrument. Other keyword options pass to :func:`cronbach_alpha`; ``reverse`` and
    ``scale_range`` given here override the instrument's.

    Raises
    ------
    StatisticsError
        Unknown construct, or a construct that is not ``likert`` or ``binary``.
    """
    c = instrument.find_construct(construct_id)
    if c.kind not in ("likert", "binary"):
        raise StatisticsError(
            f"construct {construct_id!r} is {c.kind!r}; alpha needs a likert or binary construct"
        )
    if "items" in kw:
        raise StatisticsError("alpha_for_construct takes the items from the instrument; drop items=")
    kw.setdefault("reverse", [it.id for it in c.items if it.reverse])
    if "scale_range" not in kw:
        if c.kind == "binary":
            kw["scale_range"] = (0, 1)
        else:
            sc = instrument.scale_of(c)
            kw["scale_range"] = (sc.min, sc.max) if sc is not None else None
    return cronbach_alpha(data, items=list(c.item_ids), **kw)
