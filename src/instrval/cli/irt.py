"""`instrval irt`: item response models (Rasch, PCM, RSM by CML; 2PL, GRM by MML)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from instrval.cli._base import echo_table, emit_json, main
from instrval.errors import InstrvalWarning, StatisticsError

if TYPE_CHECKING:
    from instrval.stats.irt import IRTResult

_MODELS = ("rasch", "pcm", "rsm", "2pl", "grm")
_COLUMNS = {
    "rasch": ["item_id", "n", "difficulty", "se", "infit", "outfit", "infit_t", "outfit_t",
              "misfit"],
    "pcm": ["item_id", "n", "location", "se", "infit", "outfit", "infit_t", "outfit_t",
            "misfit"],
    "2pl": ["item_id", "n", "a", "a_se", "difficulty", "se", "s_x2", "df", "p", "p_adjusted",
            "misfit"],
    "grm": ["item_id", "n", "a", "a_se", "location", "se", "s_x2", "df", "p", "p_adjusted",
            "misfit"],
}
_COLUMNS["rsm"] = _COLUMNS["pcm"]


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _print(res: IRTResult, title: str) -> None:
    import pandas as pd

    summary = pd.DataFrame([{"model": res.model, "estimation": res.estimation, "n": res.n,
                             "loglik": res.loglik, "npar": res.npar,
                             "converged": res.converged, "reliability": res.reliability}])
    echo_table(summary, title=title)
    click.echo()
    echo_table(res.items[_COLUMNS[res.model]], title="Items")
    if res.model in ("pcm", "rsm", "grm"):
        click.echo()
        tab = res.thresholds.pivot(index="item_id", columns="threshold", values="value")
        tab = tab.loc[list(res.items["item_id"])]
        tab.columns = [f"threshold_{c}" for c in tab.columns]
        echo_table(tab.reset_index(), title="Thresholds")
    if res.lr_test is not None:
        lr = res.lr_test
        click.echo()
        click.echo(f"Andersen LR test (median split): LR = {lr.lr:.4f}, df = {lr.df}, "
                   f"p = {lr.p:.4g}")
    click.echo()
    click.echo(f"Misfit rule: {res.misfit_rule}")


@main.command("irt")
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--model", type=click.Choice(_MODELS), default="rasch", show_default=True,
              help="rasch / pcm / rsm: conditional ML (as R eRm); 2pl / grm: marginal ML.")
@click.option("--instrument", "instrument_file", type=click.Path(dir_okay=False),
              help="Instrument file: the items, reverse keys and scale range of a construct.")
@click.option("--construct", help="Construct id (with --instrument). Default: every likert or "
              "binary construct, each fitted separately.")
@click.option("--items", help="Comma-separated item columns (without --instrument). "
              "Default: every column.")
@click.option("--lowest", type=float, default=None,
              help="The answer coded as category 0. Default: the smallest answer.")
@click.option("--no-lr-test", "no_lr", is_flag=True,
              help="Skip Andersen's LR test (Rasch family).")
@click.option("--no-scores", "no_scores", is_flag=True,
              help="Leave the person scores out of the JSON.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def irt_cmd(data: str, model: str, instrument_file: str | None, construct: str | None,
            items: str | None, lowest: float | None, no_lr: bool, no_scores: bool,
            as_json: bool) -> None:
    """Item response models: Rasch, partial credit, rating scale, 2PL, graded response.

    DATA is a CSV file with one column per item (one row per person; an unnamed first
    column is taken as row names); answers are whole-number categories. rasch, pcm and
    rsm are estimated by conditional maximum likelihood and match R's eRm (RM, PCM, RSM,
    thresholds, person.parameter, itemfit, SepRel, LRtest); 2pl and grm by marginal
    maximum likelihood (Bock-Aitkin EM) with EAP scores and S-X2 item fit. JSON keys:
    model, n, loglik, items (item_id, difficulty, location, se, a, thresholds, infit,
    outfit, s_x2, df, p, misfit...), information, scores, reliability, lr_test.

    \b
    Example:
      instrval irt exam.csv --model rasch
      instrval irt bfi.csv --items N1,N2,N3,N4,N5 --model grm --json
      instrval irt bfi.csv --instrument bfi-1.0.yaml --construct neuroticism --model pcm
    """
    from instrval.io.items import read_item_data
    from instrval.stats.irt import irt

    kw: dict[str, Any] = {"model": model, "lowest": lowest, "lr_test": not no_lr}
    if instrument_file is None:
        if construct is not None:
            raise click.UsageError("--construct needs --instrument")
        got = read_item_data(data, items=_split(items), all_numeric=True)
        res = irt(got.to_frame(), items=list(got.items), **kw)
        if as_json:
            emit_json(res.to_dict(include_scores=not no_scores))
        else:
            _print(res, f"Item response model: {model} ({Path(data).name})")
        return
    if items is not None:
        raise click.UsageError("--items cannot be combined with --instrument (use --construct)")
    from instrval.io.instrument import read_instrument

    inst = read_instrument(instrument_file)
    if construct is not None:
        ids = [inst.find_construct(construct).id]
    else:
        ids = [c.id for c in inst.constructs if c.kind in ("likert", "binary")]
        if not ids:
            raise StatisticsError(f"{inst.label} has no likert or binary construct to fit")
    results: dict[str, IRTResult] = {}
    for cid in ids:
        c = inst.construct(cid)
        if c.kind == "likert" and inst.scale_of(c) is None and any(
                it.reverse for it in c.items):
            raise StatisticsError("reverse-keyed items need a scale range in the instrument")
        # the construct's items, reverse keys applied on its response scale
        got = read_item_data(data, instrument=inst, construct=cid, reverse=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InstrvalWarning)
            results[cid] = irt(got.to_frame(), items=list(got.items), **kw)
        for w in caught:  # said again with the construct they are about
            warnings.warn(f"construct {cid}: {w.message}", w.category, stacklevel=1)
    if as_json:
        d = {cid: r.to_dict(include_scores=not no_scores) for cid, r in results.items()}
        emit_json(d[ids[0]] if construct is not None else {"constructs": d})
        return
    for i, (cid, r) in enumerate(results.items()):
        if i:
            click.echo()
        _print(r, f"Item response model: {model}, construct {cid}")
