"""`instrval invariance`: multi-group measurement invariance (configural to strict)."""

from __future__ import annotations

import click

from instrval.cli._base import echo_table, emit_json, main
from instrval.cli._input import export_options


@main.command("invariance")
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--instrument", "instrument_file", type=click.Path(dir_okay=False),
              help="Instrument file: each likert/binary construct is a factor of its items.")
@click.option("--model", "model_file", type=click.Path(dir_okay=False),
              help="Model file: lavaan syntax or YAML/JSON {factor: [items]}; overrides the "
                   "instrument's constructs.")
@click.option("--group", "group", required=True,
              help="The column holding the groups (the first group met is the reference).")
@click.option("--estimator", type=click.Choice(["ml", "mlr", "wlsmv"]), default="ml",
              show_default=True,
              help="ml: maximum likelihood; mlr: robust ML (scaled chi-square, CFI, TLI, "
                   "RMSEA; Satorra-Bentler scaled differences); wlsmv: ordered (Likert or "
                   "binary) items, levels configural and scalar (equal loadings and "
                   "thresholds), Satorra (2000) scaled and shifted differences.")
@click.option("--identification", type=click.Choice(["lavaan", "wu.estabrook"]),
              default="lavaan", show_default=True,
              help="With --estimator wlsmv: lavaan's defaults (configural, scalar) or the "
                   "Wu & Estabrook (2016) sequence (configural, thresholds, metric) as "
                   "semTools measEq.syntax writes it.")
@click.option("--missing", type=click.Choice(["listwise", "ml"]), default="listwise",
              show_default=True, help="ml: full-information ML for missing answers (FIML).")
@click.option("--free", "free", multiple=True,
              help="A parameter left free across groups (lavaan group.partial), e.g. "
                   "\"x3~1\" or \"visual=~x2\"; repeat for several.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@export_options
def invariance_command(data: str, instrument_file: str | None, model_file: str | None,
                       group: str, estimator: str, identification: str, missing: str,
                       free: tuple[str, ...],
                       as_json: bool, fmt: str | None, mapping: str | None,
                       dictionary: str | None) -> None:
    """Measurement invariance of a factor model across the groups in column GROUP of DATA.

    Fits the configural, metric (equal loadings), scalar (+ equal intercepts) and strict
    (+ equal residual variances) models, as lavaan's group.equal, and compares each with the
    one before (chi-square difference, delta CFI, delta RMSEA). A level holds when delta CFI
    >= -.010 and delta RMSEA <= .015 (Cheung & Rensvold 2002; Chen 2007) and the level
    before holds (configural: CFI >= .90, RMSEA <= .08). With --estimator wlsmv the items
    are ordered categories: configural and scalar (equal loadings and thresholds) models as
    lavaan's WLSMV with scaled fit measures. "partial" lists the score test of
    releasing each equality constraint, largest first, and the parameters freed with --free.

    \b
    Example:
      instrval invariance tests/data/HolzingerSwineford1939.csv --model hs.lav --group school
      instrval invariance tests/data/bfi.csv --instrument instruments/bfi/bfi-1.0.yaml \\
          --group gender --free "A1~1" --json
      instrval invariance tests/data/bfi.csv --instrument instruments/bfi/bfi-1.0.yaml \\
          --group gender --estimator wlsmv --json
    """
    from instrval.cli.cfa import load_model_and_data
    from instrval.stats.sem.invariance import measurement_invariance

    model, df = load_model_and_data(data, instrument_file, model_file, fmt=fmt,
                                    mapping=mapping, dictionary=dictionary)
    res = measurement_invariance(df, model, group=group, estimator=estimator,
                                 missing=missing, group_partial=free,
                                 identification=identification)
    if as_json:
        emit_json(res.to_dict())
        return
    sizes = ", ".join(f"{k} (n = {v})" for k, v in res.groups.items())
    echo_table(res.levels, title=f"Measurement invariance ({res.estimator.upper()}): {sizes}")
    if len(res.partial):
        click.echo()
        echo_table(res.partial.head(15), title="Partial invariance: freed parameters and the "
                                               "constraints whose release most improves fit")
