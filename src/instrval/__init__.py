"""instrval: validate questionnaire instruments with a convergent mixed-methods design.

The public API follows the one-way flow of a validation study:

read and check
    :func:`read_instrument`, :func:`read_ratings`, :func:`read_coding`,
    :func:`read_codebook`, :func:`read_panel`
statistics (pure functions, DataFrames in, frozen results out)
    relevance: :func:`relevance_ratios`;
    content validity: :func:`content_validity`;
    reliability: :func:`cronbach_alpha`, :func:`kr20`, :func:`alpha_for_construct`,
    :func:`icc`, :func:`score_items`, :func:`factor_scores`, :func:`retest`,
    :func:`evaluate_hypotheses`, :func:`criterion_validity`, :func:`auc_delong`,
    :func:`responsiveness`, :func:`omega`, :func:`omega_one_factor`;
    structure: :func:`correlation_matrix`, :func:`polychoric`, :func:`tetrachoric`,
    :func:`kmo`, :func:`bartlett`, :func:`eigenvalues`, :func:`parallel_analysis`,
    :func:`velicer_map`, :func:`efa`, :func:`cfa`, :func:`measurement_invariance`;
    item response theory: :func:`irt`;
    fairness: :func:`dif`;
    qualitative: :func:`item_evidence`; agreement: :func:`cohen_kappa`,
    :func:`fleiss_kappa`, :func:`krippendorff_alpha`, :func:`coder_agreement`
integrate and write
    :func:`instrument_diff`, :func:`run_validation`, :func:`write_report`,
    :func:`publish`

Every input problem raises an :class:`InstrvalError` subclass carrying every
:class:`Problem` found (file, row, column or key path, value, reason code).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from instrval._version import __version__
from instrval.errors import (
    CodingError,
    ConvergenceWarning,
    DataQualityWarning,
    ExportError,
    HeywoodWarning,
    InstrumentError,
    InstrvalError,
    InstrvalWarning,
    PanelError,
    Problem,
    PublishError,
    RatingsError,
    SmoothingWarning,
    StatisticsError,
    StudyError,
)

#: Public name -> the module that defines it. These are imported on first use, so that
#: ``import instrval`` (and every command-line call) stays fast.
_LAZY: dict[str, str] = {
    "read_ratings": "instrval.io.ratings",
    "check_ratings": "instrval.io.ratings",
    "iter_ratings": "instrval.io.ratings",
    "read_ratings_any": "instrval.io.engine",
    "scan_ratings": "instrval.io.engine",
    "scan_csv": "instrval.io.csv_engine",
    "RatingScan": "instrval.model.scan",
    "read_study": "instrval.io.study",
    "Study": "instrval.io.study",
    "read_decisions": "instrval.io.decisions",
    "read_item_data": "instrval.io.items",
    "read_item_table": "instrval.io.items",
    "read_cfa_model": "instrval.io.items",
    "ItemData": "instrval.io.items",
    "FitMeasures": "instrval.stats.sem.fitmeasures",
    "item_descriptives": "instrval.stats.descriptives",
    "scale_totals": "instrval.stats.descriptives",
    "joint_display": "instrval.integrate.evidence",
    "JointDisplay": "instrval.integrate.evidence",
    "cosmin_summary": "instrval.integrate.cosmin",
    "revise_instrument": "instrval.integrate.revision",
    "run_validation": "instrval.pipeline",
    "write_report": "instrval.pipeline",
    "ValidationResult": "instrval.pipeline",
    "generate_iam_ratings": "instrval.datasets.iam",
    "InstrumentDiff": "instrval.integrate.diff",
    "instrument_diff": "instrval.integrate.diff",
    "read_codebook": "instrval.io.coding",
    "read_coding": "instrval.io.coding",
    "export_instrument": "instrval.io.exports",
    "import_redcap_dictionary": "instrval.io.exports",
    "import_instrument": "instrval.io.exports",
    "redcap_field_map": "instrval.io.exports",
    "language_diff": "instrval.integrate.diff",
    "check_instrument_file": "instrval.io.instrument",
    "dumps_instrument": "instrval.io.instrument",
    "loads_instrument": "instrval.io.instrument",
    "read_instrument": "instrval.io.instrument",
    "write_instrument": "instrval.io.instrument",
    "PanelData": "instrval.io.panel",
    "read_panel": "instrval.io.panel",
    "PublishResult": "instrval.io.registry",
    "Registry": "instrval.io.registry",
    "publish": "instrval.io.registry",
    "instrument_schema": "instrval.io.schema",
    "Codebook": "instrval.model.coding",
    "CodingData": "instrval.model.coding",
    "Construct": "instrval.model.instrument",
    "Gate": "instrval.model.instrument",
    "Instrument": "instrval.model.instrument",
    "Item": "instrval.model.instrument",
    "Scale": "instrval.model.instrument",
    "RatingData": "instrval.model.ratings",
    "DecisionRules": "instrval.model.rules",
    "QualEvidence": "instrval.qual.evidence",
    "item_evidence": "instrval.qual.evidence",
    "coder_agreement": "instrval.stats.agreement",
    "cohen_kappa": "instrval.stats.agreement",
    "fleiss_kappa": "instrval.stats.agreement",
    "krippendorff_alpha": "instrval.stats.agreement",
    "percent_agreement": "instrval.stats.agreement",
    "CFAResult": "instrval.stats.cfa",
    "cfa": "instrval.stats.cfa",
    "OrdinalCFAResult": "instrval.stats.cfa_ordinal",
    "cfa_ordinal": "instrval.stats.cfa_ordinal",
    "InvarianceResult": "instrval.stats.sem.invariance",
    "measurement_invariance": "instrval.stats.sem.invariance",
    "DIFResult": "instrval.stats.dif",
    "dif": "instrval.stats.dif",
    "ContentValidityResult": "instrval.stats.content_validity",
    "content_validity": "instrval.stats.content_validity",
    "CorrelationResult": "instrval.stats.correlation",
    "correlation_matrix": "instrval.stats.correlation",
    "bartlett": "instrval.stats.dimensionality",
    "eigenvalues": "instrval.stats.dimensionality",
    "kmo": "instrval.stats.dimensionality",
    "parallel_analysis": "instrval.stats.dimensionality",
    "velicer_map": "instrval.stats.dimensionality",
    "EFAResult": "instrval.stats.efa",
    "efa": "instrval.stats.efa",
    "ICCResult": "instrval.stats.icc",
    "icc": "instrval.stats.icc",
    "IRTResult": "instrval.stats.irt",
    "irt": "instrval.stats.irt",
    "ScoreResult": "instrval.stats.scoring",
    "score_items": "instrval.stats.scoring",
    "FactorScoresResult": "instrval.stats.scoring",
    "factor_scores": "instrval.stats.scoring",
    "RetestResult": "instrval.stats.measurement_error",
    "retest": "instrval.stats.measurement_error",
    "Hypothesis": "instrval.model.hypotheses",
    "read_hypotheses": "instrval.io.hypotheses",
    "HypothesesResult": "instrval.stats.hypotheses",
    "evaluate_hypotheses": "instrval.stats.hypotheses",
    "AUCResult": "instrval.stats.criterion",
    "auc_delong": "instrval.stats.criterion",
    "CriterionResult": "instrval.stats.criterion",
    "criterion_validity": "instrval.stats.criterion",
    "ResponsivenessResult": "instrval.stats.criterion",
    "responsiveness": "instrval.stats.criterion",
    "binomial_interval": "instrval.stats.intervals",
    "wilson_interval": "instrval.stats.intervals",
    "OmegaResult": "instrval.stats.omega",
    "omega": "instrval.stats.omega",
    "omega_one_factor": "instrval.stats.omega",
    "polychoric": "instrval.stats.polychoric",
    "tetrachoric": "instrval.stats.polychoric",
    "RelevanceResult": "instrval.stats.relevance",
    "relevance_ratios": "instrval.stats.relevance",
    "AlphaResult": "instrval.stats.reliability",
    "alpha_for_construct": "instrval.stats.reliability",
    "cronbach_alpha": "instrval.stats.reliability",
    "kr20": "instrval.stats.reliability",
}

if TYPE_CHECKING:  # pragma: no cover
    from instrval.datasets.iam import generate_iam_ratings
    from instrval.integrate.cosmin import cosmin_summary
    from instrval.integrate.diff import InstrumentDiff, instrument_diff, language_diff
    from instrval.integrate.evidence import JointDisplay, joint_display
    from instrval.integrate.revision import revise_instrument
    from instrval.io.coding import read_codebook, read_coding
    from instrval.io.csv_engine import scan_csv
    from instrval.io.decisions import read_decisions
    from instrval.io.engine import read_ratings_any, scan_ratings
    from instrval.io.exports import (
        export_instrument,
        import_instrument,
        import_redcap_dictionary,
        redcap_field_map,
    )
    from instrval.io.hypotheses import read_hypotheses
    from instrval.io.instrument import (
        check_instrument_file,
        dumps_instrument,
        loads_instrument,
        read_instrument,
        write_instrument,
    )
    from instrval.io.items import ItemData, read_cfa_model, read_item_data, read_item_table
    from instrval.io.panel import PanelData, read_panel
    from instrval.io.ratings import check_ratings, iter_ratings, read_ratings
    from instrval.io.registry import PublishResult, Registry, publish
    from instrval.io.schema import instrument_schema
    from instrval.io.study import Study, read_study
    from instrval.model.coding import Codebook, CodingData
    from instrval.model.hypotheses import Hypothesis
    from instrval.model.instrument import Construct, Gate, Instrument, Item, Scale
    from instrval.model.ratings import RatingData
    from instrval.model.rules import DecisionRules
    from instrval.model.scan import RatingScan
    from instrval.pipeline import ValidationResult, run_validation, write_report
    from instrval.qual.evidence import QualEvidence, item_evidence
    from instrval.stats.agreement import (
        coder_agreement,
        cohen_kappa,
        fleiss_kappa,
        krippendorff_alpha,
        percent_agreement,
    )
    from instrval.stats.cfa import CFAResult, cfa
    from instrval.stats.cfa_ordinal import OrdinalCFAResult, cfa_ordinal
    from instrval.stats.content_validity import ContentValidityResult, content_validity
    from instrval.stats.correlation import CorrelationResult, correlation_matrix
    from instrval.stats.criterion import (
        AUCResult,
        CriterionResult,
        ResponsivenessResult,
        auc_delong,
        criterion_validity,
        responsiveness,
    )
    from instrval.stats.descriptives import item_descriptives, scale_totals
    from instrval.stats.dif import DIFResult, dif
    from instrval.stats.dimensionality import (
        bartlett,
        eigenvalues,
        kmo,
        parallel_analysis,
        velicer_map,
    )
    from instrval.stats.efa import EFAResult, efa
    from instrval.stats.hypotheses import HypothesesResult, evaluate_hypotheses
    from instrval.stats.icc import ICCResult, icc
    from instrval.stats.intervals import binomial_interval, wilson_interval
    from instrval.stats.irt import IRTResult, irt
    from instrval.stats.measurement_error import RetestResult, retest
    from instrval.stats.omega import OmegaResult, omega, omega_one_factor
    from instrval.stats.polychoric import polychoric, tetrachoric
    from instrval.stats.relevance import RelevanceResult, relevance_ratios
    from instrval.stats.reliability import AlphaResult, alpha_for_construct, cronbach_alpha, kr20
    from instrval.stats.scoring import FactorScoresResult, ScoreResult, factor_scores, score_items
    from instrval.stats.sem.fitmeasures import FitMeasures
    from instrval.stats.sem.invariance import InvarianceResult, measurement_invariance


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'instrval' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__",
    # model
    "Instrument",
    "Construct",
    "Item",
    "Gate",
    "Scale",
    "RatingData",
    "CodingData",
    "Codebook",
    "PanelData",
    "DecisionRules",
    # reading and writing
    "read_instrument",
    "loads_instrument",
    "dumps_instrument",
    "write_instrument",
    "check_instrument_file",
    "read_coding",
    "read_codebook",
    "read_panel",
    "read_ratings",
    "check_ratings",
    "iter_ratings",
    "read_ratings_any",
    "scan_ratings",
    "scan_csv",
    "RatingScan",
    "read_study",
    "Study",
    "read_decisions",
    "read_item_data",
    "read_item_table",
    "read_cfa_model",
    "ItemData",
    "generate_iam_ratings",
    "instrument_schema",
    "export_instrument",
    "import_redcap_dictionary",
    "import_instrument",
    "language_diff",
    "redcap_field_map",
    "publish",
    "Registry",
    "PublishResult",
    # statistics
    "relevance_ratios",
    "RelevanceResult",
    "binomial_interval",
    "wilson_interval",
    "content_validity",
    "ContentValidityResult",
    "cronbach_alpha",
    "kr20",
    "alpha_for_construct",
    "AlphaResult",
    "icc",
    "ICCResult",
    "irt",
    "IRTResult",
    "score_items",
    "ScoreResult",
    "factor_scores",
    "FactorScoresResult",
    "retest",
    "RetestResult",
    "Hypothesis",
    "read_hypotheses",
    "evaluate_hypotheses",
    "HypothesesResult",
    "auc_delong",
    "AUCResult",
    "criterion_validity",
    "CriterionResult",
    "responsiveness",
    "ResponsivenessResult",
    "omega",
    "omega_one_factor",
    "OmegaResult",
    "correlation_matrix",
    "CorrelationResult",
    "polychoric",
    "tetrachoric",
    "kmo",
    "bartlett",
    "eigenvalues",
    "parallel_analysis",
    "velicer_map",
    "efa",
    "EFAResult",
    "cfa",
    "CFAResult",
    "FitMeasures",
    "cfa_ordinal",
    "OrdinalCFAResult",
    "measurement_invariance",
    "InvarianceResult",
    "dif",
    "DIFResult",
    "item_evidence",
    "QualEvidence",
    "percent_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "coder_agreement",
    "item_descriptives",
    "scale_totals",
    # integration
    "joint_display",
    "JointDisplay",
    "cosmin_summary",
    "revise_instrument",
    "run_validation",
    "write_report",
    "ValidationResult",
    "instrument_diff",
    "InstrumentDiff",
    # errors and warnings
    "InstrvalError",
    "InstrumentError",
    "RatingsError",
    "CodingError",
    "PanelError",
    "StudyError",
    "PublishError",
    "ExportError",
    "StatisticsError",
    "Problem",
    "InstrvalWarning",
    "ConvergenceWarning",
    "HeywoodWarning",
    "SmoothingWarning",
    "DataQualityWarning",
]
