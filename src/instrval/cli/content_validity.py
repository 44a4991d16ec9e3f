"""`instrval` commands: content-validity (expert panel indices)."""

from __future__ import annotations

import warnings
from typing import Any

import click

from instrval.cli._base import echo_table, emit_json, main
from instrval.errors import DataQualityWarning

_TABLE_COLUMNS = ["item_id", "n_experts", "i_cvi", "modified_kappa", "kappa_band", "cvr",
                  "cvr_critical", "aiken_v", "aiken_ci_low", "aiken_ci_high"]


@main.command("content-validity")
@click.argument("panel", type=click.Path(dir_okay=False))
@click.option("--instrument", "instrument_file", required=True,
              type=click.Path(dir_okay=False), help="Instrument file (item ids and order).")
@click.option("--aspect", default="relevance", show_default=True,
              help="Rated aspect to analyse (a column of a long-form panel).")
@click.option("--relevant-min", type=int, default=3, show_default=True,
              help="Ratings at or above this code count as relevant.")
@click.option("--essential-min", type=int, default=None,
              help="Ratings at or above this code count as 'essential' for the CVR "
              "(default: --relevant-min).")
@click.option("--scale-max", type=int, default=4, show_default=True,
              help="Highest code of the rating scale (lowest is 1).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def content_validity_cmd(panel: str, instrument_file: str, aspect: str, relevant_min: int,
                         essential_min: int | None, scale_max: int, as_json: bool) -> None:
    """Content validity from expert ratings: I-CVI, modified kappa, CVR, Aiken's V, S-CVI.

    PANEL is a CSV or XLSX file, long (expert, item_id, relevance[, clarity, ...]) or wide
    (expert + one column per item id), rated 1..4 by default. Ratings with problems are
    quarantined and reported as warnings; the rest are analysed.

    \b
    Example:
      instrval content-validity panel.csv --instrument iam-2011.yaml
      instrval content-validity panel.xlsx --instrument iam-2011.yaml --json
    """
    from instrval.io.instrument import read_instrument
    from instrval.io.panel import read_panel
    from instrval.stats.content_validity import content_validity

    inst = read_instrument(instrument_file)
    data = read_panel(panel, inst, scale_max=scale_max)
    if data.problems:
        shown = "\n".join(f"  - {p}" for p in data.problems[:20])
        more = f"\n  ... and {len(data.problems) - 20} more" if len(data.problems) > 20 else ""
        warnings.warn(
            f"{len(data.quarantine)} rating(s) quarantined, {len(data.problems)} problem(s) "
            f"in {panel}:\n{shown}{more}", DataQualityWarning, stacklevel=1)
    res = content_validity(data, relevant_min=relevant_min, essential=essential_min,
                           aspect=aspect, items=list(inst.item_ids))
    if as_json:
        out: dict[str, Any] = res.to_dict()
        out["problems"] = [p.to_dict() for p in data.problems]
        out["n_quarantined"] = int(len(data.quarantine))
        emit_json(out)
        return
    echo_table(res.items[_TABLE_COLUMNS], title=f"Content validity ({aspect}), {inst.label}")
    click.echo()
    s = res.scale
    click.echo(f"S-CVI/Ave = {s['s_cvi_ave']:.4f}   S-CVI/UA = {s['s_cvi_ua']:.4f}   "
               f"items = {s['n_items']}   experts = {s['n_experts']}")
