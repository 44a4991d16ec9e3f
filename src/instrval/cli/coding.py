"""`instrval coding`: check coded interviews, summarise evidence per item, agreement."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from instrval._choices import CODING_FORMATS
from instrval.cli._base import echo_table, emit_json, main

if TYPE_CHECKING:
    from instrval.model.coding import CodingData
    from instrval.model.instrument import Instrument

_FORMAT = click.Choice(CODING_FORMATS)


@main.group("coding")
def coding() -> None:
    """Coded interview segments: check them, judge items, measure agreement.

    \b
    Example:
      instrval coding summary examples/iam/coding/segments.csv \\
        --codebook examples/iam/coding/codebook.yaml \\
        --instrument instruments/iam/iam-2011.yaml
    """


def _load(path: str, codebook: str | None, instrument: str | None, fmt: str | None
          ) -> tuple[Instrument | None, CodingData]:
    from instrval.io.coding import read_codebook, read_coding
    from instrval.io.instrument import read_instrument

    inst = read_instrument(instrument) if instrument else None
    book = read_codebook(codebook, instrument=inst) if codebook else None
    return inst, read_coding(path, instrument=inst, codebook=book, format=fmt)


@coding.command("check")
@click.argument("coding_file", metavar="CODING", type=click.Path(dir_okay=False))
@click.option("--codebook", type=click.Path(dir_okay=False), help="Codebook (YAML, CSV, .qdc).")
@click.option("--instrument", type=click.Path(dir_okay=False), help="Instrument file.")
@click.option("--format", "fmt", type=_FORMAT, default=None,
              help="Input format (default: from the extension and header).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check(coding_file: str, codebook: str | None, instrument: str | None, fmt: str | None,
          as_json: bool) -> None:
    """Check a coding table or QDA export; list every problem.

    Exits with status 1 when any row had an error (the rows are quarantined).

    \b
    Example:
      instrval coding check examples/iam/coding/segments.csv \\
        --codebook examples/iam/coding/codebook.yaml \\
        --instrument instruments/iam/iam-2011.yaml
    """
    _, data = _load(coding_file, codebook, instrument, fmt)
    if as_json:
        emit_json({"summary": data.summary(),
                   "problems": [p.to_dict() for p in data.problems]})
    else:
        s = data.summary()
        click.echo(f"{s['file']} ({s['format']}): {s['rows_read']} rows read, "
                   f"{s['accepted']} accepted, {s['quarantined']} quarantined; "
                   f"{s['segments']} segments, {s['participants']} participants, "
                   f"coders: {', '.join(s['coders']) or 'none named'}")
        for p in data.problems:
            label = "error" if p.severity == "error" else "warning"
            click.echo(f"  {label}: {p} [{p.reason}]")
        if not data.problems:
            click.echo("  no problems found")
    if data.errors:
        raise SystemExit(1)


@coding.command("summary")
@click.argument("coding_file", metavar="CODING", type=click.Path(dir_okay=False))
@click.option("--codebook", type=click.Path(dir_okay=False), required=True,
              help="Codebook (YAML, CSV, .qdc).")
@click.option("--instrument", type=click.Path(dir_okay=False), required=True,
              help="Instrument file.")
@click.option("--format", "fmt", type=_FORMAT, default=None, help="Input format.")
@click.option("--pin", "pins", multiple=True, metavar="SEGMENT_ID",
              help="Show this segment as a quote of its item (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def summary(coding_file: str, codebook: str, instrument: str, fmt: str | None,
            pins: tuple[str, ...], as_json: bool) -> None:
    """Representativeness per item, exemplar quotes and missing concepts.

    JSON: {"items": [{"item_id", "participants", "supports", "challenges",
    "representative", "quotes": [...]}], "missing_concepts": [...]}.

    \b
    Example:
      instrval coding summary examples/iam/coding/segments.csv \\
        --codebook examples/iam/coding/codebook.yaml \\
        --instrument instruments/iam/iam-2011.yaml --json
    """
    import pandas as pd

    from instrval.qual.evidence import item_evidence

    inst, data = _load(coding_file, codebook, instrument, fmt)
    if inst is None:  # pragma: no cover - click enforces the required option
        raise click.UsageError("--instrument is required")
    ev = item_evidence(data, inst, pinned_quotes=list(pins) or None)
    if as_json:
        emit_json(ev.to_dict())
        return
    shown = ev.items[["item_id", "participants", "segments", "supports", "challenges",
                      "wording", "representative"]].copy()
    shown["representative"] = shown["representative"].map(
        lambda v: "no evidence" if pd.isna(v) else ("yes" if v else "NO"))
    echo_table(shown, title="Representativeness per item")
    for r in ev.items[ev.items["representative"] == False].itertuples():  # noqa: E712
        click.echo(f"\n{r.item_id}: {r.rule}")
    if len(ev.missing_concepts):
        click.echo("")
        echo_table(ev.missing_concepts[["construct_id", "code", "participants", "segments"]],
                   title="Missing-concept candidates")


@coding.command("agreement")
@click.argument("coding_file", metavar="CODING", type=click.Path(dir_okay=False))
@click.option("--codebook", type=click.Path(dir_okay=False), help="Codebook (optional).")
@click.option("--format", "fmt", type=_FORMAT, default=None, help="Input format.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def agreement(coding_file: str, codebook: str | None, fmt: str | None, as_json: bool) -> None:
    """Inter-coder agreement on segments coded by two or more coders.

    Percent agreement, Cohen's kappa (two coders), Fleiss' kappa and Krippendorff's
    nominal alpha, per code and overall.

    \b
    Example:
      instrval coding agreement examples/iam/coding/segments.csv
    """
    from instrval.stats.agreement import coder_agreement

    _, data = _load(coding_file, codebook, None, fmt)
    res = coder_agreement(data)
    if as_json:
        emit_json(res.to_dict())
        return
    click.echo(f"{res.n_segments} segments coded by two or more of the coders "
               f"{', '.join(res.coders) or '(none)'}")
    if res.n_segments == 0:
        return
    echo_table(res.overall, title="Overall")
    echo_table(res.codes, title="Per code")
