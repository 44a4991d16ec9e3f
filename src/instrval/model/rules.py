"""Decision rules: every threshold instrval applies, with its source.

Thresholds are data, not code: they live in one :class:`DecisionRules` object, each with a
documented default and the reference it comes from. A study file overrides any of them
under its ``rules:`` key (``DecisionRules.from_mapping``), and the report prints the rules
used next to each decision they produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, TypedDict

from instrval.errors import Problem, StudyError

__all__ = ["DecisionRules", "RULE_SOURCES", "THRESHOLDS", "Threshold", "default_value"]

@dataclass(frozen=True)
class Threshold:
    """One threshold of :class:`DecisionRules`: its default, bounds, source and users.

    ``lower``/``upper`` bound the values a study may set (``None`` = unbounded);
    ``lower_open``/``upper_open`` exclude the bound itself. ``integer`` thresholds take
    whole numbers only.
    """

    name: str
    default: float
    source: str
    used_by: str
    lower: float | None = 0.0
    upper: float | None = 1.0
    lower_open: bool = False
    upper_open: bool = False
    integer: bool = False

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, or None when it is."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                self.integer and not float(value).is_integer()):
            return f"must be a {'whole ' if self.integer else ''}number, got {value!r}"
        v = float(value)
        lo_bad = self.lower is not None and (v < self.lower or (self.lower_open
                                                                and v == self.lower))
        hi_bad = self.upper is not None and (v > self.upper or (self.upper_open
                                                                and v == self.upper))
        if lo_bad or hi_bad:
            return f"must be {self.bounds_text()}, got {value!r}"
        return None

    def bounds_text(self) -> str:
        """The bounds in words, e.g. ``between 0 and 1 (exclusive)`` or ``at least 2``."""
        if self.lower is not None and self.upper is not None:
            ex = (" (exclusive)" if self.lower_open and self.upper_open else
                  " (lower bound excluded)" if self.lower_open else
                  " (upper bound excluded)" if self.upper_open else "")
            return f"between {self.lower:g} and {self.upper:g}{ex}"
        if self.lower is not None:
            return f"{'greater than' if self.lower_open else 'at least'} {self.lower:g}"
        if self.upper is not None:
            return f"{'less than' if self.upper_open else 'at most'} {self.upper:g}"
        return "any number"


class _Bounds(TypedDict):
    lower: float | None
    upper: float | None


_UNIT: _Bounds = {"lower": 0.0, "upper": 1.0}

#: Every threshold: default, bounds, the rules that use it and where it comes from.
THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("relevance_min", 0.10, (
        "instrval default. The IAM content validation (Pluye, Grad et al., 2012 ratings) "
        "judged items at R = 4.86% and 3.04% non-relevant without publishing its cut-off; "
        "10% separates those two from every retained item. Set it from your protocol."),
        "R1-R4", **_UNIT),
    Threshold("relevance_ci_level", 0.95,
              "Conventional 95% interval (Wilson 1927 score interval).",
              "relevance intervals", lower_open=True, upper_open=True, **_UNIT),
    Threshold("i_cvi_min", 0.78, (
        "Lynn (1986); Polit, Beck & Owen (2007): I-CVI >= .78 with six or more experts "
        "(with 3-5 experts all must agree: I-CVI = 1)."), "R14", **_UNIT),
    Threshold("s_cvi_ave_min", 0.90,
              "Polit & Beck (2006); Polit, Beck & Owen (2007): S-CVI/Ave >= .90.",
              "COSMIN content validity", **_UNIT),
    Threshold("modified_kappa_min", 0.74, (
        "Polit, Beck & Owen (2007): kappa* > .74 is excellent, .60-.74 good; an item "
        "rated below is flagged."), "R17", lower=-1.0, upper=1.0),
    Threshold("alpha_min", 0.70, (
        "Nunnally (1978); COSMIN (Prinsen et al. 2018; Terwee et al. 2007): Cronbach's "
        "alpha >= .70 per unidimensional scale."), "COSMIN internal consistency", **_UNIT),
    Threshold("alpha_gain_min", 0.01, (
        "instrval default: alpha if the item were deleted must exceed the scale's alpha "
        "by more than this (gains below .01 vanish in the two decimals alpha is reported "
        "with)."), "R10", **_UNIT),
    Threshold("r_drop_min", 0.30,
              "Nunnally & Bernstein (1994); Streiner (2003): corrected item-total r >= .30.",
              "R11, R19", lower=-1.0, upper=1.0),
    Threshold("loading_min", 0.40,
              "Stevens (2002); Hair et al. (2019): a salient loading is >= .40.",
              "R12, R19", **_UNIT),
    Threshold("cross_loading_max", 0.30,
              "Hair et al. (2019): a cross-loading above .30 blurs an item's factor.",
              "R13", **_UNIT),
    Threshold("floor_ceiling_max", 0.15, (
        "McHorney & Tarlov (1995); Terwee et al. (2007): floor or ceiling effects when "
        "more than 15% of respondents have the lowest or highest possible scale score."),
        "R16", **_UNIT),
    Threshold("cfi_min", 0.95,
              "COSMIN (Prinsen et al. 2018), after Hu & Bentler (1999): CFI or TLI > .95.",
              "COSMIN structural validity", **_UNIT),
    Threshold("rmsea_max", 0.06,
              "COSMIN (Prinsen et al. 2018), after Hu & Bentler (1999): RMSEA < .06.",
              "COSMIN structural validity", lower=0.0, upper=None),
    Threshold("srmr_max", 0.08,
              "COSMIN (Prinsen et al. 2018), after Hu & Bentler (1999): SRMR < .08.",
              "COSMIN structural validity", lower=0.0, upper=None),
    Threshold("qual_min_participants", 2, (
        "instrval default: a representativeness judgement needs at least this many "
        "participants discussing the item; fewer is reported as no qualitative evidence."),
        "R2-R5, R8, R9, R18-R22", lower=1, upper=None, integer=True),
    Threshold("qual_max_challenge_share", 0.5, (
        "instrval default, following the IAM studies' concordance judgement: an item is "
        "representative unless more than this share of the participants who discussed it "
        "challenged its representativeness (unclear, misread, irrelevant)."),
        "R2, R3, R5, R18-R21", **_UNIT),
    Threshold("quote_count", 2, "instrval default: exemplar quotes shown per item.",
              "joint display", lower=0, upper=None, integer=True),
    Threshold("content_share_min", 0.85, (
        "COSMIN content validity criteria (Terwee et al. 2018): relevance, "
        "comprehensiveness and comprehensibility are rated sufficient when at least 85% "
        "of the items meet the criterion."), "COSMIN content validity", **_UNIT),
    Threshold("min_scale_items", 3, (
        "Minimum number of scale items for EFA, parallel analysis and omega: a common "
        "factor needs at least three indicators to be identified (Anderson & Rubin 1956; "
        "psych::omega needs three per group factor)."),
        "analyses", lower=3, upper=None, integer=True),
    Threshold("min_factor_n", 50, (
        "instrval default: the fewest rows with which EFA, CFA and omega are run at all. "
        "A floor, not a recommendation: COSMIN (Prinsen et al. 2018) rates n >= 100 "
        "adequate and n >= 7 x items and >= 100 very good for factor analyses."),
        "analyses", lower=2, upper=None, integer=True),
    Threshold("icc_min", 0.70, (
        "COSMIN criteria for good measurement properties (Prinsen et al. 2018; Terwee et "
        "al. 2007): test-retest ICC >= .70."), "COSMIN reliability", **_UNIT),
    Threshold("criterion_min", 0.70, (
        "COSMIN criteria for good measurement properties (Prinsen et al. 2018): "
        "correlation with the gold standard, or AUC, >= .70."),
        "COSMIN criterion validity", **_UNIT),
    Threshold("hypotheses_share_min", 0.75, (
        "COSMIN criteria for good measurement properties (Prinsen et al. 2018; Terwee et "
        "al. 2007): at least 75% of the results agree with the hypotheses set in advance."),
        "COSMIN hypotheses testing, responsiveness", **_UNIT),
    Threshold("dif_r2_change_min", 0.035, (
        "Jodoin & Gierl (2001): in logistic regression DIF a Nagelkerke R-squared change "
        "(2 df test) of at least .035 with p < .01 is moderate DIF (class B), of at least "
        ".070 large (class C); negligible (class A) below."), "R23", **_UNIT),
    Threshold("dif_ets_delta_min", 1.0, (
        "Holland & Thayer (1988); Zwick (2012): a Mantel-Haenszel |ETS delta| of at least 1 "
        "with p < .05 is moderate DIF (ETS class B), of at least 1.5 (significantly above 1) "
        "large (class C)."), "R23", lower=0.0, upper=None, lower_open=True),
    Threshold("irt_msq_min", 0.7, (
        "Wright & Linacre (1994); Bond & Fox (2015): an infit or outfit mean square below "
        "0.7 (overfit) or above 1.3 (underfit) marks a misfitting item of a Rasch-family "
        "model (rating scales, surveys)."), "R24", lower=0.0, upper=None, lower_open=True),
    Threshold("irt_msq_max", 1.3, (
        "Wright & Linacre (1994); Bond & Fox (2015): see irt_msq_min."), "R24",
        lower=0.0, upper=None, lower_open=True),
    Threshold("irt_fit_alpha", 0.01, (
        "Orlando & Thissen (2000); Benjamini & Hochberg (1995): a 2PL or GRM item misfits "
        "when its S-X2 p, adjusted for the number of items (false discovery rate), is below "
        ".01."), "R24", lower_open=True, upper_open=True, **_UNIT),
)

#: Pairs of thresholds whose first must be below the second.
_ORDERED = (("irt_msq_min", "irt_msq_max"),)

#: Where each default comes from (the ``source`` of :data:`THRESHOLDS`, by name).
RULE_SOURCES: dict[str, str] = {t.name: t.source for t in THRESHOLDS}
_BY_NAME: dict[str, Threshold] = {t.name: t for t in THRESHOLDS}


def default_value(name: str) -> Any:
    """The default of the threshold ``name`` (a whole number for integer thresholds)."""
    return _default(name)


def _default(name: str) -> Any:
    t = _BY_NAME[name]
    return int(t.default) if t.integer else float(t.default)


@dataclass(frozen=True)
class DecisionRules:
    """Thresholds used to judge items and scales. See :data:`RULE_SOURCES`.

    Examples
    --------
    >>> rules = DecisionRules.from_mapping({"relevance_min": 0.05})
    >>> rules.relevance_min
    0.05
    """

    relevance_min: float = _default("relevance_min")
    relevance_ci_level: float = _default("relevance_ci_level")
    i_cvi_min: float = _default("i_cvi_min")
    s_cvi_ave_min: float = _default("s_cvi_ave_min")
    modified_kappa_min: float = _default("modified_kappa_min")
    alpha_min: float = _default("alpha_min")
    r_drop_min: float = _default("r_drop_min")
    loading_min: float = _default("loading_min")
    cross_loading_max: float = _default("cross_loading_max")
    floor_ceiling_max: float = _default("floor_ceiling_max")
    cfi_min: float = _default("cfi_min")
    rmsea_max: float = _default("rmsea_max")
    srmr_max: float = _default("srmr_max")
    qual_min_participants: int = _default("qual_min_participants")
    qual_max_challenge_share: float = _default("qual_max_challenge_share")
    quote_count: int = _default("quote_count")
    content_share_min: float = _default("content_share_min")
    alpha_gain_min: float = _default("alpha_gain_min")
    min_scale_items: int = _default("min_scale_items")
    min_factor_n: int = _default("min_factor_n")
    icc_min: float = _default("icc_min")
    criterion_min: float = _default("criterion_min")
    hypotheses_share_min: float = _default("hypotheses_share_min")
    dif_r2_change_min: float = _default("dif_r2_change_min")
    dif_ets_delta_min: float = _default("dif_ets_delta_min")
    irt_msq_min: float = _default("irt_msq_min")
    irt_msq_max: float = _default("irt_msq_max")
    irt_fit_alpha: float = _default("irt_fit_alpha")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None, *, file: str | None = None,
                     key: str = "rules") -> DecisionRules:
        """Build rules from defaults overridden by ``values`` (e.g. a study file's
        ``rules:``). Unknown names and values of the wrong type are errors."""
        if not values:
            return cls()
        problems: list[Problem] = []
        known = {f.name: f for f in fields(cls)}
        changes: dict[str, Any] = {}
        for name, value in values.items():
            if name not in known:
                problems.append(Problem(
                    "unknown_key", f"unknown rule {name!r}; known rules: {', '.join(known)}",
                    file=file, key=f"{key}.{name}", value=name))
                continue
            spec = _BY_NAME[name]
            why = spec.check(value)
            if why is not None:
                hint = (" (a level is a proportion: 0.95, not 95)"
                        if name == "relevance_ci_level" and isinstance(value, (int, float))
                        and not isinstance(value, bool) and 1 < value < 100 else "")
                problems.append(Problem(
                    "wrong_type" if why.startswith("must be a") else "invalid_value",
                    f"rule {name!r} {why}{hint}", file=file, key=f"{key}.{name}",
                    value=value))
                continue
            changes[name] = int(value) if spec.integer else float(value)
        if not problems:
            merged = replace(cls(), **changes)
            for lo, hi in _ORDERED:
                if (lo in changes or hi in changes) and not getattr(merged, lo) < getattr(
                        merged, hi):
                    name = hi if hi in changes else lo
                    problems.append(Problem(
                        "invalid_value", f"rule {lo!r} ({getattr(merged, lo):g}) must be "
                        f"below {hi!r} ({getattr(merged, hi):g})", file=file,
                        key=f"{key}.{name}", value=changes[name]))
        if problems:
            raise StudyError.from_problems(problems, file or "decision rules")
        return replace(cls(), **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> list[dict[str, Any]]:
        """One record per rule: ``rule``, ``value``, ``default``, ``source`` (see
        :data:`THRESHOLDS` for the bounds and the rules using each threshold)."""
        default = DecisionRules()
        return [
            {"rule": f.name, "value": getattr(self, f.name),
             "default": getattr(default, f.name), "source": RULE_SOURCES[f.name]}
            for f in fields(self)
        ]
