"""Test-retest reliability and measurement error of scale scores.

From two administrations to the same (stable) respondents, per scale score:

* The two-way ANOVA of the n respondents x 2 occasions table (:func:`~instrval.stats.icc.icc`)
  gives the variance components (de Vet et al. 2006) ``var_subject = (MSB - MSE) / 2``,
  ``var_time = (MSJ - MSE) / n`` (systematic change between occasions) and
  ``var_error = MSE``; a negative component is set to 0.
* ICC(A,1) = ``var_subject / (var_subject + var_time + var_error)`` (Shrout & Fleiss ICC2,
  McGraw & Wong's absolute agreement) with its F-based interval; ICC(C,1) (ICC3) beside it.
* Standard error of measurement ``SEM_agreement = sqrt(var_time + var_error)`` and
  ``SEM_consistency = sqrt(var_error)``.
* Smallest detectable change ``SDC_ind = z * sqrt(2) * SEM_agreement`` (z = 1.96 at 95%)
  for an individual and ``SDC_group = SDC_ind / sqrt(n)`` for a group mean.
* Bland & Altman (1986): differences ``d = second - first``, mean ``d_bar``, SD ``s_d``;
  limits of agreement ``d_bar +- z s_d``; the interval of ``d_bar`` is
  ``d_bar +- t(n-1) s_d / sqrt(n)`` and that of each limit ``LoA +- t(n-1) sqrt(3 s_d^2 / n)``.
* When a minimal important change (MIC) is given, the COSMIN criterion (Prinsen et al. 2018)
  compares: sufficient when ``SDC_ind < MIC``. ``mic="half_sd"`` takes half the standard
  deviation of the first administration (Norman, Sloan & Wyrwich 2003), a
  distribution-based value that should be named as such.

References: de Vet HCW, Terwee CB, Knol DL, Bouter LM (2006) When to use agreement versus
reliability measures. J Clin Epidemiol 59, 1033-1039. Bland JM, Altman DG (1986)
Statistical methods for assessing agreement between two methods of clinical measurement.
Lancet i, 307-310. R: ``psych::ICC(wide)`` (``$lme`` variance components with
``lmer = TRUE``), ``t.test(second - first)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from instrval._jsonable import float_or_none
from instrval._result import Result
from instrval.errors import StatisticsError
from instrval.stats._dist import norm_ppf, t_ppf
from instrval.stats.icc import icc as _icc
from instrval.stats.scoring import score_items

__all__ = ["RetestResult", "retest"]


@dataclass(frozen=True, repr=False)
class RetestResult(Result):
    """Test-retest statistics, one row per scale (see :func:`retest`).

    Attributes
    ----------
    table : DataFrame
        ``scale``, ``n``, ``mean_first``, ``mean_second``, ``sd_first``, ``var_subject``,
        ``var_time``, ``var_error``, ``icc_agreement``, ``icc_agreement_ci_low``,
        ``icc_agreement_ci_high``, ``icc_consistency``, ``sem_agreement``,
        ``sem_consistency``, ``sdc_individual``, ``sdc_group``, ``mean_diff``,
        ``mean_diff_ci_low``, ``mean_diff_ci_high``, ``sd_diff``, ``loa_low``,
        ``loa_low_ci_low``, ``loa_low_ci_high``, ``loa_high``, ``loa_high_ci_low``,
        ``loa_high_ci_high``, ``mic``, ``sdc_below_mic``.
    times : tuple
        The first and second occasion.
    confidence : float
    respondents_dropped : tuple
        Respondents without a score on both occasions.
    mic_source : str or None
        How the MIC was set.
    score_rule : str or None
        How scale scores were computed from the items.
    """

    table: pd.DataFrame
    times: tuple[Any, Any]
    confidence: float
    respondents_dropped: tuple[Any, ...] = ()
    mic_source: str | None = None
    score_rule: str | None = None
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for rec in self.table.to_dict(orient="records"):
            rows.append({k: (int(v) if k == "n" else v if isinstance(v, (str, bool))
                             or v is None else float_or_none(v)) for k, v in rec.items()})
        return {"scales": rows, "times": [str(t) for t in self.times],
                "confidence": self.confidence, "mic_source": self.mic_source,
                "score_rule": self.score_rule,
                "respondents_dropped": [str(r) for r in self.respondents_dropped]}


def retest(data: pd.DataFrame, *, id: str, time: str, score: str | Sequence[str] | None = None,
           instrument: Any = None, keys: Mapping[str, Sequence[str]] | None = None,
           constructs: Sequence[str] | None = None, method: str = "mean",
           impute: str = "none", min_items: float = 0.5,
           times: Sequence[Any] | None = None, confidence: float = 0.95,
           mic: float | str | Mapping[str, float] | None = None) -> RetestResult:
    """Test-retest reliability (ICC agreement), SEM, SDC and Bland-Altman limits.

    Parameters
    ----------
    data : DataFrame
        Long form: one row per respondent and occasion, with the ``id`` and ``time``
        columns and either score columns or the items.
    id, time : str
        Respondent and occasion columns.
    score : str or list of str, optional
        Column(s) holding scale scores. Otherwise scores are computed from the items with
        :func:`~instrval.stats.scoring.score_items` (``instrument`` or ``keys``,
        ``method``, ``impute``, ``min_items``).
    times : two values, optional
        The occasions to compare (default: the first two, sorted).
    confidence : float
        Level of the intervals, and of ``z`` in the SDC and the limits of agreement.
    mic : float, "half_sd" or mapping of scale to float, optional
        Minimal important change; with it each scale gets ``sdc_below_mic``.

    Returns
    -------
    RetestResult

    Notes
    -----
    Formulas: see the module docstring. R equivalent: ``psych::ICC(cbind(first, second))``
    for the ICCs and (``lmer = TRUE``) the variance components ``$lme``; ``t.test(second -
    first)`` for the mean difference.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"id": [1, 1, 2, 2, 3, 3, 4, 4], "t": [1, 2] * 4,
    ...                   "s": [10, 11, 14, 13, 8, 9, 12, 14]})
    >>> r = retest(d, id="id", time="t", score="s")
    >>> round(float(r.table["sem_agreement"].iloc[0]), 4)
    0.9354
    """
    if not isinstance(data, pd.DataFrame):
        raise StatisticsError(f"retest needs a pandas DataFrame, got {type(data).__name__}")
    if not (isinstance(confidence, (int, float)) and 0 < confidence < 1):
        raise StatisticsError(f"confidence must be between 0 and 1, got {confidence!r}")
    for c in (id, time):
        if c not in data.columns:
            raise StatisticsError(f"column {c!r} not found; the data has: "
                                  f"{', '.join(map(str, data.columns))}")
    d = data[data[id].notna() & data[time].notna()]
    rule = None
    if score is not None:
        cols = [score] if isinstance(score, str) else list(score)
        miss = [c for c in cols if c not in d.columns]
        if miss:
            raise StatisticsError(f"score column(s) {', '.join(map(repr, miss))} not found")
        scores = d[cols].apply(pd.to_numeric, errors="coerce")
    else:
        if instrument is None and keys is None:
            raise StatisticsError("retest needs score= columns, or instrument= or keys= to "
                                  "score the items")
        sr = score_items(d, instrument=instrument, keys=keys, constructs=constructs,
                         method=method, impute=impute, min_items=min_items)
        scores, rule = sr.scores, sr.rule
    occ = sorted(d[time].unique().tolist()) if times is None else list(times)
    if len(occ) < 2:
        raise StatisticsError(f"column {time!r} has {len(occ)} occasion(s); the retest needs two")
    t1, t2 = occ[0], occ[1]
    for t in (t1, t2):
        if not (d[time] == t).any():
            raise StatisticsError(f"occasion {t!r} is not in column {time!r}")
    dup = d[d[time].isin([t1, t2])].duplicated(subset=[id, time], keep=False)
    if dup.any():
        row = d[d[time].isin([t1, t2])][dup].iloc[0]
        raise StatisticsError(f"respondent {row[id]!r} has more than one row at occasion "
                              f"{row[time]!r}")
    z = float(norm_ppf(0.5 + confidence / 2))
    rows = []
    dropped: set[Any] = set()
    pairs_out = []
    for s in scores.columns:
        long = pd.DataFrame({"id": d[id].to_numpy(), "time": d[time].to_numpy(),
                             "score": scores[s].to_numpy()})
        long = long[long["time"].isin([t1, t2])]
        wide = long.pivot(index="id", columns="time", values="score")
        wide = wide.reindex(columns=[t1, t2])
        incomplete = wide.isna().any(axis=1)
        dropped.update(wide.index[incomplete].tolist())
        w = wide[~incomplete].astype(float)
        n = len(w)
        if n < 3:
            raise StatisticsError(f"scale {s!r}: {n} respondent(s) have a score on both "
                                  "occasions; the retest needs at least 3")
        res = _icc(w.set_axis(["first", "second"], axis=1), confidence=confidence)
        a = res.anova
        var_s = max((a["msb"] - a["mse"]) / 2.0, 0.0)
        var_t = max((a["msj"] - a["mse"]) / n, 0.0)
        var_e = a["mse"]
        sem_a = float(np.sqrt(var_t + var_e))
        sem_c = float(np.sqrt(var_e))
        sdc = z * np.sqrt(2.0) * sem_a
        diff = (w[t2] - w[t1]).to_numpy()
        md, sd = float(diff.mean()), float(diff.std(ddof=1))
        tq = float(t_ppf(0.5 + confidence / 2, n - 1))
        se_m, se_l = sd / np.sqrt(n), np.sqrt(3.0 * sd**2 / n)
        lo, hi = md - z * sd, md + z * sd
        t = res.table.set_index("type")
        mic_v, mic_src = _mic(mic, s, w[t1])
        rows.append({
            "scale": str(s), "n": n, "mean_first": float(w[t1].mean()),
            "mean_second": float(w[t2].mean()), "sd_first": float(w[t1].std(ddof=1)),
            "var_subject": var_s, "var_time": var_t, "var_error": var_e,
            "icc_agreement": float(t.loc["ICC2", "icc"]),
            "icc_agreement_ci_low": float(t.loc["ICC2", "ci_low"]),
            "icc_agreement_ci_high": float(t.loc["ICC2", "ci_high"]),
            "icc_consistency": float(t.loc["ICC3", "icc"]),
            "sem_agreement": sem_a, "sem_consistency": sem_c,
            "sdc_individual": float(sdc), "sdc_group": float(sdc / np.sqrt(n)),
            "mean_diff": md, "mean_diff_ci_low": md - tq * se_m,
            "mean_diff_ci_high": md + tq * se_m, "sd_diff": sd,
            "loa_low": lo, "loa_low_ci_low": lo - tq * se_l, "loa_low_ci_high": lo + tq * se_l,
            "loa_high": hi, "loa_high_ci_low": hi - tq * se_l,
            "loa_high_ci_high": hi + tq * se_l,
            "mic": mic_v, "sdc_below_mic": None if mic_v is None else bool(sdc < mic_v),
        })
        pairs_out.append(pd.DataFrame({"scale": str(s), "id": w.index, "first": w[t1].to_numpy(),
                                       "second": w[t2].to_numpy()}))
    mic_source = None
    if mic is not None:
        mic_source = ("half the SD of the first administration (Norman et al. 2003)"
                      if mic == "half_sd" else "given")
    return RetestResult(table=pd.DataFrame(rows), times=(t1, t2), confidence=float(confidence),
                        respondents_dropped=tuple(sorted(dropped, key=str)),
                        mic_source=mic_source, score_rule=rule,
                        pairs=pd.concat(pairs_out, ignore_index=True))


def _mic(mic: Any, scale: Any, first: pd.Series) -> tuple[float | None, str | None]:
    if mic is None:
        return None, None
    if mic == "half_sd":
        return float(0.5 * first.std(ddof=1)), "half_sd"
    if isinstance(mic, Mapping):
        v = mic.get(str(scale))
        return (None, None) if v is None else (float(v), "given")
    if isinstance(mic, (int, float)) and not isinstance(mic, bool) and mic > 0:
        return float(mic), "given"
    raise StatisticsError(f"mic must be a positive number, 'half_sd' or a mapping of scale "
                          f"to number; got {mic!r}")
