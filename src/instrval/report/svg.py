"""The report's plots: the drawings of :mod:`instrval.plot.svg`, which the results'
``plot_svg()`` methods return too (one drawing for both)."""

from __future__ import annotations

from instrval.plot.svg import (
    distribution_bars,
    information_curves,
    loadings_heatmap,
    relevance_chart,
    scree_plot,
)

__all__ = ["relevance_chart", "scree_plot", "loadings_heatmap", "distribution_bars",
           "information_curves"]
