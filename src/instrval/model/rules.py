"""Decision rules: every threshold instrval applies, with its source.

Thresholds are data, not code: they live in one :class:`DecisionRules` object, each with a
documented default and the reference it comes from. A study file overrides any of them
under its ``rules:`` key (``DecisionRules.from_mapping``), and the report prints the rules
used next to each decision they produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from instrval.errors import Problem, StudyError

__all__ = ["DecisionRules", "RULE_SOURCES"]

#: Where each default comes from.
RULE_SOURCES: dict[str, str] = {
    "relevance_min": (
        "instrval default. The IAM content validation (Pluye, Grad et al., 2012 ratings) "
        "judged items at R = 4.86% and 3.04% non-relevant without publishing its cut-off; "
        "10% separates those two from every retained item. Set it from your protocol."
    ),
    "relevance_ci_level": "Conventional 95% interval (Wilson 1927 score interval).",
    "i_cvi_min": (
        "Lynn (1986); Polit, Beck & Owen (2007): I-CVI >= .78 with six or more experts "
        "(with 3-5 experts all must agree: I-CVI = 1)."
    ),
    "s_cvi_ave_min": "Polit & Beck (2006); Polit, Beck & Owen (2007): S-CVI/Ave >= .90.",
    "modified_kappa_min": "Polit, Beck & Owen (2007): kappa* > .74 is excellent, .60-.74 good.",
    "alpha_min": (
        "Nunnally (1978); COSMIN (Prinsen et al. 2018; Terwee et al. 2007): Cronbach's "
        "alpha >= .70 per unidimensional scale."
    ),
    "r_drop_min": "Nunnally & Bernstein (1994); Streiner (2003): corrected item-total r >= .30.",
    "loading_min": "Stevens (2002); Hair et al. (2019): a salient loading is >= .40.",
    "cross_loading_max": "Hair et al. (2019): a cross-loading above .30 blurs an item's factor.",
    "floor_ceiling_max": (
        "McHorney & Tarlov (1995); Terwee et al. (2007): floor or ceiling effects when more "
        "than 15% of responses are at the lowest or highest option."
    ),
    "cfi_min": "COSMIN (Prinsen et al. 2018), after Hu & Bentler (1999): CFI or TLI > .95.",
    "rmsea_max": "COSMIN (Prinsen et al. 2018), after Hu & Bentler (1999): RMSEA < .06.",
    "srmr_max": "COSMIN (Prinsen et al. 2018), after Hu & Bentler (1999): SRMR < .08.",
    "qual_min_participants": (
        "instrval default: a representativeness judgement needs at least this many "
        "participants discussing the item; fewer is reported as no qualitative evidence."
    ),
    "qual_max_challenge_share": (
        "instrval default, following the IAM studies' concordance judgement: an item is "
        "representative unless more than this share of the participants who discussed it "
        "challenged its representativeness (unclear, misread, irrelevant)."
    ),
    "quote_count": "instrval default: exemplar quotes shown per item.",
    "content_share_min": (
        "COSMIN content validity criteria (Terwee et al. 2018): relevance, comprehensiveness "
        "and comprehensibility are rated sufficient when at least 85% of the items meet "
        "the criterion."
    ),
}


@dataclass(frozen=True)
class DecisionRules:
    """Thresholds used to judge items and scales. See :data:`RULE_SOURCES`.

    Examples
    --------
    >>> rules = DecisionRules.from_mapping({"relevance_min": 0.05})
    >>> rules.relevance_min
    0.05
    """

    relevance_min: float = 0.10
    relevance_ci_level: float = 0.95
    i_cvi_min: float = 0.78
    s_cvi_ave_min: float = 0.90
    modified_kappa_min: float = 0.74
    alpha_min: float = 0.70
    r_drop_min: float = 0.30
    loading_min: float = 0.40
    cross_loading_max: float = 0.30
    floor_ceiling_max: float = 0.15
    cfi_min: float = 0.95
    rmsea_max: float = 0.06
    srmr_max: float = 0.08
    qual_min_participants: int = 2
    qual_max_challenge_share: float = 0.5
    quote_count: int = 2
    content_share_min: float = 0.85

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
            want = int if known[name].type in ("int", int) else float
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    want is int and not float(value).is_integer()):
                problems.append(Problem(
                    "wrong_type", f"rule {name!r} must be a {'whole ' if want is int else ''}"
                    f"number, got {value!r}", file=file, key=f"{key}.{name}", value=value))
                continue
            if value < 0 or (want is float and name != "relevance_ci_level" and value > 1
                             and name not in ("rmsea_max", "srmr_max")):
                problems.append(Problem(
                    "invalid_value", f"rule {name!r} must be between 0 and 1, got {value!r}",
                    file=file, key=f"{key}.{name}", value=value))
                continue
            changes[name] = want(value)
        if problems:
            raise StudyError.from_problems(problems, file or "decision rules")
        return replace(cls(), **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> list[dict[str, Any]]:
        """One record per rule: ``rule``, ``value``, ``default``, ``source``."""
        default = DecisionRules()
        return [
            {"rule": f.name, "value": getattr(self, f.name),
             "default": getattr(default, f.name), "source": RULE_SOURCES[f.name]}
            for f in fields(self)
        ]
