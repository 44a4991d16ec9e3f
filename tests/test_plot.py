"""Figures from the API: the results' plot_svg() returns the report's drawing, plot()
its matplotlib twin; information curves for a theta grid."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval import read_instrument, read_ratings, relevance_ratios
from instrval.plot import figure_svg, mpl
from instrval.plot.svg import information_curves
from instrval.report import svg as report_svg
from instrval.stats.dimensionality import kmo, parallel_analysis
from instrval.stats.efa import efa

ROOT = Path(__file__).resolve().parents[1]
BFI = pd.read_csv(ROOT / "tests" / "data" / "bfi.csv", index_col=0).iloc[:, :10]


@pytest.fixture(scope="module")
def results():
    inst = read_instrument(ROOT / "instruments" / "iam" / "iam-2011.yaml")
    ratings = read_ratings(ROOT / "examples" / "iam" / "data" / "iam-sample.csv", inst)
    return SimpleNamespace(pa=parallel_analysis(BFI, n_iter=3, seed=1),
                           efa=efa(BFI, n_factors=2),
                           rel=relevance_ratios(ratings, cluster=False))


def test_plot_svg_is_the_report_drawing(results):
    pa, fa, rel = results.pa, results.efa, results.rel
    assert pa.plot_svg() == report_svg.scree_plot(pa.table, nfact=pa.nfact)
    assert fa.plot_svg() == report_svg.loadings_heatmap(
        fa.loadings, factors=fa.factors, title="Pattern loadings (minres, oblimin)")
    cid = rel.items["construct_id"].iloc[0]
    g = rel.items[rel.items["construct_id"] == cid]
    assert rel.plot_svg(construct=cid, title="T") == report_svg.relevance_chart(
        g, threshold=rel.threshold, title="T")
    whole = rel.plot_svg()
    assert whole.count("<rect") == int(rel.items["ratio"].notna().sum())
    assert 'aria-label="Relevance ratio"' in whole


def test_information_curves_draw_items_and_their_sum():
    theta = [-2, -1, 0, 1, 2]
    info = {"i1": [0.1, 0.3, 0.5, 0.3, 0.1], "i2": [0.05, 0.2, 0.4, 0.6, 0.3]}
    text = information_curves(theta, info, title="Test information")
    lines = re.findall(r'<polyline points="([^"]+)"[^>]*><title>([^<]+)</title>', text)
    assert [name for _, name in lines] == ["i1", "i2", "test information"]
    # y pixel = top + (ymax - v) / ymax * ph with top 28, ph 236, ymax 0.9 (ticks of 0.1)
    ys = [float(p.split(",")[1]) for p in lines[2][0].split()]
    total = [a + b for a, b in zip(info["i1"], info["i2"], strict=True)]
    assert_allclose(ys, [28 + (0.9 - v) / 0.9 * 236 for v in total], atol=0.051)
    frame = pd.DataFrame(info)
    assert information_curves(theta, frame, title="Test information") == text
    with pytest.raises(ValueError, match="3 values for 5 theta points"):
        information_curves(theta, {"i1": [1, 2, 3]})
    irt_like = SimpleNamespace(theta=theta, information=info)
    assert figure_svg(irt_like, title="Test information") == text


def test_results_without_a_figure_say_so():
    with pytest.raises(TypeError, match="no figure for a KMOResult"):
        kmo(BFI).plot_svg()


def test_matplotlib_figures(results):
    import matplotlib  # noqa: F401 - in the test extra (the plot extra)
    fig = results.pa.plot()
    ax = fig.axes[0]
    assert len(ax.lines) == 4 and "suggested: " in ax.get_title()
    observed = ax.lines[0].get_ydata()
    assert_allclose(observed, results.pa.table["observed_pc"].to_numpy(float))
    fig = results.efa.plot()
    assert_allclose(fig.axes[0].images[0].get_array(), results.efa.loading_matrix)
    fig = results.rel.plot()
    assert len(fig.axes[0].patches) == len(results.rel.items)
    fig = mpl.information_curves([-1, 0, 1], {"test": [0.2, 0.5, 0.2]})
    assert [ln.get_label() for ln in fig.axes[0].lines] == ["test information"]
    buf = io.BytesIO()
    fig.savefig(buf, format="svg")
    assert buf.getvalue().lstrip().startswith(b"<?xml")


def test_matplotlib_missing_gives_a_clear_error(results, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "instrval\[plot\]"'):
        results.pa.plot()
    assert results.pa.plot_svg().startswith("<svg")  # SVG needs no plotting library


def test_irt_result_draws_item_and_test_information():
    from instrval.stats.irt import irt

    data = pd.read_csv(ROOT / "tests" / "data" / "bfi.csv", index_col=0)[
        ["A1", "A2", "A3", "A4", "A5"]].dropna().head(400) - 1
    res = irt(data, model="grm", lr_test=False, theta_grid=np.linspace(-3, 3, 13))
    text = res.plot_svg()
    names = re.findall(r"</polyline>|<title>([^<]+)</title></polyline>", text)
    assert [n for n in names if n] == ["A1", "A2", "A3", "A4", "A5", "test information"]
    ys = [float(p.split(",")[1]) for p in re.findall(
        r'<polyline points="([^"]+)"[^>]*><title>test information', text)[0].split()]
    total = res.test_information["information"].to_numpy(float)
    ymax = float(re.findall(r'text-anchor="end" fill="#222">([0-9.]+)</text>', text)[-1])
    assert_allclose(ys, 28 + (ymax - total) / ymax * 236, atol=0.051)
    fig = res.plot()
    assert fig.axes[0].lines[-1].get_label() == "test information"
    assert_allclose(fig.axes[0].lines[-1].get_ydata(), total, rtol=1e-12)
