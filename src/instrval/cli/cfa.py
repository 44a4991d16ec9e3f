"""`instrval` commands: cfa (confirmatory factor analysis) and correlations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from instrval.cli._base import echo_table, emit_json, main
from instrval.cli._input import export_options
from instrval.errors import StatisticsError

if TYPE_CHECKING:
    import pandas as pd


def read_item_data(path: str, columns: list[str], *, instrument: Any = None,
                   fmt: str | None = None, mapping: str | None = None,
                   dictionary: str | None = None) -> pd.DataFrame:
    """The data file with ``columns`` (those in the file) as numbers and its other
    columns as read (:func:`instrval.io.items.read_item_data`): the model reports the
    items the file lacks."""
    from instrval.cli._input import read_items

    return read_items(path, instrument=instrument, fmt=fmt, mapping=mapping,
                      dictionary=dictionary, items=columns, absent="ignore",
                      keep_columns=True).data


def read_model_file(path: str) -> dict[str, list[str]] | str:
    """:func:`instrval.io.items.read_cfa_model`, with lavaan syntax parsed here so that
    its errors name the file."""
    from instrval.io.items import read_cfa_model

    model = read_cfa_model(path)
    if isinstance(model, str):
        from dataclasses import replace

        from instrval.stats.sem.partable import build_partable

        try:
            build_partable(model)
        except StatisticsError as exc:
            raise StatisticsError(f"{path}: {exc.args[0]}",
                                  [replace(p, file=path) for p in exc.problems]) from None
    return model


def load_model_and_data(data: str, instrument_file: str | None, model_file: str | None, *,
                        fmt: str | None = None, mapping: str | None = None,
                        dictionary: str | None = None) -> tuple[Any, pd.DataFrame]:
    """The model (``--model`` file, else the instrument's constructs) and the data file's
    columns it needs, as numbers (the shared start of ``cfa`` and ``invariance``)."""
    if instrument_file is None and model_file is None:
        raise click.UsageError("give --instrument or --model (or both)")
    if model_file is not None:
        model: Any = read_model_file(model_file)
        if isinstance(model, str):
            from instrval.stats.sem.partable import build_partable

            items = list(build_partable(model).ov)
        else:
            items = [i for its in model.values() for i in its]
    else:
        from instrval.io.instrument import read_instrument
        from instrval.stats.cfa import model_from_instrument

        assert instrument_file is not None  # both None is refused above
        model = read_instrument(instrument_file)
        items = [i for its in model_from_instrument(model).values() for i in its]
    return model, read_item_data(data, items, instrument=instrument_file, fmt=fmt,
                                 mapping=mapping, dictionary=dictionary)


@main.command("cfa")
@click.argument("data", type=click.Path())
@click.option("--instrument", "instrument_file", type=click.Path(dir_okay=False),
              help="Instrument file: each likert/binary construct is a factor of its items.")
@click.option("--model", "model_file", type=click.Path(dir_okay=False),
              help="Model file: lavaan syntax (=~, ~~, ~ 1, fixed values 1*x, start(.5)*x, "
                   "labels; higher-order and bifactor models) or YAML/JSON "
                   "{factor: [items]}; overrides the instrument's constructs.")
@click.option("--std-lv", is_flag=True,
              help="Fix factor variances to 1 instead of the first loading (lavaan std.lv).")
@click.option("--orthogonal", is_flag=True,
              help="Uncorrelated factors (lavaan orthogonal=TRUE; e.g. a bifactor model); "
                   "lavaan-syntax models only.")
@click.option("--estimator", type=click.Choice(["ml", "mlr", "wlsmv"]), default="ml",
              show_default=True,
              help="ml: maximum likelihood; mlr: ML with robust (Huber-White) SEs and the "
                   "Yuan-Bentler scaled chi-square; wlsmv: ordered items (polychoric correlations, "
                   "DWLS, robust SEs, scaled-shifted chi-square), as lavaan ordered=TRUE.")
@click.option("--missing", type=click.Choice(["listwise", "ml"]), default="listwise",
              show_default=True,
              help="listwise: drop rows with a missing answer; ml: full-information ML "
                   "(FIML, lavaan missing = \"ml\"), every answered item counts.")
@click.option("--mi", "mi", is_flag=True,
              help="Also print modification indices (largest first) and standardized "
                   "residuals (ML/MLR; lavaan modindices and residuals type standardized).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@export_options
def cfa_command(data: str, instrument_file: str | None, model_file: str | None, std_lv: bool,
                orthogonal: bool, estimator: str, missing: str, mi: bool, as_json: bool,
                fmt: str | None, mapping: str | None, dictionary: str | None) -> None:
    """Confirmatory factor analysis (ML, MLR or WLSMV, as lavaan) of the items in DATA.

    DATA is a CSV/TSV/XLSX file with one column per item (named by item id). Rows with a
    missing answer to any model item are dropped (listwise) unless --missing ml (FIML).
    Prints the fit measures (chi-square, CFI, TLI, RMSEA with its 90% CI, SRMR, AIC, BIC),
    the loadings with their standard errors and standardized values, and the factor
    correlations.

    \b
    Example:
      instrval cfa tests/data/bfi.csv --instrument instruments/bfi/bfi-1.0.yaml --json
      instrval cfa hs.csv --model model.yaml
      instrval cfa hs.csv --model bifactor.lav --std-lv --orthogonal --json
      instrval cfa hs.csv --model hs.lav --mi
      instrval cfa hs_missing.csv --model hs.lav --missing ml
      instrval cfa tests/data/bfi.csv --instrument instruments/bfi/bfi-1.0.yaml --estimator wlsmv
    """
    import pandas as pd

    from instrval.stats.cfa import cfa

    model, df = load_model_and_data(data, instrument_file, model_file, fmt=fmt,
                                    mapping=mapping, dictionary=dictionary)
    res = cfa(df, model, std_lv=std_lv, estimator=estimator, orthogonal=orthogonal, mi=mi,
              missing=missing)
    if as_json:
        emit_json(res.summary_dict())
        return
    fit = pd.DataFrame([{"measure": k, "value": float(v)} for k, v in res.fit.summary().items()])
    echo_table(fit, title=f"Fit ({res.estimator.upper()}, N = {res.n})")
    click.echo()
    echo_table(res.loadings[["factor", "item_id", "estimate", "se", "std_all"]],
               title="Loadings")
    click.echo()
    fc = res.factor_correlations.copy()
    fc.insert(0, "factor", fc.index.astype(str))
    echo_table(fc.reset_index(drop=True), title="Factor correlations")
    if mi and res.modification_indices is not None and res.standardized_residuals is not None:
        click.echo()
        echo_table(res.modification_indices.head(15),
                   title="Modification indices (largest 15)")
        sr = res.standardized_residuals.dropna(subset=["z"])
        sr = sr.reindex(sr["z"].abs().sort_values(ascending=False).index).head(15)
        click.echo()
        echo_table(sr, title="Standardized residuals (largest 15 in absolute value)")


@main.command("correlations")
@click.argument("data", type=click.Path())
@click.option("--method", type=click.Choice(["pearson", "polychoric", "tetrachoric"]),
              default="pearson", show_default=True)
@click.option("--missing", type=click.Choice(["pairwise", "listwise"]), default="pairwise",
              show_default=True)
@click.option("--items", help="Comma-separated item columns (default: every numeric column).")
@click.option("--no-smooth", is_flag=True, help="Do not smooth a non-positive-definite matrix.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def correlations_command(data: str, method: str, missing: str, items: str | None,
                         no_smooth: bool, as_json: bool) -> None:
    """Correlation matrix of the items in DATA (Pearson, polychoric or tetrachoric, as psych).

    \b
    Example:
      instrval correlations tests/data/bfi.csv --items A1,A2,A3,A4,A5 --method polychoric
    """
    from instrval.cli._input import read_items
    from instrval.stats.correlation import correlation_matrix

    cols = [c.strip() for c in items.split(",") if c.strip()] if items else None
    df = read_items(data, items=cols).data
    res = correlation_matrix(df, method=method, missing=missing, smooth=not no_smooth)
    if as_json:
        emit_json(res.to_dict())
        return
    echo_table(res.to_frame(),
               title=f"{method} correlations ({missing}, n = {res.n}"
                     f"{', smoothed' if res.smoothed else ''})")
