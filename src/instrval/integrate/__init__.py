"""Integration of the quantitative and qualitative strands.

* :func:`joint_display` -- the evidence on each item side by side, the convergence of the
  two strands, the proposed decision with the ids of the rules that fired, and the experts'
  decisions (:mod:`instrval.integrate.evidence`, :mod:`instrval.integrate.decisions`);
* :func:`revise_instrument` -- the revised instrument version
  (:mod:`instrval.integrate.revision`);
* :func:`cosmin_summary` -- an evidence summary structured like the COSMIN criteria
  (:mod:`instrval.integrate.cosmin`).
"""

from instrval.integrate.cosmin import CosminSummary, cosmin_summary
from instrval.integrate.decisions import (
    RULE_CATALOGUE,
    apply_expert_decisions,
    propose_decisions,
    rule_catalogue,
)
from instrval.integrate.evidence import JointDisplay, evidence_table, joint_display
from instrval.integrate.revision import next_version, revise_instrument

__all__ = [
    "JointDisplay",
    "joint_display",
    "evidence_table",
    "propose_decisions",
    "apply_expert_decisions",
    "rule_catalogue",
    "RULE_CATALOGUE",
    "revise_instrument",
    "next_version",
    "CosminSummary",
    "cosmin_summary",
]
