"""`instrval instrument ...`: check, show, diff, schema, export and import instruments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from instrval.cli._base import (
    EXIT_INPUT_ERROR,
    echo_table,
    emit_json,
    force_option,
    main,
    note,
    plural,
    refuse_overwrite,
)
from instrval.errors import ExportError

__all__ = ["instrument"]


@main.group("instrument")
def instrument() -> None:
    """Check, inspect, compare, export and import instrument definition files.

    \b
    Example:
      instrval instrument check instruments/iam/iam-2011.yaml
    """


@instrument.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def check_cmd(files: tuple[str, ...], as_json: bool) -> None:
    """Check instrument files and list every problem of every file.

    Prints one "OK" line per valid file; otherwise one line per problem (file, line,
    key path, what was expected, [reason code]). Exits with status 1 when any file has a
    problem. With --json: {"ok": bool, "files": [{"file", "ok", "problems": [...]}]}.

    \b
    Example:
      instrval instrument check instruments/iam/iam-2011.yaml instruments/bfi/bfi-1.0.yaml
    """
    from instrval.io.instrument import check_instrument_file, read_instrument

    results: list[dict[str, Any]] = []
    for f in files:
        problems = check_instrument_file(f)
        results.append({"file": f, "ok": not problems,
                        "problems": [p.to_dict() for p in problems]})
        if as_json:
            continue
        if problems:
            for p in problems:
                click.echo(f"{p} [{p.reason}]")
        else:
            inst = read_instrument(f)
            n = inst.counts()
            click.echo(f"OK {f} ({inst.label}: {plural(n['constructs'], 'construct')}, "
                       f"{plural(n['items'], 'item')}, {plural(n['gates'], 'gate')})")
    bad = [r for r in results if not r["ok"]]
    if as_json:
        emit_json({"ok": not bad, "files": results})
    elif bad:
        total = sum(len(r["problems"]) for r in bad)
        click.secho(f"Error: {total} problem{'s' if total != 1 else ''} in {len(bad)} of {len(files)} "
                    f"file{'s' if len(files) != 1 else ''}", err=True, fg="red")
    if bad:
        click.get_current_context().exit(EXIT_INPUT_ERROR)


def _show_data(path: str) -> dict:
    from instrval.io.instrument import read_instrument

    inst = read_instrument(path)
    constructs, gates, items = [], [], []
    for c in inst.constructs:
        constructs.append({"construct_id": c.id, "label": c.label, "kind": c.kind,
                           "scale": c.scale, "gate": c.gate.id if c.gate else None,
                           "items": len(c.items)})
        if c.gate is not None:
            gates.append({"gate_id": c.gate.id, "construct_id": c.id,
                          "question": c.gate.question, "options": list(c.gate.options),
                          "open_when": list(c.gate.open_when)})
        for it in c.items:
            items.append({"item_id": it.id, "construct_id": c.id, "label": it.label,
                          "reverse": it.reverse, "code": c.item_code(it.id)})
    return {"id": inst.id, "version": inst.version, "title": inst.title,
            "status": inst.status, "format_version": inst.format_version,
            "counts": inst.counts(), "constructs": constructs, "gates": gates,
            "items": items,
            "scales": {sid: {"min": s.min, "max": s.max, "labels": dict(s.labels)}
                       for sid, s in inst.scales.items()}}


@instrument.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: id, version, title, status, counts, constructs, gates, "
                   "items, scales.")
def show_cmd(file: str, as_json: bool) -> None:
    """Show an instrument's constructs, gates, items and counts.

    \b
    Example:
      instrval instrument show instruments/iam/iam-2011.yaml
      instrval instrument show instruments/bfi/bfi-1.0.yaml --json
    """
    import pandas as pd

    d = _show_data(file)
    if as_json:
        emit_json(d)
        return
    n = d["counts"]
    click.echo(click.style(f"{d['title']}", bold=True)
               + f"  ({d['id']}@{d['version']}, {d['status']}, format {d['format_version']})")
    click.echo(f"{plural(n['constructs'], 'construct')}, {plural(n['items'], 'item')}, "
               f"{plural(n['gates'], 'gate')}")
    click.echo()
    echo_table(pd.DataFrame(d["constructs"]).fillna(""), title="Constructs")
    if d["gates"]:
        click.echo()
        g = pd.DataFrame(d["gates"])
        g["options"] = g["options"].map(", ".join)
        g["open_when"] = g["open_when"].map(", ".join)
        echo_table(g, title="Gates")
    click.echo()
    echo_table(pd.DataFrame(d["items"]), title="Items")


@instrument.command("diff")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False), required=False)
@click.option("--language", default=None,
              help="Compare wording across languages: OLD's default language with this "
                   "language (of NEW when given, else of OLD); untranslated texts listed.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: old, new, counts, changes (change, item_id, construct_id, "
                   "field, old, new).")
def diff_cmd(old: str, new: str | None, language: str | None, as_json: bool) -> None:
    """Show what changed from OLD to NEW, as a Markdown changelog.

    Lists items added, removed, reworded and moved, gates and constructs added, removed
    or changed, scale and metadata changes. With --language, compares the wording of a
    translated instrument in two languages.

    \b
    Example:
      instrval instrument diff iam-2011.yaml iam-2012.yaml
      instrval instrument diff iam-2011.yaml iam-2012.yaml --json
      instrval instrument diff iam-2011-en-fr.yaml --language fr
    """
    from instrval.errors import InstrumentError
    from instrval.integrate.diff import instrument_diff, language_diff
    from instrval.io.instrument import read_instrument

    if language is not None:
        a = read_instrument(old)
        try:
            d = language_diff(a, language, other=read_instrument(new) if new else None)
        except KeyError as exc:
            raise InstrumentError(str(exc.args[0])) from None
    elif new is None:
        raise click.UsageError("give NEW, or --language to compare languages of OLD")
    else:
        d = instrument_diff(read_instrument(old), read_instrument(new))
    if as_json:
        emit_json(d.to_dict())
    else:
        click.echo(d.to_markdown().rstrip())


@instrument.command("schema")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Write the schema to this file instead of printing it.")
@click.option("--json", "as_json", is_flag=True,
              help='With --out: print {"written": [FILE]} (the schema itself is JSON).')
@force_option
def schema_cmd(out: str | None, as_json: bool, force: bool) -> None:
    """Print (or write) the JSON Schema of instrument files, for editors.

    Point your editor at it to validate and complete instrument files, e.g. in VS Code
    (YAML extension) put on the first line of a file:
    "# yaml-language-server: $schema=instrument-1.1.schema.json".

    \b
    Example:
      instrval instrument schema --out instrument-1.1.schema.json
    """
    from instrval.io.atomic import atomic_write_text
    from instrval.io.schema import schema_text

    refuse_overwrite(out, force=force)
    text = schema_text()
    if out:
        atomic_write_text(out, text)
        if as_json:
            emit_json({"written": [out]})
        else:
            click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)


@instrument.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", required=True,
              type=click.Choice(["fhir", "redcap", "xlsform"]),
              help="fhir: FHIR R4 Questionnaire (JSON); redcap: REDCap data dictionary "
                   "(CSV); xlsform: XLSForm workbook (.xlsx).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="The file to write.")
@click.option("--base-url", default=None,
              help="FHIR only: canonical base URL of your questionnaires "
                   "(default urn:instrval:questionnaire).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: the files written (and what was built).")
@force_option
def export_cmd(file: str, fmt: str, out: str, base_url: str | None, as_json: bool,
               force: bool) -> None:
    """Export an instrument to a survey platform format.

    \b
    Example:
      instrval instrument export instruments/iam/iam-2011.yaml --format redcap --out iam.csv
      instrval instrument export instruments/iam/iam-2011.yaml --format fhir --out iam.json
      instrval instrument export instruments/iam/iam-2011.yaml --format xlsform --out iam.xlsx
      instrval instrument export instruments/iam/iam-2011.yaml --format fhir --out iam.json --json
    """
    from instrval.io.exports import export_instrument
    from instrval.io.exports.fhir import write_fhir
    from instrval.io.instrument import read_instrument

    refuse_overwrite(out, force=force)
    inst = read_instrument(file)
    if base_url is not None and fmt != "fhir":
        raise ExportError("--base-url applies to --format fhir only")
    p = write_fhir(inst, out, base_url=base_url) if fmt == "fhir" else \
        export_instrument(inst, fmt, out)
    if as_json:
        emit_json({"written": [str(p)], "format": fmt, "instrument": inst.label})
    else:
        click.echo(f"wrote {p} ({fmt}, {inst.label})")


@instrument.command("import")
@click.argument("source_file", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--from", "source", required=True,
              type=click.Choice(["redcap", "xlsform", "fhir"]),
              help="The format of FILE: redcap (a data dictionary CSV), xlsform (an ODK / "
                   "KoboToolbox .xlsx form) or fhir (a FHIR R4 Questionnaire JSON).")
@click.option("--id", "inst_id", default=None,
              help="Id of the instrument to build (required for redcap; default for "
                   "xlsform: form_id, for fhir: the resource name).")
@click.option("--version", "version", default=None,
              help="Its version label (required for redcap; default: the form's).")
@click.option("--title", default=None, help="Its title (default: the form's title).")
@click.option("--strict", is_flag=True,
              help="redcap: refuse fields that cannot be imported instead of noting them.")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Write the instrument file here (.yaml or .json); default: print YAML.")
@click.option("--json", "as_json", is_flag=True,
              help='Print JSON: {"written": [...], "instrument": {...}, "notes": [...]} '
                   "(the instrument as data; written is empty without --out).")
@force_option
def import_cmd(source_file: str, source: str, inst_id: str | None, version: str | None,
               title: str | None, strict: bool, out: str | None, as_json: bool,
               force: bool) -> None:
    """Build an instrument file from a REDCap data dictionary, an XLSForm or a FHIR
    Questionnaire.

    What can be imported is imported: fields without choices are skipped, codes that
    are not whole numbers are kept as text codes, branching logic that is not a gate is
    dropped; every such note is printed (to standard error). Metadata a form does not
    hold (source, licence...) is added to the file written.

    \b
    Example:
      instrval instrument import iam.csv --from redcap --id iam --version 2011 --out iam.yaml
      instrval instrument import form.xlsx --from xlsform --out form.yaml
      instrval instrument import phq9.json --from fhir --out phq9.yaml
    """
    from instrval.io.exports import import_instrument
    from instrval.io.instrument import dumps_instrument, write_instrument

    refuse_overwrite(out, force=force)
    res = import_instrument(source_file, source, id=inst_id, version=version, title=title,
                            strict=strict)
    for n in res.notes:
        where = f"row {n.row}: " if n.row else ""
        note(f"note: {where}{n.message}")
    inst = res.instrument
    if out:
        write_instrument(inst, Path(out), overwrite=force)
    if as_json:
        emit_json({"written": [out] if out else [], "instrument": inst.to_dict(),
                   "notes": [{"row": n.row, "message": n.message} for n in res.notes]})
    elif out:
        click.echo(f"wrote {out} ({inst.label}: {inst.counts()['items']} items, "
                   f"{len(res.notes)} note(s))")
    else:
        click.echo(dumps_instrument(inst), nl=False)
