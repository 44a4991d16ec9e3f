"""`instrval ratings`: check rating exports, write mapping templates, generate IAM data."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import click

from instrval._choices import RATING_FORMATS
from instrval.cli._base import (
    echo_table,
    emit_json,
    force_option,
    is_quiet,
    main,
    refuse_overwrite,
)
from instrval.errors import DataQualityWarning, RatingsError

__all__ = ["ratings"]

_FORMAT = click.Choice(RATING_FORMATS)


@main.group("ratings")
def ratings() -> None:
    """Read and check rating exports against an instrument.

    \b
    Example:
      instrval ratings check export.csv --instrument instruments/iam/iam-2011.yaml
    """


def _report(rd: Any) -> dict[str, Any]:
    s = rd.summary()
    return {
        "read": s["read"], "accepted": s["accepted"], "quarantined": s["quarantined"],
        "respondents": s["respondents"], "date_min": s["date_min"], "date_max": s["date_max"],
        "presented": s["presented"], "gates_open": s["gates_open"],
        "problems": [{"row": p.row, "column": p.column,
                      "value": p.to_dict()["value"], "reason": p.reason,
                      "message": p.message, "severity": p.severity} for p in rd.problems],
    }


ENGINE_OPTIONS = (
    click.option("--engine", type=click.Choice(["auto", "pandas", "duckdb", "dask"]),
                 default="auto", show_default=True,
                 help="auto: DuckDB for Parquet parts, URLs and Parquet files of 250,000 "
                      "rows or more, pandas otherwise; dask: partitions on a Dask cluster "
                      "(--scheduler)."),
    click.option("--scheduler", default=None, metavar="ADDRESS|local",
                 help="Dask scheduler for --engine dask: an address (tcp://host:8786) or "
                      "'local' (a local cluster) [default: local]."),
    click.option("--storage-option", "storage_option", multiple=True, metavar="KEY=VALUE",
                 help="Option of the object store of a URL DATA argument (s3://, gs://, "
                      "abfs://...), passed to fsspec; repeat for several (anon=true, "
                      "profile=NAME, endpoint_url=...). true/false/null and integers are "
                      "read as such."),
)


def engine_options(f: Any) -> Any:
    """The --engine, --scheduler and --storage-option options (shared by ratings check,
    relevance, report)."""
    for opt in reversed(ENGINE_OPTIONS):
        f = opt(f)
    return f


def storage_options(pairs: tuple[str, ...]) -> dict[str, Any] | None:
    """``--storage-option KEY=VALUE`` pairs as fsspec storage options (``true``,
    ``false``, ``null`` and integers converted; anything else kept as text)."""
    if not pairs:
        return None
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE",
                                     param_hint="--storage-option")
        low = raw.strip().lower()
        value: Any = raw
        if low in ("true", "false"):
            value = low == "true"
        elif low in ("null", "none"):
            value = None
        elif re.fullmatch(r"[+-]?[0-9]+", raw.strip()):
            value = int(raw)
        out[key] = value
    return out


def progress_fn(quiet: bool) -> Any:
    """Progress lines on standard error, or none (JSON mode)."""
    if quiet or is_quiet():
        return None
    from instrval.io.engine import stderr_progress

    return stderr_progress


@ratings.command("check")
@click.argument("export", type=click.Path())
@click.option("--instrument", "instrument_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Instrument definition file (YAML or JSON).")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Mapping file from export columns and codes to instrument ids.")
@click.option("--format", "fmt", type=_FORMAT, help="Export format (default: detected).")
@click.option("--dictionary", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="REDCap data dictionary (CSV) for a REDCap export.")
@click.option("--strict", is_flag=True, help="Fail on any problem, warnings included.")
@click.option("--quarantine", "quarantine_path", type=click.Path(dir_okay=False,
                                                                  path_type=Path),
              help="Write the quarantined rows, with their reasons, to this CSV file.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--max-problems", type=click.IntRange(min=0), default=50, show_default=True,
              help="Problems listed in the text report (JSON lists all).")
@engine_options
@force_option
def check(export: str, instrument_file: Path, mapping: Path | None, fmt: str | None,
          dictionary: Path | None, strict: bool, quarantine_path: Path | None,
          as_json: bool, max_problems: int, engine: str, scheduler: str | None,
          storage_option: tuple[str, ...], force: bool) -> None:
    """Read EXPORT, check it against the instrument, and report.

    Prints ratings read / accepted / quarantined (they always add up), respondents, the
    date range, per construct how many ratings presented it, per gate how many opened
    it, and every problem (row as in a spreadsheet, column, value, reason). Exits with
    status 1 when nothing usable remains, or with --strict when there is any problem.

    EXPORT is a file, a folder of Parquet parts or a glob ("parts/*.parquet"), or the
    URL of a Parquet file, folder or glob in object storage (s3://bucket/exports/, gs://,
    abfs://, https:// for one file; --storage-option). Big Parquet inputs are checked by
    DuckDB in bounded memory (--engine; see docs/scale.md), with the same result as the
    pandas reader.

    \b
    Example:
      instrval ratings check examples/iam/data/iam-sample.csv \\
          --instrument instruments/iam/iam-2011.yaml --quarantine bad-rows.csv
      instrval ratings check parts/ --instrument iam.yaml --engine dask --scheduler local
      instrval ratings check s3://bucket/exports/ --instrument iam.yaml \\
          --storage-option anon=true
    """
    from instrval.cli._input import data_path
    from instrval.io.engine import read_ratings_any
    from instrval.io.instrument import read_instrument
    from instrval.report.tables import write_csv

    refuse_overwrite(quarantine_path, force=force)
    export = data_path(export)
    inst = read_instrument(instrument_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        rd = read_ratings_any(export, inst, engine=engine, scheduler=scheduler, format=fmt,
                              mapping=mapping, dictionary=dictionary, inspect=True,
                              storage_options=storage_options(storage_option),
                              progress=progress_fn(as_json))
    rep = _report(rd)
    if quarantine_path is not None:
        # neutralised as the report's tables are: the quarantine holds the export's cells
        write_csv(rd.quarantine, quarantine_path)
    if as_json:
        emit_json(rep)
    else:
        _print_report(rd, rep, quarantine_path, max_problems)
    if rd.n_accepted == 0:
        raise RatingsError(f"nothing usable in {export}: all {rd.n_read} rows were "
                           "quarantined")
    if not any(int(v) for v in rep["presented"].values()):
        raise RatingsError(f"nothing usable in {export}: no rating presents any construct "
                           "(no column holds a value for an item of the instrument); map the "
                           "columns to the item ids with --mapping (see ratings map-template)")
    if strict and rd.problems:
        raise RatingsError(f"{len(rd.problems)} problems in {export}; --strict accepts none")


def _print_report(rd: Any, rep: dict[str, Any], qpath: Path | None, max_problems: int
                  ) -> None:
    import pandas as pd

    src = rd.source
    click.echo(click.style(f"{src.get('file')} ({src.get('format')}) against "
                           f"{rd.instrument.label}", bold=True))
    click.echo(f"ratings read:        {rep['read']}")
    click.echo(f"accepted:            {rep['accepted']}")
    where = f" -> {qpath}" if qpath is not None else " (save with --quarantine FILE)"
    click.echo(f"quarantined:         {rep['quarantined']}{where if rep['quarantined'] else ''}")
    ok = rep["accepted"] + rep["quarantined"] == rep["read"]
    click.echo(f"reconciliation:      {rep['accepted']} + {rep['quarantined']} = "
               f"{rep['accepted'] + rep['quarantined']} "
               f"{'=' if ok else '!='} {rep['read']} read")
    click.echo(f"respondents:         {rep['respondents']}")
    if rep["date_min"]:
        click.echo(f"dates:               {rep['date_min']} to {rep['date_max']}")
    pres = pd.DataFrame({"construct": list(rep["presented"]),
                         "ratings_presenting": list(rep["presented"].values())})
    echo_table(pres, title="Constructs presented")
    if rep["gates_open"]:
        gates = pd.DataFrame({"gate": list(rep["gates_open"]),
                              "ratings_open": list(rep["gates_open"].values())})
        echo_table(gates, title="Gates opened")
    probs = rd.problems_frame()
    n = len(probs)
    title = f"Problems ({n})" + (f", first {max_problems} shown" if n > max_problems else "")
    shown = probs.drop(columns=["file"]).head(max_problems)
    shown["row"] = shown["row"].astype("Int64")
    echo_table(shown.astype("string").fillna(""), title=title)
    if n:
        counts = probs.groupby(["reason", "severity"]).size().reset_index(name="n")
        echo_table(counts, title="Problems by reason")


@ratings.command("map-template")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--instrument", "instrument_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Instrument definition file (YAML or JSON).")
@click.option("--format", "fmt", type=_FORMAT, help="Export format (default: detected).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the mapping here (default: print it).")
@click.option("--json", "as_json", is_flag=True,
              help='Print JSON: {"written": [...], "mapping": {...}} (the mapping as data).')
@force_option
def map_template(export: Path, instrument_file: Path, fmt: str | None,
                 out: Path | None, as_json: bool, force: bool) -> None:
    """Write a starting mapping file for EXPORT: every column matched to an instrument
    id, and every column that could not be matched (to fill in by hand).

    \b
    Example:
      instrval ratings map-template qualtrics.csv \\
          --instrument instruments/iam/iam-2011.yaml --out mapping.yaml
    """
    from instrval.io.atomic import atomic_write_text
    from instrval.io.instrument import read_instrument
    from instrval.io.ratings import ratings_mapping_template

    refuse_overwrite(out, force=force)
    inst = read_instrument(instrument_file)
    text = ratings_mapping_template(export, inst, format=fmt)
    if out is not None:
        atomic_write_text(out, text)
    if as_json:
        import yaml

        emit_json({"written": [str(out)] if out is not None else [],
                   "mapping": yaml.safe_load(text)})
    elif out is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote {out}")


@ratings.command("generate-iam")
@click.option("--out", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the files into.")
@click.option("--n-ratings", default=234_196, show_default=True,
              type=click.IntRange(1, 100_000_000), help="Number of ratings (1 to 100 million).")
@click.option("--n-respondents", default=None, type=click.IntRange(1, 100_000_000),
              help="Number of respondents (default: 5596, scaled with --n-ratings).")
@click.option("--seed", default=2012, show_default=True, help="Random seed.")
@click.option("--format", "fmts", type=click.Choice(["csv", "csv.gz", "redcap", "parquet"]),
              multiple=True, help="Files to write (repeatable; default: csv).")
@click.option("--instrument", "instrument_file",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="IAM instrument file (needed for --format redcap; "
                                 "default instruments/iam/iam-2011.yaml).")
@click.option("--part-rows", type=click.IntRange(min=1), default=None,
              help="With --format parquet: write a folder of Parquet parts "
                   "(iam-ratings-2012-parts/part-00000.parquet, ...) of this many ratings "
                   "each instead of one file.")
@click.option("--json", "as_json", is_flag=True,
              help='Print JSON: {"written": [...], "n_ratings", "n_respondents", "seed"}.')
@force_option
def generate_iam(out_dir: Path, n_ratings: int, n_respondents: int | None, seed: int,
                 fmts: tuple[str, ...], instrument_file: Path | None,
                 part_rows: int | None, as_json: bool, force: bool) -> None:
    """Generate the synthetic IAM rating export (published scale by default).

    234,196 ratings by 5,596 clinicians in 2012, use gate open in exactly 45,394
    ratings, exact per-item selection counts (see instrval.datasets.iam.IAM_TARGETS).
    Files: iam-ratings-2012.csv (canonical wide), iam-ratings-2012.csv.gz, iam-redcap.csv with
    iam-redcap-dictionary.csv, iam-ratings-2012.parquet (written in chunks).

    \b
    Example:
      instrval ratings generate-iam --out examples/iam/data --format csv.gz
    """
    from instrval.datasets import iam as ds
    from instrval.io.instrument import read_instrument

    if n_respondents is None:
        n_respondents = max(1, min(n_ratings, round(ds.N_RESPONDENTS * n_ratings
                                                    / ds.N_RATINGS)))
    fmts = fmts or ("csv",)
    targets = {"csv": ["iam-ratings-2012.csv"], "csv.gz": ["iam-ratings-2012.csv.gz"],
               "redcap": ["iam-redcap.csv", "iam-redcap-dictionary.csv"],
               "parquet": ["iam-ratings-2012-parts" if part_rows is not None
                           else "iam-ratings-2012.parquet"]}
    refuse_overwrite(*(out_dir / name for f in fmts for name in targets[f]), force=force)
    written: list[str] = []

    def say(text: str) -> None:
        if not as_json:
            click.echo(text)

    out_dir.mkdir(parents=True, exist_ok=True)
    df = None
    for f in fmts:
        if f == "parquet" and part_rows is not None:
            p = _write_parts(out_dir / "iam-ratings-2012-parts", n_ratings, n_respondents,
                             seed, part_rows, quiet=as_json or is_quiet())
            written.append(str(p))
            say(f"wrote {p}")
            continue
        if f == "parquet":
            p = ds.write_iam_parquet(out_dir / "iam-ratings-2012.parquet", n_ratings,
                                     n_respondents, seed)
            written.append(str(p))
            say(f"wrote {p}")
            continue
        if df is None:
            df = ds.generate_iam_ratings(n_ratings, n_respondents, seed)
        if f in ("csv", "csv.gz"):
            p = ds.write_iam_csv(df, out_dir / f"iam-ratings-2012.{f}")
            written.append(str(p))
            say(f"wrote {p} ({len(df)} ratings)")
        else:
            ipath = instrument_file or Path("instruments/iam/iam-2011.yaml")
            inst = read_instrument(ipath)
            p1, p2 = ds.write_iam_redcap(df, inst, out_dir / "iam-redcap.csv",
                                         out_dir / "iam-redcap-dictionary.csv")
            written += [str(p1), str(p2)]
            say(f"wrote {p1} and {p2}")
    if as_json:
        emit_json({"written": written, "n_ratings": n_ratings,
                   "n_respondents": n_respondents, "seed": seed})


def _write_parts(folder: Path, n_ratings: int, n_respondents: int, seed: int,
                 part_rows: int, *, quiet: bool = False) -> Path:
    """The generated ratings as a folder of Parquet parts (the same rows, in order); progress
    on stderr unless ``quiet``."""
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    from instrval.datasets import iam as ds

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()
    chunks = ds.iter_iam_chunks(n_ratings, n_respondents, seed, chunk_size=part_rows)
    for i, chunk in enumerate(chunks):
        target = folder / f"part-{i:05d}.parquet"
        tmp = folder / f".part-{i:05d}.parquet.tmp"
        pq.write_table(pa.Table.from_pandas(chunk, preserve_index=False), tmp,
                       compression="zstd", row_group_size=1_000_000)
        os.replace(tmp, target)
        if not quiet:
            click.echo(f"  part {i + 1}: {len(chunk)} ratings", err=True)
    return folder
