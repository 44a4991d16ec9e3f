r"""Multi-group measurement invariance by maximum likelihood, as lavaan's ``group.equal``.

Four nested models are fitted to the same groups (lavaan ``cfa(model, group = ...)``, marker
identification, mean structure):

=============  ==========================================  ======================
level          equal across groups                         lavaan ``group.equal``
=============  ==========================================  ======================
configural     nothing (same pattern)                      ``""``
metric         loadings                                    ``"loadings"``
scalar         loadings, intercepts (factor means free     ``c("loadings",
               beyond the first group)                     "intercepts")``
strict         loadings, intercepts, residual variances    ``+ "residuals"``
=============  ==========================================  ======================

Each level is compared with the one before: :math:`\Delta\chi^2 = \chi^2_{k} - \chi^2_{k-1}`
on :math:`\Delta df` degrees of freedom (the likelihood-ratio test of ``lavTestLRT``),
:math:`\Delta CFI = CFI_k - CFI_{k-1}`, :math:`\Delta RMSEA = RMSEA_k - RMSEA_{k-1}`.

``holds`` (the default criteria, changeable with ``criteria=``):

* configural: CFI :math:`\ge .90` and RMSEA :math:`\le .08` (acceptable fit; Hu & Bentler,
  1999; Marsh, Hau & Wen, 2004);
* metric, scalar, strict: :math:`\Delta CFI \ge -.010` (Cheung & Rensvold, 2002; Chen,
  2007) and :math:`\Delta RMSEA \le .015` (Chen, 2007), and the level before holds.

Partial invariance.  Named parameters can be left free of the constraints
(``group_partial``, lavaan's ``group.partial``, e.g. ``"x3~1"``).  For each constrained
level, every equality constraint (a parameter of group :math:`g` equal to that of the first
group) gets the univariate score (Lagrange multiplier) test of releasing it, as lavaan's
``lavTestScore(fit)$uni``:

.. math:: X^2 = \frac{N}{2}\, u^\top \mathcal I^{-1} u

on 1 df, where :math:`u` is the gradient of :math:`F_{ML}` and :math:`\mathcal I` its expected
information in the parameterization with the constraint released, both at the constrained
estimates (only the released parameter and its former partner have a nonzero gradient).
The largest values are the constraints whose release most improves fit.

References
----------
Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement invariance.
Structural Equation Modeling, 14, 464-504.
Cheung, G. W., & Rensvold, R. B. (2002). Evaluating goodness-of-fit indexes for testing
measurement invariance. Structural Equation Modeling, 9, 233-255.
Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
Psychometrika, 58, 525-543.
Byrne, B. M., Shavelson, R. J., & Muthén, B. (1989). Testing for the equivalence of factor
covariance and mean structures: the issue of partial measurement invariance. Psychological
Bulletin, 105, 456-466.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from instrval._jsonable import to_jsonable
from instrval._result import Result
from instrval.errors import Problem, StatisticsError
from instrval.stats._dist import chi2_sf
from instrval.stats.sem.common import model_data, parse_factor_mapping, single_threaded_blas
from instrval.stats.sem.ml import (
    Engine,
    GroupData,
    MLSolution,
    fit_ml,
    group_data,
    group_data_missing,
)
from instrval.stats.sem.partable import (
    ParTable,
    build_partable,
    factor_syntax,
    parameter_name,
    parse_parameter_name,
)
from instrval.stats.sem.robust import mlr
from instrval.stats.sem.syntax import looks_like_syntax

__all__ = ["DEFAULT_CRITERIA", "LEVELS", "InvarianceResult", "measurement_invariance",
           "score_tests"]

#: The levels and the parameter classes each makes equal (lavaan ``group.equal``).
LEVELS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
})
#: The class of parameters each level adds.
_ADDED = {"metric": "loadings", "scalar": "intercepts", "strict": "residuals"}

#: Default decision criteria (see the module docstring for their sources).
DEFAULT_CRITERIA: Mapping[str, float] = MappingProxyType({
    "configural_cfi_min": 0.90,
    "configural_rmsea_max": 0.08,
    "delta_cfi_min": -0.010,
    "delta_rmsea_max": 0.015,
})
#: The levels for ordered items (WLSMV): lavaan's ``group.equal`` with thresholds.
WLSMV_LEVELS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "configural": (),
    "scalar": ("loadings", "thresholds"),
})
#: The Wu & Estabrook (2016) sequence (semTools ``measEq.syntax(ID.fac = "std.lv",
#: ID.cat = "Wu.Estabrook.2016")``).
WU_ESTABROOK_LEVELS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "configural": (),
    "thresholds": ("thresholds",),
    "metric": ("thresholds", "loadings"),
})
IDENTIFICATIONS = ("lavaan", "wu.estabrook")
ESTIMATORS = ("ml", "mlr", "wlsmv")
MISSING = ("listwise", "ml")
LEVEL_COLUMNS = ("level", "chi2", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "delta_chi2",
                 "delta_df", "delta_pvalue", "delta_cfi", "delta_rmsea", "holds")


@dataclass(frozen=True, repr=False)
class InvarianceResult(Result):
    """Measurement invariance across groups.

    Attributes
    ----------
    groups : mapping
        Group label -> rows used, in order of first appearance (the first is the reference).
    estimator : str
    levels : DataFrame
        One row per level: ``level``, ``chi2``, ``df``, ``pvalue``, ``cfi``, ``tli``,
        ``rmsea``, ``srmr``, ``delta_chi2``, ``delta_df``, ``delta_pvalue``, ``delta_cfi``,
        ``delta_rmsea`` (NaN for configural), ``holds``.
    partial : DataFrame
        The parameters freed by ``group_partial`` (``freed`` True) and, for each constrained
        level, the score test of releasing each equality constraint (``level``,
        ``parameter``, ``group``, ``chi2``, ``df``, ``pvalue``), largest first.
    fits : mapping
        Level -> the fitted :class:`~instrval.stats.sem.ml.MLSolution` (WLSMV:
        :class:`~instrval.stats.sem.wlsmv.WLSMVSolution`), with the parameter table (a
        ``group`` column) in ``fits[level].parameters``.
    criteria : mapping
        The decision criteria used.
    """

    groups: Mapping[str, int]
    estimator: str
    levels: pd.DataFrame
    partial: pd.DataFrame
    fits: Mapping[str, Any] = field(repr=False)
    criteria: Mapping[str, float]
    group_partial: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """The levels table."""
        return self.levels.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``groups``, ``estimator``, ``levels`` (records), ``partial`` (records)."""
        return {
            "groups": {str(k): int(v) for k, v in self.groups.items()},
            "estimator": self.estimator,
            "levels": to_jsonable(self.levels),
            "partial": to_jsonable(self.partial),
        }

    def __repr__(self) -> str:
        held = [r.level for r in self.levels.itertuples() if r.holds]
        return (f"InvarianceResult(groups={dict(self.groups)}, estimator={self.estimator!r}, "
                f"holds={held})")


def _model_syntax(model: Any) -> str:
    if isinstance(model, str):
        if not looks_like_syntax(model):
            raise StatisticsError("the model text is not lavaan syntax (no '=~')")
        return model
    return factor_syntax(parse_factor_mapping(model))


def _label(v: Any) -> str:
    """A group label: integral numbers without a trailing ``.0``."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _split_groups(data: pd.DataFrame, group: str, items: list[str], missing: str = "listwise"
                  ) -> tuple[list[GroupData], int]:
    if group not in data.columns:
        raise StatisticsError(f"the group column {group!r} is not in the data "
                              f"(columns: {', '.join(map(str, data.columns))})",
                              [Problem("missing_column", "no such column", column=group)])
    labels = data[group]
    keep = (labels.notna() & (labels.astype(str).str.strip() != "")).to_numpy()
    _, x = model_data(data, {"model": items}, "measurement_invariance")
    if missing == "ml":
        complete = keep & ~np.isnan(x).all(axis=1)
    else:
        complete = keep & ~np.isnan(x).any(axis=1)
    lab = labels.map(_label).to_numpy()
    order = list(dict.fromkeys(lab[complete]))
    if len(order) < 2:
        raise StatisticsError(f"the group column {group!r} has {len(order)} group(s) with "
                              "complete rows; invariance needs at least 2")
    make = group_data_missing if missing == "ml" else group_data
    out = [make(x[complete & (lab == g)], g, items) for g in order]
    return out, int((~complete).sum())


def measurement_invariance(data: pd.DataFrame, model: Any, *, group: str,
                           estimator: str = "ml", missing: str = "listwise",
                           group_partial: Sequence[str] = (),
                           criteria: Mapping[str, float] | None = None,
                           levels: Sequence[str] = tuple(LEVELS),
                           identification: str = "lavaan") -> InvarianceResult:
    r"""Configural, metric, scalar and strict invariance of a factor model across groups.

    Parameters
    ----------
    data : DataFrame
        The items and the group column.  Rows with a missing group or a missing answer to a
        model item are dropped (listwise, lavaan's default).
    model : str, mapping or Instrument
        lavaan syntax, ``{factor: [items]}`` or an instrument (its likert/binary constructs).
    group : str
        The column holding the groups (the first group met is the reference group).
    estimator : {"ml", "mlr", "wlsmv"}
        ``"ml"``: maximum likelihood (lavaan ``estimator = "ML"``).  ``"mlr"``: robust ML
        (lavaan ``estimator = "MLR"``): the levels report the Yuan-Bentler scaled
        :math:`\chi^2` and the scaled CFI, TLI and RMSEA, and ``delta_chi2`` is the scaled
        difference of Satorra & Bentler (2001), lavaan ``lavTestLRT``'s default for MLR:
        :math:`\Delta T = (T_k - T_{k-1})/c_d` with
        :math:`c_d = (df_k c_k - df_{k-1}c_{k-1})/(df_k - df_{k-1})` (unscaled :math:`T`,
        scaling factors :math:`c`).  ``"wlsmv"``: the items are ordered categories (Likert or
        binary; lavaan ``ordered = TRUE, estimator = "WLSMV"``, delta parameterization, see
        :mod:`instrval.stats.sem.wlsmv`): the levels are ``configural`` and ``scalar``
        (equal loadings and thresholds, lavaan's ``group.equal = c("loadings",
        "thresholds")`` with the latent means and scaling factors free beyond the first
        group); each reports the scaled and shifted :math:`\chi^2` and the scaled CFI, TLI
        and RMSEA, and ``delta_chi2`` is the scaled and shifted difference test of Satorra
        (2000), lavaan ``lavTestLRT``'s default for WLSMV fits.  No score tests
        (``partial`` is empty) and no ``group_partial``.
    missing : {"listwise", "ml"}
        ``"ml"``: full-information ML (lavaan ``missing = "ml"``), every row with a group and
        at least one answer is used (ML only).
    group_partial : sequence of str
        Parameters left free of the equality constraints (``"x3~1"``, ``"visual=~x2"``,
        ``"x1~~x1"``), lavaan's ``group.partial``.
    criteria : mapping, optional
        Overrides of :data:`DEFAULT_CRITERIA` (``configural_cfi_min``,
        ``configural_rmsea_max``, ``delta_cfi_min``, ``delta_rmsea_max``).
    levels : sequence of str
        A prefix of ``("configural", "metric", "scalar", "strict")`` (WLSMV: of
        ``("configural", "scalar")``, or with Wu & Estabrook's identification of
        ``("configural", "thresholds", "metric")``).
    identification : {"lavaan", "wu.estabrook"}
        For ``estimator="wlsmv"``: ``"lavaan"`` (lavaan's defaults, the levels above) or
        ``"wu.estabrook"``: the sequence of Wu & Estabrook (2016) as semTools
        ``measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016",
        parameterization = "delta")`` writes it: ``configural``; ``thresholds`` (equal
        thresholds; the intercepts of the latent responses and the scaling factors of items
        with three or more categories free beyond the first group); ``metric`` (+ equal
        loadings, factor variances free beyond the first group).

    Returns
    -------
    InvarianceResult

    Notes
    -----
    R equivalent::

        fits <- lapply(list("", "loadings", c("loadings", "intercepts"),
                            c("loadings", "intercepts", "residuals")),
                       function(eq) cfa(model, data = d, group = "g", group.equal = eq,
                                        group.partial = free))
        do.call(lavTestLRT, fits); sapply(fits, fitMeasures, c("cfi", "rmsea"))
        lavTestScore(fits[[3]])$uni     # release candidates
        # semTools::compareFit(...) gives the same differences

    Examples
    --------
    >>> import pandas as pd
    >>> hs = pd.read_csv("tests/data/HolzingerSwineford1939.csv")  # doctest: +SKIP
    >>> res = measurement_invariance(hs, "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
    ...                              "speed =~ x7 + x8 + x9", group="school")  # doctest: +SKIP
    >>> res.levels[["level", "chi2", "df", "cfi"]]                        # doctest: +SKIP
    """
    est = str(estimator).lower()
    if est not in ESTIMATORS:
        raise StatisticsError(f"estimator={estimator!r} is not available for invariance; "
                              f"choose one of {ESTIMATORS}")
    if missing not in MISSING:
        raise StatisticsError(f"missing={missing!r} is not allowed; choose one of {MISSING}")
    if not isinstance(data, pd.DataFrame):
        raise StatisticsError(f"measurement_invariance needs a pandas DataFrame, got "
                              f"{type(data).__name__}")
    if identification not in IDENTIFICATIONS:
        raise StatisticsError(f"identification={identification!r} is not available; choose "
                              f"one of {IDENTIFICATIONS}")
    if identification != "lavaan" and est != "wlsmv":
        raise StatisticsError("identification='wu.estabrook' is for ordered items "
                              "(estimator='wlsmv')")
    if est == "wlsmv":
        if missing != "listwise":
            raise StatisticsError("estimator='wlsmv' uses complete rows (missing='listwise')")
        if group_partial:
            raise StatisticsError("group_partial is not available with estimator='wlsmv'")
        table = WLSMV_LEVELS if identification == "lavaan" else WU_ESTABROOK_LEVELS
        if tuple(levels) == tuple(LEVELS):
            levels = tuple(table)
        return _invariance_wlsmv(data, model, group=group, criteria=criteria,
                                 levels=tuple(levels), identification=identification)
    if missing == "ml" and est != "ml":
        raise StatisticsError("missing='ml' (FIML) is available with estimator='ml'")
    levels = tuple(levels)
    if not levels or levels != tuple(LEVELS)[:len(levels)]:
        raise StatisticsError(f"levels must be a prefix of {tuple(LEVELS)}, got {levels}")
    crit = _criteria(criteria)
    partial = tuple(parameter_name(*parse_parameter_name(p)) for p in group_partial)
    syntax = _model_syntax(model)
    base = build_partable(syntax)
    gdata, _dropped = _split_groups(data, group, list(base.ov), missing)
    names = tuple(g.name for g in gdata)
    known = {r.name for r in base.rows} | {f"{v}~1" for v in base.ov}
    unknown = [p for p in partial if p not in known]
    if unknown:
        raise StatisticsError(f"group_partial: {', '.join(unknown)} not parameters of the "
                              "model", [Problem("bad_parameter", "not in the model", value=u)
                                        for u in unknown])
    fits: dict[str, MLSolution] = {}
    for lev in levels:
        pt = build_partable(syntax, groups=names, group_equal=LEVELS[lev],
                            group_partial=partial, meanstructure=True)
        fits[lev] = fit_ml(pt, gdata, stacklevel=2)
        if est == "mlr":
            fits[lev] = mlr(fits[lev])
    sfx = "_scaled" if est == "mlr" else ""

    def difference(cur: str, prv: str) -> float:
        f, fp = fits[cur].fit, fits[prv].fit
        ddf = f["df"] - fp["df"]
        dchi = f["chi2"] - fp["chi2"]
        if est == "mlr":    # Satorra & Bentler (2001)
            cd = (f["df"] * f["scaling_factor"] - fp["df"] * fp["scaling_factor"]) / ddf
            dchi = dchi / cd if cd > 0 else math.nan
        return float(dchi)

    level_frame = _level_frame(fits, levels, sfx, crit, difference)
    prow = [{"level": "", "parameter": p, "group": "", "chi2": math.nan, "df": math.nan,
             "pvalue": math.nan, "freed": True} for p in partial]
    for lev in levels[1:]:
        sc = score_tests(fits[lev])
        sc = sc[sc["class"] == _ADDED[lev]].sort_values("chi2", ascending=False, kind="stable")
        for r in sc.itertuples():
            prow.append({"level": lev, "parameter": r.parameter, "group": r.group,
                         "chi2": r.chi2, "df": r.df, "pvalue": r.pvalue, "freed": False})
    partial_frame = pd.DataFrame(prow, columns=["level", "parameter", "group", "chi2", "df",
                                                "pvalue", "freed"])
    return InvarianceResult(
        groups=MappingProxyType({g.name: g.n for g in gdata}), estimator=est,
        levels=level_frame, partial=partial_frame.reset_index(drop=True),
        fits=MappingProxyType(fits), criteria=MappingProxyType(crit),
        group_partial=partial)


def _criteria(criteria: Mapping[str, float] | None) -> dict[str, float]:
    crit = dict(DEFAULT_CRITERIA)
    for k, v in (criteria or {}).items():
        if k not in DEFAULT_CRITERIA:
            raise StatisticsError(f"unknown criterion {k!r}; choose from "
                                  f"{tuple(DEFAULT_CRITERIA)}")
        crit[k] = float(v)
    return crit


def _level_frame(fits: Mapping[str, Any], levels: Sequence[str], sfx: str,
                 crit: Mapping[str, float], difference: Any) -> pd.DataFrame:
    """One row per level: fit measures, differences to the level before, ``holds``."""
    rows = []
    prev: dict[str, Any] | None = None
    for lev in levels:
        f = fits[lev].fit
        row: dict[str, Any] = {"level": lev, "chi2": f["chi2" + sfx], "df": f["df"],
                               "pvalue": f["pvalue" + sfx], "cfi": f["cfi" + sfx],
                               "tli": f["tli" + sfx], "rmsea": f["rmsea" + sfx],
                               "srmr": f["srmr"]}
        if prev is None:
            row.update(delta_chi2=math.nan, delta_df=math.nan, delta_pvalue=math.nan,
                       delta_cfi=math.nan, delta_rmsea=math.nan)
            row["holds"] = bool(row["cfi"] >= crit["configural_cfi_min"]
                                and row["rmsea"] <= crit["configural_rmsea_max"])
        else:
            ddf = f["df"] - fits[prev["level"]].fit["df"]
            dchi = difference(lev, prev["level"])
            row.update(delta_chi2=dchi, delta_df=ddf,
                       delta_pvalue=float(chi2_sf(dchi, ddf))
                       if ddf > 0 and math.isfinite(dchi) else math.nan,
                       delta_cfi=row["cfi"] - prev["cfi"],
                       delta_rmsea=row["rmsea"] - prev["rmsea"])
            row["holds"] = bool(prev["holds"] and row["delta_cfi"] >= crit["delta_cfi_min"]
                                and row["delta_rmsea"] <= crit["delta_rmsea_max"])
        rows.append(row)
        prev = row
    return pd.DataFrame(rows, columns=list(LEVEL_COLUMNS))


def _invariance_wlsmv(data: pd.DataFrame, model: Any, *, group: str,
                      criteria: Mapping[str, float] | None, levels: tuple[str, ...],
                      identification: str) -> InvarianceResult:
    """:func:`measurement_invariance` with ``estimator="wlsmv"`` (ordered items)."""
    from instrval.stats.sem.wlsmv import fit_wlsmv, ordinal_groups, wlsmv_difference

    table = WLSMV_LEVELS if identification == "lavaan" else WU_ESTABROOK_LEVELS
    if not levels or levels != tuple(table)[:len(levels)]:
        raise StatisticsError(f"with estimator='wlsmv' levels must be a prefix of "
                              f"{tuple(table)}, got {levels}")
    crit = _criteria(criteria)
    syntax = _model_syntax(model)
    base = build_partable(syntax, ordered=True)
    items = list(base.ov)
    if group not in data.columns:
        raise StatisticsError(f"the group column {group!r} is not in the data "
                              f"(columns: {', '.join(map(str, data.columns))})",
                              [Problem("missing_column", "no such column", column=group)])
    labels = data[group]
    keep = (labels.notna() & (labels.astype(str).str.strip() != "")).to_numpy()
    _, x = model_data(data, {"model": items}, "measurement_invariance")
    if np.isinf(x).any():
        j = int(np.flatnonzero(np.isinf(x).any(axis=0))[0])
        raise StatisticsError(f"item {items[j]!r} has infinite values")
    complete = keep & ~np.isnan(x).any(axis=1)
    lab = labels.map(_label).to_numpy()
    order = list(dict.fromkeys(lab[complete]))
    if len(order) < 2:
        raise StatisticsError(f"the group column {group!r} has {len(order)} group(s) with "
                              "complete rows; invariance needs at least 2")
    groups = ordinal_groups(x[complete], lab[complete], order, items)
    fits = {lev: fit_wlsmv(syntax, groups, equal=table[lev], identification=identification,
                           stacklevel=3) for lev in levels}
    diffs = {}

    def difference(cur: str, prv: str) -> float:
        diffs[cur] = wlsmv_difference(fits[prv], fits[cur])
        return float(diffs[cur]["chi2"])

    level_frame = _level_frame(fits, levels, "_scaled", crit, difference)
    partial_frame = pd.DataFrame([], columns=["level", "parameter", "group", "chi2", "df",
                                              "pvalue", "freed"])
    return InvarianceResult(
        groups=MappingProxyType({g.name: g.n for g in groups}), estimator="wlsmv",
        levels=level_frame, partial=partial_frame, fits=MappingProxyType(fits),
        criteria=MappingProxyType(crit), group_partial=())


def _class_of(mat: str, lhs: str, rhs: str) -> str:
    return {"lambda": "loadings", "beta": "loadings", "nu": "intercepts", "alpha": "means",
            "theta": "residuals" if lhs == rhs else "residual.covariances",
            "psi": "lv.variances" if lhs == rhs else "lv.covariances"}[mat]


def score_tests(sol: MLSolution) -> pd.DataFrame:
    """Univariate score tests of the cross-group equality constraints of a solution.

    One row per constraint "parameter of group g equals that of the first group that shares
    it" (lavaan's ``lavTestScore(fit)$uni``): ``parameter``, ``class`` (``loadings``,
    ``intercepts``, ...), ``group`` (label), ``chi2``, ``df`` (1), ``pvalue``.
    """
    pt = sol.partable
    ntot = sum(d.n for d in sol.data)
    out = []
    with single_threaded_blas():
        for row in pt.rows:
            if not row.free:
                continue
            owners = [r for r in pt.rows if r.free == row.free]
            if len(owners) < 2 or row is owners[0] or owners[0].group == row.group:
                continue
            ext = _release(pt, row)
            theta = np.append(sol.theta, sol.theta[row.free - 1])
            eng = Engine(ext, sol.data)
            g, h = eng.gradient(theta, info=True)
            if g is None or h is None:
                continue
            try:
                x2 = ntot / 2.0 * float(g @ np.linalg.solve(h, g))
            except np.linalg.LinAlgError:
                x2 = math.nan
            out.append({"parameter": row.name, "class": _class_of(row.mat, row.lhs, row.rhs),
                        "group": pt.groups[row.group], "chi2": float(x2), "df": 1,
                        "pvalue": float(chi2_sf(x2, 1)) if math.isfinite(x2)
                        else math.nan})
    return pd.DataFrame(out, columns=["parameter", "class", "group", "chi2", "df", "pvalue"])


def _release(pt: ParTable, row: Any) -> ParTable:
    """The table with ``row`` given a free parameter of its own (appended last)."""
    new = pt.nfree + 1
    rows = tuple(replace(r, free=new) if r is row else r for r in pt.rows)
    return replace(pt, rows=rows, nfree=new)

