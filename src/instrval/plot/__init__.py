"""Figures of results: the report's drawings as SVG text, or as matplotlib figures.

Every result has ``plot_svg()`` and ``plot()`` (see :class:`instrval._result.Result`);
those with a figure are

============================  ====================================================
result                        figure
============================  ====================================================
``ParallelResult``            scree plot with parallel analysis
                              (:func:`~instrval.plot.svg.scree_plot`)
``EFAResult``                 heatmap of the pattern loadings
                              (:func:`~instrval.plot.svg.loadings_heatmap`)
``RelevanceResult``           relevance ratio per item with its interval and the
                              cut-off (:func:`~instrval.plot.svg.relevance_chart`)
``IRTResult``, or a result    item and test information curves
with ``theta`` and            (:func:`~instrval.plot.svg.information_curves`)
``information``
============================  ====================================================

The functions of :mod:`instrval.plot.svg` draw from plain tables too, and
:mod:`instrval.plot.mpl` has their matplotlib twins (``pip install "instrval[plot]"``).
A leaf package: it reads results by their attributes and imports no other part of
instrval.

>>> from instrval.plot import figure_svg
>>> figure_svg(object())
Traceback (most recent call last):
...
TypeError: no figure for a object; figures exist for ParallelResult, EFAResult, RelevanceResult, IRTResult and results with theta and information
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["figure_svg", "figure_matplotlib"]

_KNOWN = ("ParallelResult, EFAResult, RelevanceResult, IRTResult and results with theta and "
          "information")


def _kind(result: Any) -> str:
    names = {c.__name__ for c in type(result).__mro__}
    if "ParallelResult" in names:
        return "scree"
    if "EFAResult" in names:
        return "loadings"
    if "RelevanceResult" in names:
        return "relevance"
    if hasattr(result, "theta") and hasattr(result, "information"):
        return "information"
    info: Any = getattr(result, "information", None)
    if hasattr(info, "columns") and {"theta", "item_id", "information"} <= set(info.columns):
        return "information"
    raise TypeError(f"no figure for a {type(result).__name__}; figures exist for {_KNOWN}")


def _arguments(kind: str, result: Any, options: dict[str, Any]) -> tuple[tuple, dict]:
    """The table and keyword arguments of the drawing of ``result``."""
    opts = dict(options)
    if kind == "scree":
        opts.setdefault("nfact", result.nfact)
        return (result.table,), opts
    if kind == "loadings":
        opts.setdefault("factors", result.factors)
        opts.setdefault("title", f"Pattern loadings ({result.method}, {result.rotation})")
        return (result.loadings,), opts
    if kind == "relevance":
        items = result.items
        construct = opts.pop("construct", None)
        if construct is not None:
            items = items[items["construct_id"] == construct]
        opts.setdefault("threshold", result.threshold)
        opts.setdefault("title", "Relevance ratio" + (f" ({construct})" if construct else ""))
        return (items,), opts
    if hasattr(result, "theta"):
        return (result.theta, result.information), opts
    # a long table (theta, item_id, information), as IRTResult.information
    wide = result.information.pivot(index="theta", columns="item_id", values="information")
    wide = wide[list(dict.fromkeys(result.information["item_id"]))]
    opts.setdefault("title", "Item and test information")
    return (list(wide.index), wide), opts


def figure_svg(result: Any, **options: Any) -> str:
    """The report's drawing of ``result`` as an SVG string; ``options`` go to the drawing
    function (e.g. ``title=``; ``construct=`` picks one construct of a relevance result)."""
    from instrval.plot import svg

    kind = _kind(result)
    args, opts = _arguments(kind, result, options)
    draw: dict[str, Callable[..., str]] = {
        "scree": svg.scree_plot, "loadings": svg.loadings_heatmap,
        "relevance": svg.relevance_chart, "information": svg.information_curves}
    return draw[kind](*args, **opts)


def figure_matplotlib(result: Any, **options: Any) -> Any:
    """The same drawing as a matplotlib ``Figure`` (needs matplotlib: the ``plot`` extra)."""
    from instrval.plot import mpl

    kind = _kind(result)
    args, opts = _arguments(kind, result, options)
    draw: dict[str, Callable[..., Any]] = {
        "scree": mpl.scree_plot, "loadings": mpl.loadings_heatmap,
        "relevance": mpl.relevance_chart, "information": mpl.information_curves}
    return draw[kind](*args, **opts)
