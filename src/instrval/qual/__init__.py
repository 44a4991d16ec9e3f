"""Qualitative evidence per item from coded interview segments.

:func:`item_evidence` judges each item's representativeness of its construct from coded
segments, picks exemplar quotes and lists missing-concept candidates.
"""

from instrval.qual.evidence import QualEvidence, item_evidence, primary_codings

__all__ = ["QualEvidence", "item_evidence", "primary_codings"]
