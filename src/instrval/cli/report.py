"""`instrval` commands: report."""

from __future__ import annotations

from pathlib import Path

import click

from instrval.cli._base import emit_json, is_quiet, main
from instrval.cli.ratings import engine_options

__all__ = ["report"]


@main.command("report")
@click.argument("study_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--instrument", type=click.Path(dir_okay=False, path_type=Path),
              help="Instrument file (overrides the study's).")
@click.option("--ratings", type=click.Path(),
              help="Rating export: a file, a folder of Parquet parts, a glob or a URL "
                   "(s3://bucket/exports/; overrides the study's).")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path),
              help="Column mapping of the rating export.")
@click.option("--coding", type=click.Path(dir_okay=False, path_type=Path),
              help="Coding table of the interviews.")
@click.option("--codebook", type=click.Path(dir_okay=False, path_type=Path),
              help="Codebook of the coding table.")
@click.option("--panel", type=click.Path(dir_okay=False, path_type=Path),
              help="Expert-panel ratings (I-CVI, CVR).")
@click.option("--decisions", type=click.Path(dir_okay=False, path_type=Path),
              help="Expert decisions file (item, decision, rationale, who, date).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: the study's output, else ./report).")
@click.option("--seed", type=int, help="Seed of every random step.")
@click.option("--threshold", type=float, help="Relevance cut-off (rules.relevance_min).")
@click.option("--version-label", help="Version label of the revised instrument.")
@click.option("--timestamp", help="Report time, ISO 8601 (fix it for byte-identical output).")
@click.option("--quiet", "-q", is_flag=True, help="Show no progress.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the summary and the files written as JSON.")
@engine_options
def report(study_file: Path | None, instrument: Path | None, ratings: str | None,
           mapping: Path | None, coding: Path | None, codebook: Path | None,
           panel: Path | None, decisions: Path | None, out_dir: Path | None,
           seed: int | None, threshold: float | None, version_label: str | None,
           timestamp: str | None, quiet: bool, as_json: bool, engine: str,
           scheduler: str | None, storage_option: tuple[str, ...]) -> None:
    """Write the validation report and the revised instrument.

    Reads a study file (or the same inputs given as options), runs every analysis the
    data allow, integrates the quantitative and qualitative evidence in a joint display
    with the decision rules and the expert decisions, and writes the report folder:
    report.html, report.md, results.json, tables/*.csv, tables.xlsx, quarantine.csv and
    the revised instrument (<id>-<version>.yaml). Options override the study file; paths
    in the study file are relative to it. The ratings may be a folder of Parquet parts or
    a URL in object storage (--storage-option); big Parquet inputs are read by DuckDB or
    Dask (--engine, see docs/scale.md).

    \b
    Example:
      instrval report examples/iam/study.yaml
      instrval report --instrument instruments/bfi/bfi-1.0.yaml \\
          --ratings examples/bfi/bfi.csv --out bfi-report --timestamp 2024-01-01T00:00:00Z
    """
    from instrval.cli.ratings import storage_options
    from instrval.errors import StudyError
    from instrval.io.study import read_study, study_from_mapping
    from instrval.pipeline import run_validation, write_report

    if study_file is not None:
        study = read_study(study_file)
    elif instrument is None:
        raise StudyError("give a study file, or at least --instrument (and the data: "
                         "--ratings, --coding ...)")
    else:
        study = study_from_mapping({"instrument": str(instrument)}, base_dir=Path.cwd())
    study = study.with_overrides(
        instrument=instrument, ratings=ratings, mapping=mapping, coding=coding,
        codebook=codebook, panel=panel, decisions=decisions, output=out_dir, seed=seed,
        threshold=threshold, version_label=version_label, timestamp=timestamp)
    if study.output is None:
        study = study.replace(output=Path.cwd() / "report")
    result = run_validation(study, quiet=quiet or as_json or is_quiet(), engine=engine,
                            scheduler=scheduler,
                            storage_options=storage_options(storage_option))
    written = write_report(result, study.output)
    if as_json:
        emit_json({"summary": result.summary(), "output": str(study.output),
                   "files": {k: str(v) for k, v in written.items()
                             if not k.startswith("csv:")},
                   "open_questions": [
                       r["item_id"] if r["row_type"] == "item" else f"concept:{r['concept']}"
                       for r in result.joint.open_questions().to_dict(orient="records")]})
        return
    s = result.summary()
    click.echo(f"{s['items_reviewed']} items reviewed ({s['instrument']}): {s['kept']} kept, "
               f"{s['revised']} revised, {s['removed']} removed, {s['added']} added "
               f"-> {s['revised_instrument']} ({s['items_after']} items)")
    if s["open_questions"]:
        click.echo(f"{s['open_questions']} open question(s): see the Decisions section")
    click.echo(f"Report: {written['html']}")
