"""`instrval` commands: relevance."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import click

from instrval._choices import CLUSTER_METHODS, RELEVANCE_PERIODS
from instrval.cli._base import echo_table, emit_json, main, note
from instrval.cli.ratings import engine_options

if TYPE_CHECKING:
    import pandas as pd

    from instrval.stats.relevance import RelevanceResult

__all__ = ["relevance"]


def _pct(v: Any, digits: int = 2) -> str:
    import pandas as pd

    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    return f"{100.0 * float(v):.{digits}f}%"


def _ci(lo: Any, hi: Any) -> str:
    import pandas as pd

    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return ""
    return f"{100.0 * float(lo):.2f}-{100.0 * float(hi):.2f}%"


def _verdict(row: pd.Series, threshold: float) -> str:
    import pandas as pd

    if pd.isna(row["relevant"]):
        return "n/a (never presented)"
    word = "relevant" if bool(row["relevant"]) else "NOT relevant"
    lows = [row["ci_low"], row["cluster_ci_low"]]
    highs = [row["ci_high"], row["cluster_ci_high"]]
    lo = min((v for v in lows if not pd.isna(v)), default=math.nan)
    hi = max((v for v in highs if not pd.isna(v)), default=math.nan)
    if not math.isnan(lo) and lo < threshold <= hi:
        word += " (CI spans cut-off)"
    return word


def _display(df: pd.DataFrame, threshold: float, group_cols: tuple[str, ...] = ()
             ) -> pd.DataFrame:
    import pandas as pd

    out = pd.DataFrame({c: df[c].astype("string").fillna("(missing)") for c in group_cols})
    out["item"] = df["item_id"].to_numpy()
    out["construct"] = df["construct_id"].to_numpy()
    out["selected/presented"] = [f"{s}/{p}" for s, p in zip(df["selected"], df["presented"], strict=True)]
    out["ratio"] = [_pct(v) for v in df["ratio"]]
    out["Wilson CI"] = [_ci(lo, hi) for lo, hi in zip(df["ci_low"], df["ci_high"], strict=True)]
    out["cluster CI"] = [_ci(lo, hi) for lo, hi in
                         zip(df["cluster_ci_low"], df["cluster_ci_high"], strict=True)]
    out["deff"] = df["deff"].astype("float64").to_numpy()
    out["verdict"] = [_verdict(r, threshold) for _, r in df.iterrows()]
    return out


def _print_text(res: RelevanceResult) -> None:
    pct = f"{100 * res.threshold:g}%"
    method = {"bootstrap": f"bootstrap over respondents, {res.n_boot} resamples"
              + (f", seed {res.seed}" if res.seed is not None else ""),
              "delta": "delta-method design effect (Wilson at n / deff)",
              "none": "not computed"}[res.cluster_method]
    click.echo(f"Relevance ratios: {res.n_ratings} ratings by {res.n_respondents} respondents; "
               f"{round(100 * res.confidence, 6):g}% intervals; cluster CI: {method}.")
    click.echo(f"Cut-off: ratio >= {pct} is relevant"
               + (" (default)" if res.threshold_source != "user" else "") + ".")
    echo_table(_display(res.items, res.threshold), digits=2)
    if res.skipped_items:
        click.echo(f"Likert items skipped (no selected/not selected answer): "
                   f"{', '.join(res.skipped_items)}")
    if res.not_relevant:
        click.echo(f"Not relevant at {pct}: {', '.join(res.not_relevant)}")
    if res.groups is not None:
        click.echo("")
        echo_table(_display(res.groups, res.threshold, res.group_columns), digits=2,
                   title=f"By {', '.join(res.group_columns)}")


@main.command("relevance")
@click.argument("export", type=click.Path())
@click.option("--instrument", "instrument_path", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="Instrument definition file (YAML or JSON).")
@click.option("--threshold", type=float, default=None,
              help="Cut-off: an item is relevant when its ratio >= this proportion "
                   "[default: the relevance_min rule, 0.10].")
@click.option("--by", "by", multiple=True,
              help="Grouping column for a per-group table (repeat for several).")
@click.option("--period", type=click.Choice(RELEVANCE_PERIODS),
              help="Also compute ratios per calendar period of the rating date.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False),
              help="Column mapping file for the export (passed to the reader).")
@click.option("--format", "fmt", default=None,
              help="Export format: wide, long, redcap, qualtrics or spss (default: "
                   "detected from the file by the reader).")
@click.option("--confidence", type=float, default=0.95, show_default=True,
              help="Level of the intervals.")
@click.option("--cluster-method", type=click.Choice([*CLUSTER_METHODS, "none"]),
              default="bootstrap", show_default=True,
              help="Interval that respects clustering within respondents.")
@click.option("--bootstrap", "n_boot", type=click.IntRange(min=1), default=1000,
              show_default=True, help="Bootstrap resamples of respondents.")
@click.option("--seed", type=int, default=None, help="Seed for the bootstrap.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@engine_options
def relevance(export: str, instrument_path: str, threshold: float | None, by: tuple[str, ...],
              period: str | None, mapping: str | None, fmt: str | None, confidence: float,
              cluster_method: str, n_boot: int, seed: int | None, as_json: bool,
              engine: str, scheduler: str | None, storage_option: tuple[str, ...]) -> None:
    """Relevance ratio of every item: share of the ratings presenting its question in
    which the item was selected (gated questions count only ratings that opened the gate),
    with a Wilson interval and an interval that respects clustering within respondents.

    Reads EXPORT (a file, a folder of Parquet parts, a glob, or a URL in object storage:
    s3://bucket/exports/ with --storage-option) with the instrument's
    reader, prints how many rows were quarantined, and judges each item against the
    cut-off. Big Parquet inputs are read by DuckDB, keeping only per-respondent sums
    (--engine; --by and --period need --engine pandas).

    \b
    Example:
      instrval relevance ratings.csv --instrument instruments/iam/iam-2011.yaml \\
          --threshold 0.1 --period quarter --seed 1
      instrval relevance ratings.csv --instrument iam.yaml --json > relevance.json
    """
    from instrval.cli._input import data_path
    from instrval.cli.ratings import progress_fn, storage_options
    from instrval.io.engine import choose_engine, is_parts, is_url, read_ratings_any
    from instrval.io.instrument import read_instrument
    from instrval.stats.relevance import relevance_ratios

    export = data_path(export)
    inst = read_instrument(instrument_path)
    so = storage_options(storage_option)
    chosen = ("pandas" if (by or period) and engine == "auto"
              else choose_engine(export, engine, so))
    if chosen == "pandas" and not is_url(export) and not is_parts(export):
        from instrval.io.ratings import read_ratings

        ratings = read_ratings(export, inst, format=fmt, mapping=mapping)
    else:
        ratings = read_ratings_any(export, inst, engine=chosen, scheduler=scheduler,
                                   format=fmt, mapping=mapping, storage_options=so,
                                   progress=progress_fn(as_json))
    note(f"{ratings.n_quarantined} row(s) quarantined of {ratings.n_read} read; "
         f"{ratings.n_accepted} ratings used.")
    res = relevance_ratios(
        ratings, threshold=threshold, confidence=confidence, by=list(by) or None,
        period=period, cluster=cluster_method != "none",
        cluster_method=cluster_method if cluster_method != "none" else "bootstrap",
        n_boot=n_boot, seed=seed)
    if as_json:
        emit_json(res.to_dict())
    else:
        _print_text(res)
