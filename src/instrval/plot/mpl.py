"""The drawings of :mod:`instrval.plot.svg` as matplotlib figures.

Needs matplotlib (``pip install "instrval[plot]"``). Figures are built with
:class:`matplotlib.figure.Figure`, not ``pyplot``, so nothing is shown or registered
globally: display one in a notebook by evaluating it, or save it with ``fig.savefig()``.
Same inputs as the SVG functions; colours and the cut-off rule are the report's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from instrval.plot.svg import C_BAD, C_OK, C_TEXT

__all__ = ["relevance_chart", "scree_plot", "loadings_heatmap", "information_curves"]


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - exercised with matplotlib hidden
        raise ImportError("matplotlib figures need matplotlib: pip install "
                          '"instrval[plot]" (or use plot_svg() for SVG text)') from exc
    return Figure(figsize=(width, height), layout="constrained")


def scree_plot(table: pd.DataFrame, *, nfact: int | None = None,
               title: str = "Scree plot with parallel analysis") -> Any:
    """Observed (solid) and simulated (dashed) eigenvalues of factors and components."""
    fig = _figure(7, 4)
    ax = fig.add_subplot()
    x = table["factor"].astype(int).to_numpy()
    for col, name, colour, style in (
            ("observed_pc", "components, observed", C_OK, "-o"),
            ("simulated_pc", "components, simulated", C_OK, "--"),
            ("observed_fa", "factors, observed", "#d35400", "-o"),
            ("simulated_fa", "factors, simulated", "#d35400", "--")):
        if col in table:
            ax.plot(x, pd.to_numeric(table[col], errors="coerce"), style, color=colour,
                    label=name, markersize=3)
    ax.set_xlabel("factor / component number")
    ax.set_ylabel("eigenvalue")
    ax.set_title(title + (f" (suggested: {int(nfact)} factor(s))" if nfact is not None
                          else ""))
    ax.legend(frameon=False)
    return fig


def loadings_heatmap(loadings: pd.DataFrame, *, factors: Sequence[str] | None = None,
                     title: str = "Pattern loadings", min_show: float = 0.0) -> Any:
    """Pattern loadings as a heatmap (blue positive, red negative), values printed."""
    df = loadings.set_index("item_id") if "item_id" in loadings.columns else loadings
    factors = list(factors) if factors is not None else [
        c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    values = df[factors].to_numpy(dtype=float)
    fig = _figure(1.2 + 0.8 * len(factors), 1.0 + 0.25 * len(df))
    ax = fig.add_subplot()
    ax.imshow(values, cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(len(factors)), [str(f) for f in factors])
    ax.set_yticks(range(len(df)), [str(i) for i in df.index])
    for (i, j), v in _cells(values):
        if abs(v) >= min_show:
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if abs(v) >= 0.5 else C_TEXT)
    ax.set_title(title)
    return fig


def _cells(values: Any) -> list[tuple[tuple[int, int], float]]:
    return [((i, j), float(v)) for i, row in enumerate(values) for j, v in enumerate(row)
            if not math.isnan(float(v))]


def relevance_chart(items: pd.DataFrame, *, threshold: float, title: str,
                    labels: dict[str, str] | None = None, ci: str = "ci") -> Any:
    """Relevance ratio per item with interval whiskers; red below the dashed cut-off."""
    rows = items.reset_index(drop=True)
    fig = _figure(7, 0.8 + 0.28 * max(1, len(rows)))
    ax = fig.add_subplot()
    y = list(range(len(rows)))[::-1]
    ratio = pd.to_numeric(rows["ratio"], errors="coerce").fillna(0.0)
    bad = [(r is False) or (r is not True and v < threshold)
           for r, v in zip(rows.get("relevant", [None] * len(rows)), ratio, strict=True)]
    ax.barh(y, ratio, color=[C_BAD if b else C_OK for b in bad], alpha=0.85)
    lo = pd.to_numeric(rows.get(f"{ci}_low"), errors="coerce")
    hi = pd.to_numeric(rows.get(f"{ci}_high"), errors="coerce")
    if lo is not None and hi is not None:
        ax.errorbar(ratio, y, xerr=[(ratio - lo).clip(lower=0).fillna(0),
                                    (hi - ratio).clip(lower=0).fillna(0)],
                    fmt="none", ecolor=C_TEXT, elinewidth=1, capsize=3)
    ax.axvline(threshold, color=C_BAD, linestyle="--")
    names = [str(i) + (f" \u2013 {(labels or {}).get(str(i), '')}"
                       if (labels or {}).get(str(i)) else "") for i in rows["item_id"]]
    ax.set_yticks(y, names)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    ax.set_title(title)
    return fig


def information_curves(theta: Sequence[float], information: Any, *,
                       title: str = "Information", test: bool = True) -> Any:
    """Item information curves (thin) and the test information (thick, their sum)."""
    xs = [float(t) for t in theta]
    if hasattr(information, "columns"):
        curves = {str(c): list(information[c]) for c in information.columns}
    else:
        curves = {str(k): list(v) for k, v in dict(information).items()}
    fig = _figure(7, 4)
    ax = fig.add_subplot()
    only_test = "test" in curves and len(curves) == 1
    for k, vals in ({} if only_test else curves).items():
        ax.plot(xs, vals, linewidth=1, label=k)
    if only_test:
        ax.plot(xs, curves["test"], color=C_TEXT, linewidth=2.2, label="test information")
    elif test and curves:
        total = [sum(float(v[i]) for v in curves.values()) for i in range(len(xs))]
        ax.plot(xs, total, color=C_TEXT, linewidth=2.2, label="test information")
    ax.set_xlabel("theta")
    ax.set_ylabel("information")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=7)
    return fig
