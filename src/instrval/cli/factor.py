"""`instrval` commands: efa, factors (how many factors), omega."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from instrval.cli._base import echo_table, emit_json, main, p_text
from instrval.cli._input import DataPath, export_options
from instrval.errors import StatisticsError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["efa_command", "factors_command", "omega_command"]


def _load_items(data: str, instrument: str | None, items: str | None, *,
                reverse: bool, fmt: str | None = None, mapping: str | None = None,
                dictionary: str | None = None) -> pd.DataFrame:
    """The item columns of DATA (:func:`instrval.io.items.read_item_data`): ``--items``,
    the instrument's likert and binary items (reverse-keyed ones reversed when
    ``reverse``) or every column holding numbers."""
    from instrval.cli._input import read_items

    if instrument and items:
        raise StatisticsError("give either --instrument or --items, not both")
    names = [s.strip() for s in items.split(",") if s.strip()] if items else None
    return read_items(data, instrument=instrument or None, fmt=fmt, mapping=mapping,
                      dictionary=dictionary, items=names, reverse=reverse).data


_DATA_OPTIONS = [
    click.argument("data", type=DataPath()),
    click.option("--instrument", type=click.Path(exists=True, dir_okay=False),
                 help="Instrument file: analyse its likert and binary items."),
    click.option("--items", help="Comma-separated item columns (instead of --instrument)."),
    click.option("--missing", type=click.Choice(["pairwise", "listwise"]), default="pairwise",
                 show_default=True, help="Missing data: pairwise correlations or complete rows."),
    click.option("--json", "as_json", is_flag=True, help="Print JSON."),
]


def _data_options(f):
    f = export_options(f)
    for opt in reversed(_DATA_OPTIONS):
        f = opt(f)
    return f


@main.command("efa")
@_data_options
@click.option("--factors", "n_factors", type=int, required=True, help="Number of factors.")
@click.option("--method", type=click.Choice(["minres", "ml", "pa"]), default="minres",
              show_default=True)
@click.option("--rotation", type=click.Choice(
    ["oblimin", "none", "varimax", "promax", "quartimin", "geomin"]), default="oblimin",
    show_default=True)
@click.option("--corr", type=click.Choice(["pearson", "polychoric", "tetrachoric"]),
              default="pearson", show_default=True,
              help="Correlations analysed: Pearson, polychoric (ordinal items) or tetrachoric "
              "(0/1 items).")
def efa_command(data, instrument, items, missing, as_json, fmt, mapping, dictionary, n_factors,
                method, rotation, corr):
    """Exploratory factor analysis (as R psych::fa).

    Items are analysed as they are: reverse-keyed items are not reversed (reversal only
    flips the sign of their loadings).

    \b
    Example:
      instrval efa tests/data/bfi.csv --instrument instruments/bfi/bfi-1.0.yaml --factors 5
    """
    from instrval.stats.efa import efa

    x = _load_items(data, instrument, items, reverse=False, fmt=fmt, mapping=mapping,
                    dictionary=dictionary)
    res = efa(x, n_factors=n_factors, method=method, rotation=rotation, corr=corr,
              missing=missing)
    if as_json:
        emit_json(res.to_dict())
        return
    echo_table(res.to_frame(), digits=3,
               title=f"{method} / {rotation}, {n_factors} factor{'s' if n_factors != 1 else ''}"
               f" on {res.corr} correlations, n = {res.n_obs:.0f}")
    if res.rotation not in ("none", "varimax"):
        phi = res.phi.copy()
        phi.insert(0, "factor", phi.index)
        echo_table(phi, digits=3, title="Factor correlations")
    echo_table(res.variance, digits=3, title="Variance accounted for")
    f = res.fit
    click.echo(f"chi2 = {f.chi2:.2f}, df = {f.df:.0f}, {p_text(f.pvalue)}, "
               f"RMSEA = {f.rmsea:.4f}, TLI = {f.tli:.4f}, BIC = {f.bic:.2f}")


@main.command("factors")
@_data_options
@click.option("--iterations", type=int, default=20, show_default=True,
              help="Simulated data sets for parallel analysis.")
@click.option("--seed", type=int, default=None, help="Random seed for parallel analysis.")
@click.option("--quantile", type=float, default=0.95, show_default=True,
              help="Compare with this quantile of the simulated eigenvalues (psych's "
                   "quant=.95).")
def factors_command(data, instrument, items, missing, as_json, fmt, mapping, dictionary,
                    iterations, seed, quantile):
    """How many factors: KMO, Bartlett, eigenvalues, parallel analysis, Velicer's MAP.

    \b
    Example:
      instrval factors tests/data/bfi.csv --instrument instruments/bfi/bfi-1.0.yaml --seed 1
    """
    from instrval.stats.dimensionality import (
        bartlett,
        eigenvalues,
        kmo,
        parallel_analysis,
        velicer_map,
    )

    x = _load_items(data, instrument, items, reverse=False, fmt=fmt, mapping=mapping,
                    dictionary=dictionary)
    k = kmo(x, missing=missing)
    b = bartlett(x, missing=missing)
    ev = eigenvalues(x, missing=missing)
    pa = parallel_analysis(x, n_iter=iterations, seed=seed, quantile=quantile,
                           missing=missing)
    mp = velicer_map(x, missing=missing)
    suggested = {"parallel_factors": pa.nfact, "parallel_components": pa.ncomp,
                 "map": mp.n_factors}
    if as_json:
        emit_json({"kmo": k.to_dict(), "bartlett": b.to_dict(),
                   "eigenvalues": [float(v) for v in ev["eigenvalue"]],
                   "parallel": pa.to_dict(), "map": mp.to_dict(), "suggested": suggested})
        return
    click.echo(f"KMO = {k.msa:.4f}")
    click.echo(f"Bartlett chi2 = {b.chi2:.2f}, df = {b.df:.0f}, {p_text(b.pvalue)}")
    echo_table(pa.table, digits=3, title=f"Parallel analysis ({iterations} simulations)")
    echo_table(mp.table, digits=5, title="Velicer's MAP")
    click.echo(f"Suggested: {pa.nfact} factors and {pa.ncomp} components (parallel "
               f"analysis); {mp.n_factors} (MAP)")


@main.command("omega")
@_data_options
@click.option("--factors", "n_factors", type=int, default=None,
              help="Number of group factors. Default: the number of likert and binary "
                   "constructs of --instrument (as the report), else 3 (psych::omega).")
@click.option("--method", "fm", type=click.Choice(["minres", "ml", "pa"]), default="minres",
              show_default=True)
def omega_command(data, instrument, items, missing, as_json, fmt, mapping, dictionary,
                  n_factors, fm):
    """McDonald's omega hierarchical and total (as R psych::omega).

    With --instrument, reverse-keyed items are reversed first (x' = max + min - x).

    \b
    Example:
      instrval omega tests/data/bfi.csv --instrument instruments/bfi/bfi-1.0.yaml --factors 5
    """
    from instrval.stats.omega import omega

    if n_factors is None:
        n_factors = 3
        if instrument:
            from instrval.io.instrument import read_instrument

            n_factors = sum(c.kind in ("likert", "binary")
                            for c in read_instrument(instrument).constructs) or 3
    x = _load_items(data, instrument, items, reverse=True, fmt=fmt, mapping=mapping,
                    dictionary=dictionary)
    res = omega(x, n_factors=n_factors, method=fm, missing=missing)
    if as_json:
        emit_json(res.to_dict())
        return
    click.echo(f"omega_hierarchical = {res.omega_hierarchical:.4f}")
    click.echo(f"omega_total = {res.omega_total:.4f}")
    click.echo(f"alpha = {res.alpha:.4f}, ECV = {res.ecv:.4f}")
    echo_table(res.schmid, digits=3, title="Schmid-Leiman loadings")
    echo_table(res.groups, digits=3, title="Omega per group factor")
