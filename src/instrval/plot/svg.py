"""Plots as inline SVG, written by hand (no plotting library, no external resources).

The drawings of the report (:mod:`instrval.report.html` embeds them) and of the results'
``plot_svg()`` methods. A leaf module: it imports pandas and nothing of instrval.

Every text that reaches an SVG goes through :func:`html.escape`; numbers are formatted
here (rounding happens only in rendering).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

import pandas as pd

__all__ = ["relevance_chart", "scree_plot", "loadings_heatmap", "distribution_bars",
           "information_curves"]

FONT = "font-size:11px"
C_OK = "#3b6ea5"
C_BAD = "#c0392b"
C_GRID = "#d9d9d9"
C_TEXT = "#222"


def _e(text: Any) -> str:
    return escape(str(text), quote=True)


def _num(v: Any) -> float | None:
    if v is None or v is pd.NA:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _open(w: float, h: float, title: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h:.0f}" '
            f'width="{w:.0f}" height="{h:.0f}" role="img" aria-label="{_e(title)}" '
            f'class="plot" style="{FONT}">', f"<title>{_e(title)}</title>"]


def _trunc(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def relevance_chart(items: pd.DataFrame, *, threshold: float, title: str,
                    labels: dict[str, str] | None = None, ci: str = "ci") -> str:
    """Horizontal bars of the relevance ratio per item, with interval whiskers and a
    dashed line at the cut-off. Items below the cut-off are red.

    ``items`` has ``item_id``, ``ratio``, ``ci_low``, ``ci_high`` (and ``relevant``).
    """
    rows = items.to_dict(orient="records")
    label_w, plot_w, bar_h, gap, top, bottom = 420, 380, 14, 6, 44, 34
    h = top + len(rows) * (bar_h + gap) + bottom
    w = label_w + plot_w + 70
    hi_val = max([_num(r.get("ci_high")) or _num(r.get("ratio")) or 0 for r in rows]
                 + [threshold])
    xmax = min(1.0, max(0.1, math.ceil(hi_val * 10 + 0.5) / 10))

    def x(v: float) -> float:
        return label_w + plot_w * v / xmax

    out = _open(w, h, title)
    out.append(f'<text x="4" y="14" style="font-weight:600" fill="{C_TEXT}">'
               f"{_e(title)}</text>")
    step = 0.1 if xmax <= 0.6 else 0.2
    t = 0.0
    while t <= xmax + 1e-9:
        xx = x(t)
        out.append(f'<line x1="{xx:.1f}" y1="{top - 4}" x2="{xx:.1f}" '
                   f'y2="{h - bottom + 2}" stroke="{C_GRID}" stroke-width="0.6"/>')
        out.append(f'<text x="{xx:.1f}" y="{h - bottom + 16}" text-anchor="middle" '
                   f'fill="{C_TEXT}">{100 * t:.0f}%</text>')
        t += step
    for i, r in enumerate(rows):
        y = top + i * (bar_h + gap)
        ratio = _num(r.get("ratio"))
        lab = (labels or {}).get(str(r["item_id"]), "")
        text = f"{r['item_id']}" + (f" \u2013 {lab}" if lab else "")
        short = _trunc(text, int(label_w / 5.6))
        out.append(f'<text x="{label_w - 6}" y="{y + bar_h - 3}" text-anchor="end" '
                   f'fill="{C_TEXT}"><title>{_e(text)}</title>{_e(short)}</text>')
        if ratio is None:
            out.append(f'<text x="{label_w + 4}" y="{y + bar_h - 3}" fill="#777">'
                       "not presented</text>")
            continue
        bad = r.get("relevant") is False or (r.get("relevant") is None and ratio < threshold)
        col = C_BAD if bad else C_OK
        out.append(f'<rect x="{label_w}" y="{y}" width="{max(0.5, x(ratio) - label_w):.1f}" '
                   f'height="{bar_h}" fill="{col}" fill-opacity="0.85"/>')
        lo, hi = _num(r.get(f"{ci}_low")), _num(r.get(f"{ci}_high"))
        if lo is not None and hi is not None:
            ym = y + bar_h / 2
            out.append(f'<path d="M{x(lo):.1f},{ym:.1f}H{x(hi):.1f}M{x(lo):.1f},{ym - 4:.1f}'
                       f'V{ym + 4:.1f}M{x(hi):.1f},{ym - 4:.1f}V{ym + 4:.1f}" '
                       f'stroke="{C_TEXT}" stroke-width="1.1" fill="none"/>')
        out.append(f'<text x="{x(hi if hi is not None else ratio) + 5:.1f}" '
                   f'y="{y + bar_h - 3}" fill="{C_TEXT}">{100 * ratio:.2f}%</text>')
    xc = x(threshold)
    out.append(f'<line x1="{xc:.1f}" y1="{top - 8}" x2="{xc:.1f}" y2="{h - bottom + 2}" '
               f'stroke="{C_BAD}" stroke-width="1.4" stroke-dasharray="5,3"/>')
    out.append(f'<text x="{xc + 3:.1f}" y="{top - 12}" fill="{C_BAD}">cut-off '
               f"{100 * threshold:g}%</text>")
    out.append("</svg>")
    return "".join(out)


def scree_plot(table: pd.DataFrame, *, nfact: int | None = None,
               title: str = "Scree plot with parallel analysis") -> str:
    """Observed and simulated eigenvalues (factors and components) against the factor
    number. ``table``: ``factor``, ``observed_fa``, ``simulated_fa``, ``observed_pc``,
    ``simulated_pc``."""
    w, h, left, right, top, bottom = 560, 300, 48, 150, 28, 36
    pw, ph = w - left - right, h - top - bottom
    series = [("observed_pc", "components, observed", "#3b6ea5", ""),
              ("simulated_pc", "components, simulated", "#3b6ea5", "4,3"),
              ("observed_fa", "factors, observed", "#d35400", ""),
              ("simulated_fa", "factors, simulated", "#d35400", "4,3")]
    xs = list(table["factor"].astype(int))
    ymax = max(1.0, max(float(pd.to_numeric(table[c], errors="coerce").max())
                        for c, *_ in series if c in table))
    ymax = math.ceil(ymax)
    ymin = min(0.0, min(float(pd.to_numeric(table[c], errors="coerce").min())
                        for c, *_ in series if c in table))
    ymin = math.floor(ymin)

    def px(f: float) -> float:
        return left + (f - 1) / max(1, len(xs) - 1) * pw

    def py(v: float) -> float:
        return top + (ymax - v) / (ymax - ymin) * ph

    out = _open(w, h, title)
    out.append(f'<text x="{left}" y="16" style="font-weight:600" fill="{C_TEXT}">'
               f"{_e(title)}</text>")
    for v in range(int(ymin), int(ymax) + 1):
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(v):.1f}" y2="{py(v):.1f}" '
                   f'stroke="{C_GRID}" stroke-width="0.6"/>')
        out.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end" '
                   f'fill="{C_TEXT}">{v}</text>')
    for f in xs:
        if len(xs) <= 15 or f % 5 == 0 or f == 1:
            out.append(f'<text x="{px(f):.1f}" y="{top + ph + 16}" text-anchor="middle" '
                       f'fill="{C_TEXT}">{f}</text>')
    out.append(f'<text x="{left + pw / 2:.1f}" y="{h - 4}" text-anchor="middle" '
               f'fill="{C_TEXT}">factor / component number</text>')
    for j, (col, name, colour, dash) in enumerate(series):
        if col not in table:
            continue
        vals = pd.to_numeric(table[col], errors="coerce").tolist()
        pts = " ".join(f"{px(f):.1f},{py(v):.1f}" for f, v in zip(xs, vals, strict=True)
                       if v == v)
        da = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                   f'stroke-width="1.5"{da}/>')
        if not dash:
            for f, v in zip(xs, vals, strict=True):
                if v == v:
                    out.append(f'<circle cx="{px(f):.1f}" cy="{py(v):.1f}" r="2.2" '
                               f'fill="{colour}"/>')
        ly = top + 8 + j * 16
        out.append(f'<line x1="{left + pw + 12}" x2="{left + pw + 34}" y1="{ly}" y2="{ly}" '
                   f'stroke="{colour}" stroke-width="1.5"{da}/>')
        out.append(f'<text x="{left + pw + 38}" y="{ly + 4}" fill="{C_TEXT}">{_e(name)}</text>')
    if nfact is not None:
        out.append(f'<text x="{left + pw + 12}" y="{top + 8 + 4 * 16 + 6}" '
                   f'fill="{C_TEXT}">suggested: {int(nfact)} factor(s)</text>')
    out.append("</svg>")
    return "".join(out)


def _heat(v: float) -> str:
    """Diverging colour: blue for positive, red for negative loadings, white at 0."""
    a = max(-1.0, min(1.0, v))
    base = (59, 110, 165) if a >= 0 else (192, 57, 43)
    t = abs(a)
    r, g, b = (round(255 + (c - 255) * t) for c in base)
    return f"#{r:02x}{g:02x}{b:02x}"


def loadings_heatmap(loadings: pd.DataFrame, *, factors: Sequence[str] | None = None,
                     title: str = "Pattern loadings", min_show: float = 0.0) -> str:
    """A heatmap of the pattern loadings, items as rows and factors as columns, with the
    loading printed in each cell (blue positive, red negative)."""
    df = loadings.set_index("item_id") if "item_id" in loadings.columns else loadings
    factors = list(factors) if factors is not None else [
        c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    # the label column fits the longest item label (about 6.4 px a character at 11 px)
    longest = max([len(str(i)) for i in df.index] + [6])
    cell_w, cell_h, top = 58, 17, 40
    left = int(12 + 6.4 * longest)
    w = max(left + cell_w * len(factors) + 20, 12 + 6.4 * len(title))
    h = top + cell_h * len(df) + 12
    out = _open(w, h, title)
    out.append(f'<text x="4" y="14" style="font-weight:600" fill="{C_TEXT}">{_e(title)}</text>')
    for j, f in enumerate(factors):
        out.append(f'<text x="{left + j * cell_w + cell_w / 2:.1f}" y="{top - 6}" '
                   f'text-anchor="middle" fill="{C_TEXT}">{_e(f)}</text>')
    for i, (item, row) in enumerate(df.iterrows()):
        y = top + i * cell_h
        out.append(f'<text x="{left - 6}" y="{y + cell_h - 5}" text-anchor="end" '
                   f'fill="{C_TEXT}">{_e(item)}</text>')
        for j, f in enumerate(factors):
            v = _num(row[f])
            fill = _heat(v) if v is not None else "#fff"
            out.append(f'<rect x="{left + j * cell_w}" y="{y}" width="{cell_w - 1}" '
                       f'height="{cell_h - 1}" fill="{fill}"/>')
            if v is not None and abs(v) >= min_show:
                col = "#fff" if abs(v) >= 0.5 else C_TEXT
                out.append(f'<text x="{left + j * cell_w + cell_w / 2:.1f}" '
                           f'y="{y + cell_h - 5}" text-anchor="middle" fill="{col}" '
                           f'style="font-variant-numeric:tabular-nums">{v:.2f}</text>')
    out.append("</svg>")
    return "".join(out)


_OPTION_COLOURS = ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac",
                   "#053061", "#1a1a1a")
#: ColorBrewer RdBu, diverging, by number of response options (low = red, high = blue).
_DIVERGING = {
    3: ("#ef8a62", "#f7f7f7", "#67a9cf"),
    4: ("#ca0020", "#f4a582", "#92c5de", "#0571b0"),
    5: ("#ca0020", "#f4a582", "#f7f7f7", "#92c5de", "#0571b0"),
    6: ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac"),
    7: ("#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7", "#d1e5f0", "#67a9cf", "#2166ac"),
    8: ("#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#d1e5f0", "#92c5de", "#4393c3",
        "#2166ac"),
}


def distribution_bars(distribution: pd.DataFrame, items: pd.DataFrame, *,
                      title: str = "Response distribution",
                      labels: dict[int, str] | None = None) -> str:
    """Stacked horizontal bars: the share of answers at each option, one bar per item.
    Items with a floor or ceiling flag are marked with a triangle."""
    ids = list(items["item_id"])
    opts = sorted(distribution["value"].dropna().astype(int).unique().tolist())
    if not opts:
        return ""
    if len(opts) <= 2:
        colours = {o: ("#d9d9d9", C_OK)[min(k, 1)] for k, o in enumerate(opts)}
    elif len(opts) in _DIVERGING:
        colours = dict(zip(opts, _DIVERGING[len(opts)], strict=True))
    else:
        colours = {o: C_OK for o in opts}
    left = int(12 + 6.4 * max([len(str(i)) for i in ids] + [6]))
    bw, bh, gap = 400, 12, 4
    w = left + bw + 40
    legend = []
    lx, ly = float(left), 22.0
    for o in opts:
        name = _trunc((labels or {}).get(o, str(o)), 22)
        width = 16 + 6.0 * len(name) + 12
        if lx + width > w and lx > left:
            lx, ly = float(left), ly + 15
        legend.append(f'<rect x="{lx:.0f}" y="{ly:.0f}" width="10" height="10" '
                      f'fill="{colours[o]}" stroke="#999" stroke-width="0.5"/><text x="{lx + 13:.0f}" y="{ly + 9:.0f}" '
                      f'fill="{C_TEXT}">{_e(name)}</text>')
        lx += width
    top = ly + 22
    h = top + len(ids) * (bh + gap) + 10
    out = _open(w, h, title)
    out.append(f'<text x="4" y="14" style="font-weight:600" fill="{C_TEXT}">{_e(title)}</text>')
    out.extend(legend)
    by_item = {k: g for k, g in distribution.groupby("item_id", sort=False)}
    flags = {r["item_id"]: bool(r.get("floor_flag") is True or r.get("ceiling_flag") is True)
             for r in items.to_dict(orient="records")}
    for i, it in enumerate(ids):
        y = top + i * (bh + gap)
        out.append(f'<text x="{left - 6}" y="{y + bh - 2}" text-anchor="end" '
                   f'fill="{C_TEXT}">{_e(it)}</text>')
        g = by_item.get(it)
        if g is None:
            continue
        x0 = float(left)
        for rec in g.sort_values("value").to_dict(orient="records"):
            s = _num(rec["share"]) or 0.0
            wd = bw * s
            if wd > 0:
                out.append(f'<rect x="{x0:.1f}" y="{y}" width="{wd:.1f}" height="{bh}" '
                           f'fill="{colours.get(int(rec["value"]), C_OK)}"><title>'
                           f'{_e(it)} = {int(rec["value"])}: {100 * s:.1f}%</title></rect>')
            x0 += wd
        if flags.get(it):
            out.append(f'<text x="{left + bw + 4}" y="{y + bh - 2}" fill="{C_BAD}">'
                       "\u25b2</text>")
    out.append("</svg>")
    return "".join(out)


_CURVE_COLOURS = ("#3b6ea5", "#d35400", "#27ae60", "#8e44ad", "#c0392b", "#16a085",
                  "#7f8c8d", "#b7950b")


def information_curves(theta: Sequence[float], information: Any, *,
                       title: str = "Information", test: bool = True) -> str:
    """Item (thin lines) and test (thick line, their sum) information against theta.

    ``theta`` is the grid (ascending); ``information`` a mapping of item id to one value
    per grid point, or a DataFrame with one column per item. With ``test=False`` only the
    item curves are drawn; a single curve named ``test`` is drawn as the test curve.

    >>> svg = information_curves([-1, 0, 1], {"i1": [0.1, 0.25, 0.1], "i2": [0.2, 0.2, 0.1]})
    >>> svg.startswith("<svg") and "test information" in svg
    True
    """
    xs = [float(t) for t in theta]
    if hasattr(information, "columns"):
        curves = {str(c): [float(v) for v in information[c]] for c in information.columns}
    else:
        curves = {str(k): [float(v) for v in vals] for k, vals in dict(information).items()}
    for k, vals in curves.items():
        if len(vals) != len(xs):
            raise ValueError(f"information of {k!r} has {len(vals)} values for "
                             f"{len(xs)} theta points")
    total: list[float] | None = None
    if "test" in curves and len(curves) == 1:
        total, curves = curves["test"], {}
    elif test and curves:
        total = [sum(v[i] for v in curves.values()) for i in range(len(xs))]
    w, h, left, right, top, bottom = 560, 300, 48, 150, 28, 36
    pw, ph = w - left - right, h - top - bottom
    finite = [v for vals in [*curves.values(), total or []] for v in vals if v == v]
    ymax = max([1e-9, *finite])
    step = 10 ** math.floor(math.log10(ymax)) if ymax > 0 else 1.0
    ymax = math.ceil(ymax / step) * step
    x0, x1 = (xs[0], xs[-1]) if xs else (0.0, 1.0)

    def px(t: float) -> float:
        return left + (t - x0) / ((x1 - x0) or 1.0) * pw

    def py(v: float) -> float:
        return top + (ymax - v) / ymax * ph

    out = _open(w, h, title)
    out.append(f'<text x="{left}" y="16" style="font-weight:600" fill="{C_TEXT}">'
               f"{_e(title)}</text>")
    n_ticks = int(round(ymax / step))
    for i in range(n_ticks + 1):
        v = i * step
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(v):.1f}" y2="{py(v):.1f}" '
                   f'stroke="{C_GRID}" stroke-width="0.6"/>')
        out.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end" '
                   f'fill="{C_TEXT}">{v:g}</text>')
    for t in range(math.ceil(x0), math.floor(x1) + 1):
        out.append(f'<text x="{px(t):.1f}" y="{top + ph + 16}" text-anchor="middle" '
                   f'fill="{C_TEXT}">{t}</text>')
    out.append(f'<text x="{left + pw / 2:.1f}" y="{h - 4}" text-anchor="middle" '
               f'fill="{C_TEXT}">theta</text>')
    legend = [(k, vals, _CURVE_COLOURS[j % len(_CURVE_COLOURS)], "1.1")
              for j, (k, vals) in enumerate(curves.items())]
    if total is not None:
        legend.append(("test information", total, C_TEXT, "2.2"))
    for j, (name, vals, colour, width) in enumerate(legend):
        pts = " ".join(f"{px(t):.1f},{py(v):.1f}" for t, v in zip(xs, vals, strict=True)
                       if v == v)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                   f'stroke-width="{width}"><title>{_e(name)}</title></polyline>')
        if j < 12 or name == "test information":
            ly = top + 8 + min(j, 12) * 16
            out.append(f'<line x1="{left + pw + 12}" x2="{left + pw + 34}" y1="{ly}" '
                       f'y2="{ly}" stroke="{colour}" stroke-width="{width}"/>')
            out.append(f'<text x="{left + pw + 38}" y="{ly + 4}" fill="{C_TEXT}">'
                       f"{_e(_trunc(name, 16))}</text>")
    out.append("</svg>")
    return "".join(out)
