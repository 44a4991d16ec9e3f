"""`instrval` commands for the COSMIN measurement properties beyond structure and internal
consistency: score, retest, hypotheses, criterion and responsiveness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from instrval.cli._base import echo_table, emit_json, force_option, main, refuse_overwrite

_IMPUTE = click.Choice(["none", "mean", "median"])
_CONF = click.FloatRange(0, 1, min_open=True, max_open=True)


def _where(values: tuple[str, ...]) -> dict[str, Any] | None:
    out: dict[str, list[str]] = {}
    for v in values:
        col, sep, val = v.partition("=")
        if not sep or not col.strip():
            raise click.BadParameter(f"{v!r}: give COLUMN=VALUE", param_hint="--where")
        out.setdefault(col.strip(), []).append(val.strip())
    return out or None


def _scoring_options(f: Any) -> Any:
    f = click.option("--min-items", type=click.FloatRange(min=0), default=0.5,
                     show_default=True,
                     help="Without imputation: least share (< 1) or number (>= 1) of a "
                          "scale's items answered for a (prorated) score.")(f)
    f = click.option("--impute", type=_IMPUTE, default="none", show_default=True,
                     help="none: prorate; mean/median: fill missing answers first "
                          "(psych::scoreItems).")(f)
    f = click.option("--method", type=click.Choice(["mean", "sum"]), default="mean",
                     show_default=True, help="Scale score: mean or sum of the items.")(f)
    f = click.option("--instrument", "instrument_file", type=click.Path(dir_okay=False),
                     required=True, help="Instrument file: scales, items and reverse keys.")(f)
    return f


def _read(data: str, instrument_file: str, numeric: Any = (), where: Any = None) -> Any:
    from instrval.cli._input import data_path
    from instrval.io.hypotheses import read_scored_table
    from instrval.io.instrument import read_instrument

    inst = read_instrument(instrument_file)
    return inst, read_scored_table(data_path(data), instrument=inst, numeric=numeric, where=where)


def _scored(inst: Any, df: Any, method: str, impute: str, min_items: float) -> Any:
    from instrval.stats.scoring import score_items

    res = score_items(df, instrument=inst, method=method, impute=impute, min_items=min_items)
    out = df.copy()
    for c in res.scores.columns:
        out[c] = res.scores[c]
    return res, out


@main.command("score")
@click.argument("data", type=click.Path(dir_okay=False))
@_scoring_options
@click.option("--factors", type=click.IntRange(min=1), default=None,
              help="Also estimate factor scores from an EFA with this many factors "
                   "(minres, oblimin) of the instrument's Likert items.")
@click.option("--factor-method", type=click.Choice(["regression", "bartlett"]),
              default="regression", show_default=True,
              help="Factor score method (psych::factor.scores Thurstone or Bartlett).")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Write the data with one score column per scale (and factor) added (CSV).")
@force_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def score_cmd(data: str, instrument_file: str, method: str, impute: str, min_items: float,
              factors: int | None, factor_method: str, output: str | None, force: bool,
              as_json: bool) -> None:
    """Scale scores (sum or mean of the keyed items) with alpha, lambda 6 and the
    correlations between scales.

    DATA is a CSV/TSV/XLSX file with one column per item. Reverse keys and the response
    range come from the instrument. Without imputation a score is the mean of the items
    answered (the sum: that mean times the number of items) when at least --min-items of
    them were answered. Numbers match R's psych::scoreItems.

    \b
    Example:
      instrval score bfi.csv --instrument instruments/bfi/bfi-1.0.yaml
      instrval score bfi.csv --instrument bfi-1.0.yaml --method sum -o scores.csv --json
      instrval score bfi.csv --instrument bfi-1.0.yaml --factors 5 --factor-method bartlett
    """
    refuse_overwrite(output, force=force)
    inst, df = _read(data, instrument_file)
    res, out = _scored(inst, df, method, impute, min_items)
    fs = None
    if factors is not None:
        from instrval.stats.efa import efa
        from instrval.stats.scoring import factor_scores

        likert = [i.id for c in inst.constructs if c.kind == "likert" for i in c.items
                  if i.id in df.columns]
        sol = efa(df[likert], n_factors=factors, method="minres",
                  rotation="oblimin" if factors > 1 else "none")
        fs = factor_scores(df[likert], sol, method=factor_method)
        for c in fs.scores.columns:
            out[f"factor_{c}"] = fs.scores[c]
    if output is not None:
        from instrval.io.atomic import atomic_write_text

        atomic_write_text(Path(output), out.to_csv(index=False, lineterminator="\n"))
    if as_json:
        d = res.to_dict()
        d["n"] = int(len(df))
        if fs is not None:
            d["factor_scores"] = fs.to_dict()
        if output is not None:
            d["output"] = output
        emit_json(d)
        return
    echo_table(res.scales, title=f"Scale scores ({Path(data).name}): {res.rule}")
    click.echo()
    echo_table(res.correlations.reset_index(names="scale"), title="Correlations between scales")
    if fs is not None:
        click.echo()
        echo_table(fs.weights, title=f"Factor score weights ({fs.method})")


@main.command("retest")
@click.argument("data", type=click.Path(dir_okay=False))
@_scoring_options
@click.option("--id", "id_col", required=True, help="Column of respondent ids.")
@click.option("--time", "time_col", required=True, help="Column of the occasion.")
@click.option("--where", multiple=True, help="Keep rows where COLUMN=VALUE (repeatable), "
              "e.g. the respondents known to be stable.")
@click.option("--mic", help="Minimal important change: a number, or half_sd (half the SD "
              "at the first occasion).")
@click.option("--confidence", type=_CONF, default=0.95, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def retest_cmd(data: str, instrument_file: str, method: str, impute: str, min_items: float,
               id_col: str, time_col: str, where: tuple[str, ...], mic: str | None,
               confidence: float, as_json: bool) -> None:
    """Test-retest reliability and measurement error of the scale scores.

    DATA is a long CSV file: one row per respondent and occasion (--id, --time) with the
    item columns. Per scale: ICC(A,1) with its interval, SEM from the variance components
    (de Vet 2006), smallest detectable change 1.96 x sqrt(2) x SEM (individual and group),
    Bland-Altman mean difference and limits of agreement with intervals. Numbers match R's
    psych::ICC and t.test.

    \b
    Example:
      instrval retest stai-repeated.csv --instrument stai6-1.0.yaml --id respondent_id \\
          --time time --where design=control --mic half_sd --json
    """
    from instrval.stats.measurement_error import retest

    mic_v: Any = None
    if mic is not None:
        try:
            mic_v = mic if mic == "half_sd" else float(mic)
        except ValueError:
            raise click.BadParameter(f"{mic!r}: a number or half_sd", param_hint="--mic") \
                from None
    inst, df = _read(data, instrument_file, where=_where(where))
    res = retest(df, id=id_col, time=time_col, instrument=inst, method=method, impute=impute,
                 min_items=min_items, confidence=confidence, mic=mic_v)
    if as_json:
        emit_json(res.to_dict())
        return
    cols = ["scale", "n", "icc_agreement", "icc_agreement_ci_low", "icc_agreement_ci_high",
            "sem_agreement", "sdc_individual", "sdc_group", "mean_diff", "loa_low",
            "loa_high", "mic"]
    echo_table(res.table[cols].T.reset_index(names="statistic"),
               title=f"Test-retest, occasions {res.times[0]} and {res.times[1]}")


def _hyp_table(res: Any, title: str) -> None:
    cols = ["id", "type", "scale", "other", "n", "statistic", "estimate", "ci_low", "ci_high",
            "expected", "holds"]
    echo_table(res.table[cols], title=title)
    click.echo(f"{res.n_holds} of {res.n_hypotheses} hypotheses hold: {res.rating} "
               "(COSMIN: sufficient when >= 75% hold)")


@main.command("hypotheses")
@click.argument("data", type=click.Path(dir_okay=False))
@_scoring_options
@click.option("--hypotheses", "hyp_file", type=click.Path(dir_okay=False), required=True,
              help="Hypotheses file (YAML).")
@click.option("--confidence", type=_CONF, default=0.95, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def hypotheses_cmd(data: str, instrument_file: str, method: str, impute: str,
                   min_items: float, hyp_file: str, confidence: float, as_json: bool) -> None:
    """Hypotheses testing for construct validity: expected correlations with other
    measures and differences between known groups, with intervals.

    DATA is a CSV file with the item columns and the other variables the hypotheses name;
    scales are scored from the instrument and named by construct id. Correlations use the
    Fisher-z interval (R cor.test), group differences Welch's t and Hedges' g.

    \b
    Example:
      instrval hypotheses stai-baseline.csv --instrument stai6-1.0.yaml \\
          --hypotheses hypotheses.yaml --json
    """
    from instrval.io.hypotheses import read_hypotheses
    from instrval.stats.hypotheses import evaluate_hypotheses

    hs = read_hypotheses(hyp_file)
    numeric = [h.other for h in hs if h.type == "correlation"]
    inst, df = _read(data, instrument_file)
    numeric = [c for c in numeric if c in df.columns and c not in inst.construct_ids]
    if numeric:
        from instrval.cli._input import data_path
        from instrval.io.hypotheses import read_scored_table

        df = read_scored_table(data_path(data), instrument=inst, numeric=numeric)
    _, scored = _scored(inst, df, method, impute, min_items)
    res = evaluate_hypotheses(scored, hs, confidence=confidence)
    if as_json:
        emit_json(res.to_dict())
        return
    _hyp_table(res, f"Hypotheses ({Path(hyp_file).name})")


@main.command("criterion")
@click.argument("data", type=click.Path(dir_okay=False))
@_scoring_options
@click.option("--scale", help="Construct to test (default: the only scored construct).")
@click.option("--criterion", "crit", required=True, help="Column of the gold standard.")
@click.option("--positive", help="Value of a dichotomous criterion that higher scores "
              "should indicate (default 1 for 0/1).")
@click.option("--confidence", type=_CONF, default=0.95, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def criterion_cmd(data: str, instrument_file: str, method: str, impute: str,
                  min_items: float, scale: str | None, crit: str, positive: str | None,
                  confidence: float, as_json: bool) -> None:
    """Criterion validity: correlation with a gold standard (Fisher-z interval, as R
    cor.test) or, for a dichotomous criterion, the AUC with DeLong's interval (as
    pROC). COSMIN: sufficient when r or AUC >= 0.70.

    \b
    Example:
      instrval criterion stai-baseline.csv --instrument stai6-1.0.yaml --criterion stai20
      instrval criterion stai-baseline.csv --instrument stai6-1.0.yaml \\
          --criterion stai20_ge40 --positive 1 --json
    """
    from instrval.errors import StatisticsError
    from instrval.stats.criterion import criterion_validity

    pos: Any = positive
    if positive is not None:
        try:
            pos = float(positive) if "." in positive else int(positive)
        except ValueError:
            pos = positive
    try:  # a numeric criterion (or 0/1) is checked cell by cell; text labels are kept
        inst, df = _read(data, instrument_file, numeric=[crit])
    except StatisticsError as exc:
        if not any(p.reason == "not_a_number" for p in exc.problems):
            raise
        inst, df = _read(data, instrument_file)
    res, scored = _scored(inst, df, method, impute, min_items)
    if scale is None:
        if len(res.scores.columns) != 1:
            raise click.UsageError("the instrument has several scales; name one with --scale")
        scale = str(res.scores.columns[0])
    c = criterion_validity(scored, score=scale, criterion=crit, positive=pos,
                           confidence=confidence)
    if as_json:
        emit_json(c.to_dict())
        return
    echo_table(c.to_frame(), title="Criterion validity")


@main.command("responsiveness")
@click.argument("data", type=click.Path(dir_okay=False))
@_scoring_options
@click.option("--id", "id_col", required=True, help="Column of respondent ids.")
@click.option("--time", "time_col", required=True, help="Column of the occasion.")
@click.option("--where", multiple=True, help="Keep rows where COLUMN=VALUE (repeatable).")
@click.option("--hypotheses", "hyp_file", type=click.Path(dir_okay=False), required=True,
              help="Hypotheses about the change scores (YAML), e.g. an auc hypothesis for "
                   "the anchor of change.")
@click.option("--confidence", type=_CONF, default=0.95, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def responsiveness_cmd(data: str, instrument_file: str, method: str, impute: str,
                       min_items: float, id_col: str, time_col: str, where: tuple[str, ...],
                       hyp_file: str, confidence: float, as_json: bool) -> None:
    """Responsiveness: hypotheses about change scores (second minus first occasion), such
    as the AUC of the change for an anchor of change (>= 0.70).

    DATA is a long CSV file (--id, --time) with the items and the anchor columns; numeric
    columns that change between occasions become change scores too.

    \b
    Example:
      instrval responsiveness stai-repeated.csv --instrument stai6-1.0.yaml \\
          --id respondent_id --time time --where design=film \\
          --hypotheses responsiveness.yaml --json
    """
    from instrval.io.hypotheses import read_hypotheses
    from instrval.stats.criterion import responsiveness

    hs = read_hypotheses(hyp_file)
    numeric = [h.other for h in hs if h.type == "correlation"]
    inst, df = _read(data, instrument_file, where=_where(where))
    numeric = [c for c in numeric if c in df.columns and c not in inst.construct_ids]
    if numeric:
        _, df = _read(data, instrument_file, numeric=numeric, where=_where(where))
    res = responsiveness(df, hs, id=id_col, time=time_col, instrument=inst, method=method,
                         impute=impute, min_items=min_items, confidence=confidence)
    if as_json:
        emit_json(res.to_dict())
        return
    _hyp_table(res.hypotheses, f"Responsiveness ({res.n} respondents, occasions "
                               f"{res.times[0]} and {res.times[1]})")
