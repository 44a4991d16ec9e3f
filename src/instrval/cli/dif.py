"""`instrval dif`: differential item functioning between two groups of respondents."""

from __future__ import annotations

from typing import Any

import click

from instrval.cli._base import echo_table, emit_json, main

_ORDINAL_COLS = ["item_id", "construct", "n", "chi2_12", "p_12", "chi2_13", "p_13", "chi2_23",
                 "p_23", "r2_change_13", "effect_class", "flag", "dif_type"]
_MH_COLS = ["item_id", "construct", "n", "n_strata", "mh_chi2", "p", "or_mh", "delta_mh",
            "effect_class", "flag"]


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _pair(value: str | None, option: str) -> tuple[str, str] | None:
    parts = _split(value)
    if parts is None:
        return None
    if len(parts) != 2:
        raise click.BadParameter(f"give two comma-separated values, got {value!r}",
                                 param_hint=option)
    return parts[0], parts[1]


@main.command("dif")
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--group", required=True, help="Column holding each respondent's group.")
@click.option("--instrument", "instrument_file", type=click.Path(dir_okay=False),
              help="Instrument file: the constructs (matching scores), items and reverse keys.")
@click.option("--construct", help="Construct id (with --instrument). Default: every likert or "
              "binary construct.")
@click.option("--items", help="Comma-separated item columns forming one scale (without "
              "--instrument). Default: every column but the group.")
@click.option("--reverse", help="Comma-separated reverse-keyed items (x' = min + max - x); "
              "needs --scale without --instrument.")
@click.option("--scale", "scale", help="Scale range MIN,MAX of --items (e.g. 1,6).")
@click.option("--levels", help="REFERENCE,FOCAL: the two groups compared (needed when the "
              "group column has more than two levels). Default: the two levels, sorted.")
@click.option("--method", type=click.Choice(["ordinal", "mh"]), default="ordinal",
              show_default=True, help="ordinal: logistic regression (polr / glm); "
              "mh: Mantel-Haenszel for 0/1 items.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="Significance level of the flags [default: 0.01 ordinal, 0.05 mh].")
@click.option("--purify", is_flag=True, help="Drop flagged items from the matching score and "
              "test again, until the flags repeat.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def dif_cmd(data: str, group: str, instrument_file: str | None, construct: str | None,
            items: str | None, reverse: str | None, scale: str | None, levels: str | None,
            method: str, alpha: float | None, purify: bool, as_json: bool) -> None:
    """Differential item functioning (DIF) of each item between two groups.

    DATA is a CSV/TSV/XLSX file, one row per respondent, with the item columns and the
    group column. Respondents are matched on the total score of the item's construct
    (reverse keys applied). --method ordinal (default) fits the nested models
    item ~ total; + group; + total x group (MASS::polr, or glm for 0/1 items) and reports
    likelihood-ratio chi-squares and Nagelkerke R-squared changes with Jodoin & Gierl
    classes A/B/C; --method mh gives the Mantel-Haenszel chi-square and common odds ratio
    (as stats::mantelhaen.test), the ETS delta and its A/B/C class. Items of class B or C
    are flagged. Respondents missing a response of the construct or the group are left
    out (listed under "excluded" in --json).

    \b
    Example:
      instrval dif bfi.csv --instrument bfi-1.0.yaml --group gender --levels 1,2
      instrval dif test.csv --items q01,q02,q03,q04,q05 --group group --method mh --json
    """
    from instrval.cli._input import read_items
    from instrval.stats.dif import dif

    kw: dict[str, Any] = {"group": group, "method": method, "alpha": alpha, "purify": purify,
                          "levels": _pair(levels, "--levels")}
    rev = _split(reverse)
    if rev is not None:
        kw["reverse"] = rev
    if instrument_file is not None:
        if items is not None or scale is not None:
            raise click.UsageError("--items and --scale cannot be combined with --instrument "
                                   "(use --construct)")
        from instrval.io.instrument import read_instrument

        inst = read_instrument(instrument_file)
        # the construct's items (or every likert and binary item) as numbers; dif names
        # the items the file lacks and applies the reverse keys to the matching scores
        got = read_items(data, instrument=inst, construct=construct, absent="ignore",
                         group=group)
        kw.update(instrument=inst, construct=construct)
    else:
        if construct is not None:
            raise click.UsageError("--construct needs --instrument")
        got = read_items(data, items=_split(items), all_numeric=True, group=group)
        kw["items"] = list(got.items)
        rng = _pair(scale, "--scale")
        if rng is not None:
            try:
                kw["scale_range"] = (float(rng[0]), float(rng[1]))
            except ValueError:
                raise click.BadParameter(f"MIN,MAX must be numbers, got {scale!r}",
                                         param_hint="--scale") from None
    df = got.data
    res = dif(df, **kw)
    if as_json:
        emit_json(res.to_dict())
        return
    cols = _ORDINAL_COLS if method == "ordinal" else _MH_COLS
    title = (f"DIF ({'logistic regression' if method == 'ordinal' else 'Mantel-Haenszel'}) "
             f"by {group}: reference {res.reference}, focal {res.focal}; alpha {res.alpha:g}"
             + (f"; purified ({', '.join(f'{k}: {v} passes' for k, v in res.iterations.items())})"
                if purify else ""))
    echo_table(res.items[cols], title=title)
    flagged = res.items[res.items["flag"]]
    click.echo()
    if flagged.empty:
        click.echo("No item flagged.")
    for rec in flagged.to_dict(orient="records"):
        click.echo(f"{rec['item_id']}: {rec['reason']}")
    if len(res.excluded):
        click.echo(f"\n{len(res.excluded)} respondent-construct row(s) left out "
                   "(missing responses or group); see --json.")
