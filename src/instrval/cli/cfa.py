"""`instrval` commands: cfa (confirmatory factor analysis) and correlations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from instrval.cli._base import echo_table, emit_json, main
from instrval.cli._input import export_options
from instrval.errors import Problem, StatisticsError

if TYPE_CHECKING:
    import pandas as pd

#: The fit measures ``instrval cfa --json`` prints, in this order.
FIT_KEYS = ("chi2", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high",
            "srmr", "aic", "bic")
SCALED_FIT_KEYS = ("chi2_scaled", "df_scaled", "pvalue_scaled", "cfi_scaled", "tli_scaled",
                   "rmsea_scaled", "rmsea_ci_low_scaled", "rmsea_ci_high_scaled")


def _read_data(path: str, columns: list[str] | None, *, instrument: Any = None,
               fmt: str | None = None, mapping: str | None = None,
               dictionary: str | None = None) -> pd.DataFrame:
    """Read item data (CSV, TSV/TXT or XLSX; see :func:`instrval.io.tables.read_table`).

    ``columns`` that are in the file are checked and returned as numbers (every cell a
    number or blank); with ``None``, the columns holding numbers are returned.
    """
    from instrval.cli._input import open_table

    table = open_table(path, instrument=instrument, fmt=fmt, mapping=mapping,
                       dictionary=dictionary)
    if columns is None:
        return table.numeric(table.item_columns())
    df = table.data.copy()
    present = [c for c in dict.fromkeys(columns) if c in df.columns]  # cross-loadings repeat
    df[present] = table.numeric(present)
    return df


def _read_model(path: str) -> dict[str, list[str]]:
    """Read a YAML/JSON model file ``{factor: [item, ...]}``, reporting every problem."""
    from instrval.io.yamlfile import load_document

    doc = load_document(path, error=StatisticsError, what="model file")
    data = doc.data
    if not isinstance(data, dict) or not data:
        raise StatisticsError(
            f"{path}: a model file maps each factor to its list of items, "
            "e.g. {visual: [x1, x2, x3]}",
            [Problem("bad_model", "not a mapping of factor -> items", file=path)])
    problems = []
    model: dict[str, list[str]] = {}
    for factor, items in data.items():
        key = str(factor)
        if not isinstance(items, list) or not items or not all(
                isinstance(i, (str, int)) for i in items):
            problems.append(Problem("bad_items", f"factor {key!r}: items must be a list of "
                                    "item ids", file=path, key=key,
                                    line=doc.lines.get(key), value=items))
            continue
        model[key] = [str(i) for i in items]
    if problems:
        raise StatisticsError.from_problems(problems, path)
    return model


def _cfa_json(res: Any) -> dict[str, Any]:
    loadings = [
        {"factor": r["factor"], "item_id": r["item_id"], "estimate": r["estimate"],
         "std_all": r["std_all"], "se": r["se"]}
        for r in res.loadings.to_dict(orient="records")
    ]
    fc = res.factor_correlations
    fit_keys = [*FIT_KEYS, *(k for k in SCALED_FIT_KEYS if k in res.fit)]
    return {
        "estimator": res.estimator,
        "fit": {k: res.fit[k] for k in fit_keys},
        "loadings": loadings,
        "factor_correlations": [
            {"factor": str(f), **{str(g): float(fc.loc[f, g]) for g in fc.columns}}
            for f in fc.index
        ],
        "n": res.n,
        "converged": res.converged,
        "heywood": res.heywood,
    }


@main.command("cfa")
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--instrument", "instrument_file", type=click.Path(dir_okay=False),
              help="Instrument file: each likert/binary construct is a factor of its items.")
@click.option("--model", "model_file", type=click.Path(dir_okay=False),
              help="YAML/JSON model file {factor: [items]}; overrides the instrument's "
                   "constructs.")
@click.option("--std-lv", is_flag=True,
              help="Fix factor variances to 1 instead of the first loading (lavaan std.lv).")
@click.option("--estimator", type=click.Choice(["ml", "wlsmv"]), default="ml",
              show_default=True,
              help="ml: maximum likelihood; wlsmv: ordered items (polychoric correlations, "
                   "DWLS, robust SEs, scaled-shifted chi-square), as lavaan ordered=TRUE.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@export_options
def cfa_command(data: str, instrument_file: str | None, model_file: str | None, std_lv: bool,
                estimator: str, as_json: bool, fmt: str | None, mapping: str | None,
                dictionary: str | None) -> None:
    """Confirmatory factor analysis (ML or WLSMV, as lavaan) of the items in DATA.

    DATA is a CSV/TSV/XLSX file with one column per item (named by item id). Rows with a
    missing answer to any model item are dropped (listwise). Prints the fit measures
    (chi-square, CFI, TLI, RMSEA with its 90% CI, SRMR, AIC, BIC), the loadings with their
    standard errors and standardized values, and the factor correlations.

    \b
    Example:
      instrval cfa tests/data/bfi.csv --instrument instruments/bfi/bfi-1.0.yaml --json
      instrval cfa hs.csv --model model.yaml
      instrval cfa tests/data/bfi.csv --instrument instruments/bfi/bfi-1.0.yaml --estimator wlsmv
    """
    import pandas as pd

    from instrval.stats.cfa import cfa

    if instrument_file is None and model_file is None:
        raise click.UsageError("give --instrument or --model (or both)")
    if model_file is not None:
        model: Any = _read_model(model_file)
        items = [i for its in model.values() for i in its]
    else:
        from instrval.io.instrument import read_instrument
        from instrval.stats.cfa import model_from_instrument

        model = read_instrument(instrument_file)
        items = [i for its in model_from_instrument(model).values() for i in its]
    df = _read_data(data, items, instrument=instrument_file, fmt=fmt, mapping=mapping,
                    dictionary=dictionary)
    res = cfa(df, model, std_lv=std_lv, estimator=estimator)
    if as_json:
        emit_json(_cfa_json(res))
        return
    fit_keys = [*FIT_KEYS, *(k for k in SCALED_FIT_KEYS if k in res.fit)]
    fit = pd.DataFrame([{"measure": k, "value": float(res.fit[k])} for k in fit_keys])
    echo_table(fit, title=f"Fit ({res.estimator.upper()}, N = {res.n})")
    click.echo()
    echo_table(res.loadings[["factor", "item_id", "estimate", "se", "std_all"]],
               title="Loadings")
    click.echo()
    fc = res.factor_correlations.copy()
    fc.insert(0, "factor", fc.index.astype(str))
    echo_table(fc.reset_index(drop=True), title="Factor correlations")


@main.command("correlations")
@click.argument("data", type=click.Path(dir_okay=False))
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
    from instrval.io.tables import read_table
    from instrval.stats.correlation import correlation_matrix

    table = read_table(data)
    if items:
        cols = [c.strip() for c in items.split(",") if c.strip()]
        table.require(cols, what="item column")
    else:
        cols = table.item_columns()
    df = table.numeric(cols)
    res = correlation_matrix(df, method=method, missing=missing, smooth=not no_smooth)
    if as_json:
        emit_json(res.to_dict())
        return
    echo_table(res.to_frame(),
               title=f"{method} correlations ({missing}, n = {res.n}"
                     f"{', smoothed' if res.smoothed else ''})")
