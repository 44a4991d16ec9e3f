"""instrval: validate questionnaire instruments with a convergent mixed-methods design.

The public API follows the one-way flow of a validation study:

read and check
    :func:`read_instrument`, :func:`read_ratings`, :func:`read_coding`,
    :func:`read_codebook`, :func:`read_panel`
statistics (pure functions, DataFrames in, frozen results out)
    relevance: :func:`relevance_ratios`;
    content validity: :func:`content_validity`;
    reliability: :func:`cronbach_alpha`, :func:`kr20`, :func:`alpha_for_construct`,
    :func:`icc`, :func:`omega`, :func:`omega_one_factor`;
    structure: :func:`correlation_matrix`, :func:`polychoric`, :func:`tetrachoric`,
    :func:`kmo`, :func:`bartlett`, :func:`eigenvalues`, :func:`parallel_analysis`,
    :func:`velicer_map`, :func:`efa`, :func:`cfa`;
    qualitative: :func:`item_evidence`; agreement: :func:`cohen_kappa`,
    :func:`fleiss_kappa`, :func:`krippendorff_alpha`, :func:`coder_agreement`
integrate and write
    :func:`instrument_diff`, :func:`run_validation`, :func:`write_report`,
    :func:`publish`

Every input problem raises an :class:`InstrvalError` subclass carrying every
:class:`Problem` found (file, row, column or key path, value, reason code).
"""

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
from instrval.integrate.diff import InstrumentDiff, instrument_diff
from instrval.io.coding import read_codebook, read_coding
from instrval.io.exports import export_instrument, import_redcap_dictionary, redcap_field_map
from instrval.io.instrument import (
    check_instrument_file,
    dumps_instrument,
    loads_instrument,
    read_instrument,
    write_instrument,
)
from instrval.io.panel import PanelData, read_panel
from instrval.io.registry import PublishResult, Registry, publish
from instrval.io.schema import instrument_schema
from instrval.model.coding import Codebook, CodingData
from instrval.model.instrument import Construct, Gate, Instrument, Item, Scale
from instrval.model.ratings import RatingData
from instrval.model.rules import DecisionRules
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
from instrval.stats.dimensionality import (
    bartlett,
    eigenvalues,
    kmo,
    parallel_analysis,
    velicer_map,
)
from instrval.stats.efa import EFAResult, efa
from instrval.stats.icc import ICCResult, icc
from instrval.stats.intervals import binomial_interval, wilson_interval
from instrval.stats.omega import OmegaResult, omega, omega_one_factor
from instrval.stats.polychoric import polychoric, tetrachoric
from instrval.stats.relevance import RelevanceResult, relevance_ratios
from instrval.stats.reliability import AlphaResult, alpha_for_construct, cronbach_alpha, kr20

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
    "instrument_schema",
    "export_instrument",
    "import_redcap_dictionary",
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
    "cfa_ordinal",
    "OrdinalCFAResult",
    "item_evidence",
    "QualEvidence",
    "percent_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "coder_agreement",
    # integration
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
