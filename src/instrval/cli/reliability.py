"""`instrval` commands: reliability (Cronbach's alpha) and icc (intraclass correlations)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from instrval.cli._base import echo_table, emit_json, main
from instrval.cli._input import export_options
from instrval.errors import StatisticsError

_SUMMARY_KEYS = ("alpha", "std_alpha", "g6", "average_r", "n", "k", "ci_low", "ci_high",
                 "boot_ci_low", "boot_ci_high", "missing", "ci_method")
_ITEM_KEYS = ["item_id", "n", "alpha_if_deleted", "r_drop", "r_cor", "mean", "sd"]


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    out = [v.strip() for v in value.split(",") if v.strip()]
    return out


def _print_alpha(d: dict[str, Any], title: str) -> None:
    import pandas as pd

    summary = pd.DataFrame([{k: d.get(k) for k in _SUMMARY_KEYS if d.get(k) is not None}])
    for col in summary.columns:
        if col not in ("n", "k", "missing", "ci_method"):
            summary[col] = summary[col].astype(float)
    echo_table(summary, title=title)
    click.echo()
    items = pd.DataFrame(d["items"])[_ITEM_KEYS]
    echo_table(items, title="Items (alpha if deleted, corrected item-total r)")


@main.command("reliability")
@click.argument("data", type=click.Path())
@click.option("--instrument", "instrument_file", type=click.Path(dir_okay=False),
              help="Instrument file: items, reverse keys and scale range per construct.")
@click.option("--construct", help="Construct id (with --instrument). Default: every likert or "
              "binary construct.")
@click.option("--items", help="Comma-separated item columns (without --instrument). "
              "Default: every column.")
@click.option("--reverse", help="Comma-separated reverse-keyed items (x' = max + min - x). "
              "Overrides the instrument's keys.")
@click.option("--missing", type=click.Choice(["pairwise", "listwise"]), default="pairwise",
              show_default=True, help="pairwise: psych's default; listwise: complete rows only.")
@click.option("--bootstrap", "n_boot", type=click.IntRange(min=0), default=0, show_default=True,
              help="Number of bootstrap resamples for a percentile interval.")
@click.option("--seed", type=int, default=None, help="Seed of the bootstrap.")
@click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@export_options
def reliability_cmd(data: str, instrument_file: str | None, construct: str | None,
                    items: str | None, reverse: str | None, missing: str, n_boot: int,
                    seed: int | None, confidence: float, as_json: bool, fmt: str | None,
                    mapping: str | None, dictionary: str | None) -> None:
    """Cronbach's alpha, standardized alpha, Guttman's lambda 6 and item statistics.

    DATA is a CSV file with one column per item (one row per respondent; an unnamed first
    column is taken as row names), or, with --instrument, any rating export
    `ratings check` reads (--format, --mapping, --dictionary). The Feldt confidence interval is always given; with
    --bootstrap N a seeded percentile bootstrap interval too. Numbers match R's
    psych::alpha.

    \b
    Example:
      instrval reliability bfi.csv --items A1,A2,A3,A4,A5 --reverse A1
      instrval reliability bfi.csv --instrument bfi-1.0.yaml --construct agreeableness \\
          --bootstrap 2000 --seed 1 --json
    """
    from instrval.stats.reliability import alpha_for_construct, cronbach_alpha

    kw: dict[str, Any] = {"missing": missing, "n_boot": n_boot, "seed": seed,
                          "confidence": confidence}
    rev = _split(reverse)
    if rev is not None:
        kw["reverse"] = rev
    if instrument_file is None:
        if construct is not None:
            raise click.UsageError("--construct needs --instrument")
        from instrval.cli._input import read_items

        got = read_items(data, items=_split(items), all_numeric=True, keep_columns=True)
        res = cronbach_alpha(got.data, items=list(got.items), **kw)
        d = res.to_dict()
        if as_json:
            emit_json(d)
        else:
            _print_alpha(d, f"Cronbach's alpha ({Path(data).name})")
        return
    if items is not None:
        raise click.UsageError("--items cannot be combined with --instrument (use --construct)")
    from instrval.cli._input import read_items
    from instrval.io.instrument import read_instrument

    inst = read_instrument(instrument_file)
    if construct is not None:
        got = read_items(data, instrument=inst, fmt=fmt, mapping=mapping,
                         dictionary=dictionary, construct=construct, absent="ignore",
                         keep_columns=True)
        d = alpha_for_construct(got.data, inst, construct, **kw).to_dict()
        if as_json:
            emit_json(d)
        else:
            _print_alpha(d, f"Cronbach's alpha: {construct}")
        return
    ids = [c.id for c in inst.constructs if c.kind in ("likert", "binary")]
    if not ids:
        raise StatisticsError(f"{inst.label} has no likert or binary construct to compute alpha for")
    df = read_items(data, instrument=inst, fmt=fmt, mapping=mapping, dictionary=dictionary,
                    absent="ignore", keep_columns=True).data
    results = {cid: alpha_for_construct(df, inst, cid, **kw).to_dict() for cid in ids}
    if as_json:
        emit_json({"constructs": results})
        return
    for i, (cid, d) in enumerate(results.items()):
        if i:
            click.echo()
        _print_alpha(d, f"Cronbach's alpha: {cid}")


@main.command("icc")
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--targets", help="Column of target (subject) ids (long form).")
@click.option("--raters", help="Column of rater ids (long form).")
@click.option("--ratings", help="Column of ratings (long form).")
@click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True)
@click.option("--nan-policy", type=click.Choice(["raise", "omit"]), default="raise",
              show_default=True, help="omit: drop targets lacking a rating.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def icc_cmd(data: str, targets: str | None, raters: str | None, ratings: str | None,
            confidence: float, nan_policy: str, as_json: bool) -> None:
    """Intraclass correlations ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k (Shrout & Fleiss).

    DATA is a CSV file, either long (one row per rating; give --targets, --raters and
    --ratings) or wide (one row per target, one column per rater; an unnamed first column
    holds the target ids). Confidence intervals are at full precision; numbers match
    R's psych::ICC(x, lmer = FALSE).

    \b
    Example:
      instrval icc shrout_fleiss.csv
      instrval icc ratings.csv --targets subject --raters judge --ratings score --json
    """
    from instrval.cli._input import read_table
    from instrval.stats.icc import icc

    if targets is None and raters is None and ratings is None:
        table = read_table(data)  # wide: every column is a rater
        df = table.numeric(table.columns)
    else:
        table = read_table(data)
        table.require([c for c in (targets, raters) if c is not None])
        df = table.data.copy()
        if ratings is not None:
            df[ratings] = table.numeric([ratings])[ratings]
    res = icc(df, targets=targets, raters=raters, ratings=ratings, confidence=confidence,
              nan_policy=nan_policy)
    if as_json:
        emit_json(res.to_dict())
        return
    title = (f"Intraclass correlations: {res.n_targets} targets, {res.n_raters} raters, "
             f"{round(100 * res.confidence, 6):g}% intervals")
    echo_table(res.table, title=title)
