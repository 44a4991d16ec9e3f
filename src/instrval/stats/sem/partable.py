r"""The parameter table of a measurement model, with lavaan's defaults for ``cfa()``.

From the statements of :func:`~instrval.stats.sem.syntax.parse_syntax` this builds one row per
parameter and group, as ``lavaan::lavaanify(model, auto = TRUE)`` with the options of
``cfa()``:

* the first indicator of each factor has its loading fixed to 1 (``auto.fix.first``) unless
  ``std_lv`` (then every factor variance is fixed to 1) or the term has a modifier
  (``NA*x`` frees it, ``2*x`` fixes it to 2);
* every observed variable has a free residual variance and every factor a free (residual)
  variance (``auto.var``);
* the factors that are not indicators of another factor covary freely (``auto.cov.lv.x``),
  or not at all with ``orthogonal=True``;
* with a mean structure every observed variable has a free intercept and the factor means are
  fixed to 0;
* ``group_equal`` makes a class of parameters equal across groups (``"loadings"``,
  ``"intercepts"``, ``"residuals"``, ``"residual.covariances"``, ``"lv.variances"``,
  ``"lv.covariances"``, ``"means"``); with equal intercepts the factor means are free in every
  group but the first; ``group_partial`` names parameters (``"x1~1"``, ``"visual=~x2"``,
  ``"x1~~x1"``) kept free of these constraints;
* parameters sharing a label are one parameter.

The model matrices are lavaan's LISREL form: :math:`\Lambda` (items x factors), :math:`B`
(factor on factor, for higher-order factors), :math:`\Psi`, :math:`\Theta`, :math:`\nu`,
:math:`\alpha`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from instrval.errors import Problem, StatisticsError
from instrval.stats.sem.syntax import Modifier, Statement, parse_syntax

__all__ = ["GROUP_EQUAL", "ParRow", "ParTable", "build_partable", "parameter_name",
           "parse_parameter_name"]

GROUP_EQUAL = ("loadings", "intercepts", "residuals", "residual.covariances", "lv.variances",
               "lv.covariances", "means")


@dataclass(frozen=True)
class ParRow:
    """One parameter of one group.

    ``free`` is the 1-based index of the free parameter it is (0 when fixed), ``value`` the
    fixed value or the user's starting value (NaN: computed), ``mat`` the matrix
    (``lambda``, ``beta``, ``psi``, ``theta``, ``nu``, ``alpha``) and ``row``, ``col`` the
    cell.
    """

    lhs: str
    op: str
    rhs: str
    group: int
    free: int
    value: float
    label: str
    user: bool
    mat: str
    row: int
    col: int

    @property
    def name(self) -> str:
        """lavaan's name of the parameter (``"visual=~x2"``, ``"x1~1"``, ``"x1~~x1"``)."""
        return parameter_name(self.lhs, self.op, self.rhs)


@dataclass(frozen=True)
class ParTable:
    """The parameter table: observed and latent variables, groups and rows."""

    ov: tuple[str, ...]
    lv: tuple[str, ...]
    groups: tuple[str, ...]
    rows: tuple[ParRow, ...]
    meanstructure: bool
    nfree: int
    indicators: dict[str, list[str]]

    def free_rows(self) -> list[ParRow]:
        """The first row of each free parameter, in free-parameter order."""
        first: dict[int, ParRow] = {}
        for r in self.rows:
            if r.free and r.free not in first:
                first[r.free] = r
        return [first[k] for k in sorted(first)]


def parameter_name(lhs: str, op: str, rhs: str) -> str:
    """``"lhs op rhs"`` without spaces, as lavaan names parameters (``x1~1`` for means)."""
    return f"{lhs}~1" if op == "~1" else f"{lhs}{op}{rhs}"


def parse_parameter_name(name: str) -> tuple[str, str, str]:
    """Split ``"visual=~x2"``, ``"x1~1"`` or ``"x1~~x2"`` into ``(lhs, op, rhs)``."""
    s = str(name).replace(" ", "")
    for op in ("=~", "~~"):
        if op in s:
            lhs, rhs = s.split(op, 1)
            if lhs and rhs:
                return lhs, op, rhs
    if s.endswith("~1") and len(s) > 2:
        return s[:-2], "~1", ""
    raise StatisticsError(f"cannot read the parameter {name!r}; write it as lavaan does: "
                          "'visual=~x2', 'x1~1' or 'x1~~x1'",
                          [Problem("bad_parameter", "not a lavaan parameter name", value=name)])


def build_partable(model: str | Sequence[Statement], *, groups: Sequence[str] = ("1",),
                   std_lv: bool = False, orthogonal: bool = False,
                   meanstructure: bool | None = None, group_equal: Sequence[str] = (),
                   group_partial: Sequence[str] = (), ordered: bool = False) -> ParTable:
    r"""The parameter table of ``model`` (lavaan syntax or parsed statements).

    ``meanstructure`` defaults to True with several groups or when the syntax has ``~ 1``.
    ``ordered``: the items are ordered categories in the delta parameterization (WLSMV):
    their residual variances are not parameters (fixed rows with value 0 in
    :math:`\Theta`; the residual variance is :math:`1 -` the common variance) and there is no
    mean structure.
    """
    stmts = parse_syntax(model) if isinstance(model, str) else list(model)
    groups = tuple(str(g) for g in groups)
    G = len(groups)
    bad_eq = [e for e in group_equal if e not in GROUP_EQUAL]
    if bad_eq:
        raise StatisticsError(f"group_equal: {', '.join(bad_eq)} not one of {GROUP_EQUAL}")
    partial = {parse_parameter_name(p) for p in group_partial}
    for s in stmts:
        if len(s.modifiers) not in (1, G):
            raise StatisticsError(
                f"model syntax, line {s.line}: c(...) has {len(s.modifiers)} values but "
                f"there are {G} group(s)",
                [Problem("bad_model_syntax", "c(...) length", line=s.line, value=s.rhs)])
    lv: list[str] = []
    for s in stmts:
        if s.op == "=~" and s.lhs not in lv:
            lv.append(s.lhs)
    if not lv:
        raise StatisticsError("the model defines no factor (no '=~' statement)")
    ov: list[str] = []
    indicators: dict[str, list[str]] = {f: [] for f in lv}
    for s in stmts:
        if s.op == "=~":
            if s.rhs == s.lhs:
                raise StatisticsError(f"model syntax, line {s.line}: {s.lhs} cannot measure "
                                      "itself", [Problem("bad_model_syntax", "self loading",
                                                         line=s.line, value=s.rhs)])
            if s.rhs in indicators[s.lhs]:
                raise StatisticsError(f"model syntax, line {s.line}: {s.lhs} =~ {s.rhs} "
                                      "twice", [Problem("bad_model_syntax", "repeated",
                                                        line=s.line, value=s.rhs)])
            indicators[s.lhs].append(s.rhs)
            if s.rhs not in lv and s.rhs not in ov:
                ov.append(s.rhs)
    for s in stmts:
        for v in (s.lhs, s.rhs):
            if v and v not in lv and v not in ov:
                raise StatisticsError(
                    f"model syntax, line {s.line}: {v} is neither a factor nor an indicator "
                    "of one", [Problem("bad_model_syntax", "unknown variable", line=s.line,
                                       value=v)])
    for f in lv:
        if not indicators[f]:
            raise StatisticsError(f"factor {f} has no indicators")
    endo = {v for f in lv for v in indicators[f] if v in lv}
    exo = [f for f in lv if f not in endo]
    if ordered:
        means = [s for s in stmts if s.op == "~1"]
        if means:
            raise StatisticsError(f"model syntax, line {means[0].line}: intercepts are not "
                                  "available for ordered items (the thresholds take their "
                                  "place)")
        meanstructure = False
    if meanstructure is None:
        meanstructure = G > 1 or any(s.op == "~1" for s in stmts)
    user = {(s.lhs, s.op, s.rhs): s for s in stmts}
    for s in stmts:
        if s.op == "~~":
            user[(s.rhs, s.op, s.lhs)] = s
    oi = {v: i for i, v in enumerate(ov)}
    li = {v: i for i, v in enumerate(lv)}

    # ---- one group's rows (without free indices): (lhs, op, rhs, mat, r, c, modifier-or-None,
    #      default_fixed value or None)
    specs: list[tuple[str, str, str, str, int, int, Statement | None, float | None]] = []
    for f in lv:
        for k, v in enumerate(indicators[f]):
            st = user[(f, "=~", v)]
            default_fix = 1.0 if (k == 0 and not std_lv) else None
            if v in lv:
                specs.append((f, "=~", v, "beta", li[v], li[f], st, default_fix))
            else:
                specs.append((f, "=~", v, "lambda", oi[v], li[f], st, default_fix))
    seen_cov = set()
    for v in ov:
        if ordered and user.get((v, "~~", v)) is not None:
            st = user[(v, "~~", v)]
            raise StatisticsError(f"model syntax, line {st.line}: the residual variance of "
                                  f"the ordered item {v} is not a parameter (delta "
                                  "parameterization)",
                                  [Problem("bad_model_syntax", "ordered residual variance",
                                           line=st.line, value=f"{v} ~~ {v}")])
        specs.append((v, "~~", v, "theta", oi[v], oi[v], user.get((v, "~~", v)),
                      0.0 if ordered else None))
        seen_cov.add((v, v))
    for f in lv:
        specs.append((f, "~~", f, "psi", li[f], li[f], user.get((f, "~~", f)),
                      1.0 if std_lv else None))
        seen_cov.add((f, f))
    for a in range(len(exo)):
        for b in range(a + 1, len(exo)):
            f, g = exo[a], exo[b]
            st = user.get((f, "~~", g))
            specs.append((f, "~~", g, "psi", li[g], li[f], st, 0.0 if orthogonal else None))
            seen_cov.add((f, g))
            seen_cov.add((g, f))
    for s in stmts:
        if s.op == "~~" and (s.lhs, s.rhs) not in seen_cov:
            both_ov = s.lhs in oi and s.rhs in oi
            both_lv = s.lhs in li and s.rhs in li
            if not (both_ov or both_lv):
                raise StatisticsError(
                    f"model syntax, line {s.line}: a covariance between an item and a factor "
                    f"({s.lhs} ~~ {s.rhs}) is not supported",
                    [Problem("bad_model_syntax", "mixed covariance", line=s.line,
                             value=f"{s.lhs} ~~ {s.rhs}")])
            idx = oi if both_ov else li
            mat = "theta" if both_ov else "psi"
            specs.append((s.lhs, "~~", s.rhs, mat, max(idx[s.lhs], idx[s.rhs]),
                          min(idx[s.lhs], idx[s.rhs]), s, None))
            seen_cov.add((s.lhs, s.rhs))
            seen_cov.add((s.rhs, s.lhs))
    if meanstructure:
        for v in ov:
            specs.append((v, "~1", "", "nu", oi[v], 0, user.get((v, "~1", "")), None))
        for f in lv:
            specs.append((f, "~1", "", "alpha", li[f], 0, user.get((f, "~1", "")), 0.0))
    else:
        means = [s for s in stmts if s.op == "~1"]
        if means:
            raise StatisticsError(f"model syntax, line {means[0].line}: intercepts need a "
                                  "mean structure")

    def eq_class(op: str, mat: str, lhs: str, rhs: str) -> str | None:
        if op == "=~":
            return "loadings"
        if mat == "nu":
            return "intercepts"
        if mat == "alpha":
            return "means"
        if mat == "theta":
            return "residuals" if lhs == rhs else "residual.covariances"
        if mat == "psi":
            return "lv.variances" if lhs == rhs else "lv.covariances"
        return None

    rows: list[ParRow] = []
    keys: dict[tuple[str, ...], int] = {}
    for g in range(G):
        for lhs, op, rhs, mat, r, c, st, default_fix in specs:
            mod = st.modifier(g) if st is not None else Modifier()
            value = math.nan
            fixed = default_fix
            if mat == "alpha" and default_fix is not None and g > 0 and \
                    "intercepts" in group_equal and "means" not in group_equal:
                fixed = None          # latent means free beyond the first group
            if mod.free:
                fixed = None
            if mod.fixed is not None:
                fixed = mod.fixed
            if mod.start is not None:
                value = mod.start
            label = mod.label or ""
            if fixed is not None:
                free = 0
                value = fixed
            else:
                cls = eq_class(op, mat, lhs, rhs)
                if label:
                    key: tuple[str, ...] = ("label", label)
                elif cls in group_equal and (lhs, op, rhs) not in partial and G > 1:
                    key = ("eq", lhs, op, rhs)
                else:
                    key = ("row", lhs, op, rhs, str(g))
                if key not in keys:
                    keys[key] = len(keys) + 1
                free = keys[key]
            rows.append(ParRow(lhs, op, rhs, g, free, value, label, st is not None, mat, r, c))
    return ParTable(tuple(ov), tuple(lv), groups, tuple(rows), bool(meanstructure), len(keys),
                    indicators)


def factor_syntax(model: dict[str, list[str]]) -> str:
    """lavaan syntax for a ``{factor: [items]}`` mapping."""
    return "\n".join(f"{f} =~ {' + '.join(items)}" for f, items in model.items())
