"""Export an instrument as an XLSForm workbook (ODK Collect, KoboToolbox, SurveyCTO).

Sheets (https://xlsform.org):

* ``survey`` (columns ``type``, ``name``, ``label``, ``hint``, ``relevant``): per construct,
  the gate question first when there is one (``select_one <gate id>``, named by the gate
  id), then ``begin_group`` (named ``<construct id>_group``, labelled with the construct
  label; ``relevant`` = ``${gate} = 'option'`` for each opening option, joined with
  `` or ``), then

  - multi_select: one ``select_multiple <construct id>`` question named by the construct id
    (choices named by the item ids);
  - single_choice: one ``select_one <construct id>`` question named by the construct id;
  - likert: a ``note`` with the construct question (if any), then one
    ``select_one scale_<scale id>`` question per item, named by the item id (choices named
    by the scale values);
  - binary: one ``select_one instrval_yes_no`` question per item (choices ``1`` = Yes,
    ``0`` = No);

  and ``end_group``. Labels are the construct question (else label), the item text (else
  label), the gate question.
* ``choices`` (``list_name``, ``name``, ``label``): one list per choice construct, gate and
  scale, plus ``instrval_yes_no`` when binary items exist.
* ``settings`` (``form_title``, ``form_id``, ``version``): the instrument title, id and
  version.

A translated instrument (format 1.1) gets one ``label::<Language> (<code>)`` column per
language on the survey and choices sheets (e.g. ``label::French (fr)``), the settings
``default_language`` naming the instrument's default language, and no plain ``label``
column, as XLSForm's multi-language forms are written.

Derived names (groups, notes, list names) that would clash with an instrval id get a
suffix ``_2``, ``_3``... Cells that begin with ``=``, ``+``, ``-`` or ``@`` are stored as
text with Excel's quote-prefix attribute, so no spreadsheet runs them as formulas and the
value that XLSForm tools read is the label itself.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from instrval.io.atomic import atomic_write_bytes
from instrval.model.instrument import Instrument

__all__ = ["xlsform_sheets", "write_xlsform", "SURVEY_COLUMNS", "CHOICES_COLUMNS",
           "SETTINGS_COLUMNS", "LANGUAGE_NAMES", "language_column"]

SURVEY_COLUMNS = ("type", "name", "label", "hint", "relevant")
#: Names of languages for XLSForm's ``label::<Name> (<code>)`` columns.
LANGUAGE_NAMES = {"en": "English", "fr": "French", "es": "Spanish", "de": "German",
                  "pt": "Portuguese", "it": "Italian", "nl": "Dutch", "ar": "Arabic",
                  "zh": "Chinese", "ja": "Japanese", "ru": "Russian", "sw": "Swahili",
                  "hi": "Hindi", "pl": "Polish", "tr": "Turkish", "ko": "Korean"}


def language_column(lang: str) -> str:
    """``label::French (fr)`` for ``fr`` (XLSForm's language column naming)."""
    name = LANGUAGE_NAMES.get(lang.split("-")[0].lower(), lang)
    return f"label::{name} ({lang})"
CHOICES_COLUMNS = ("list_name", "name", "label")
SETTINGS_COLUMNS = ("form_title", "form_id", "version")
_FORMULA_START = ("=", "+", "-", "@")


def xlsform_sheets(instrument: Instrument) -> dict[str, list[dict[str, Any]]]:
    """Return the XLSForm sheets as rows: ``{"survey": [...], "choices": [...],
    "settings": [...]}``, each row a mapping column -> value (see the module docstring)."""
    inst = instrument
    taken = set(inst.item_ids) | set(inst.construct_ids) | {g.id for g in inst.gates}
    lists_taken: set[str] = set()

    def fresh(base: str, pool: set[str]) -> str:
        name, n = base, 1
        while name in pool:
            n += 1
            name = f"{base}_{n}"
        pool.add(name)
        return name

    survey: list[dict[str, Any]] = []
    choices: list[dict[str, Any]] = []
    scale_lists: dict[str, str] = {}
    yes_no: str | None = None

    def q(type_: str, name: str, label: str | None = None, **extra: Any) -> None:
        survey.append({"type": type_, "name": name, "label": label, **extra})

    for c in inst.constructs:
        relevant = None
        if c.gate is not None:
            g = c.gate
            glist = fresh(g.id, lists_taken)
            for o in g.options:
                choices.append({"list_name": glist, "name": o, "label": o})
            q(f"select_one {glist}", g.id, g.question)
            relevant = " or ".join(f"${{{g.id}}} = '{o}'" for o in g.open_when)
        q("begin_group", fresh(f"{c.id}_group", taken), c.label, relevant=relevant)
        if c.kind in ("multi_select", "single_choice"):
            clist = fresh(c.id, lists_taken)
            for it in c.items:
                choices.append({"list_name": clist, "name": it.id, "label": it.label})
            t = "select_multiple" if c.kind == "multi_select" else "select_one"
            q(f"{t} {clist}", c.id, c.question or c.label)
        else:
            if c.question:
                q("note", fresh(f"{c.id}_question", taken), c.question)
            if c.kind == "likert":
                sc = inst.scale_of(c)
                if sc is None:  # pragma: no cover - guaranteed by the checks
                    raise ValueError(f"construct {c.id} has no scale")
                if sc.id not in scale_lists:
                    scale_lists[sc.id] = fresh(f"scale_{sc.id}", lists_taken)
                    for v in sc.values:
                        choices.append({"list_name": scale_lists[sc.id], "name": str(v),
                                        "label": sc.labels.get(v, str(v))})
                for it in c.items:
                    q(f"select_one {scale_lists[sc.id]}", it.id, it.text or it.label)
            else:
                if yes_no is None:
                    yes_no = fresh("instrval_yes_no", lists_taken)
                    choices.append({"list_name": yes_no, "name": "1", "label": "Yes"})
                    choices.append({"list_name": yes_no, "name": "0", "label": "No"})
                for it in c.items:
                    q(f"select_one {yes_no}", it.id, it.text or it.label)
        survey.append({"type": "end_group"})
    settings = [{"form_title": inst.title, "form_id": inst.id, "version": inst.version}]
    langs = inst.languages
    if len(langs) > 1:  # one label column per language, the same rows in each language
        per_lang = {lang: xlsform_sheets(inst.in_language(lang).without_translations())
                    for lang in langs}
        for sheet in ("survey", "choices"):
            for k, row in enumerate(survey if sheet == "survey" else choices):
                label = row.pop("label", None)
                for lang in langs:
                    other = per_lang[lang][sheet][k].get("label", label)
                    if other is not None:
                        row[language_column(lang)] = other
        settings[0]["default_language"] = language_column(langs[0])[len("label::"):]
    return {"survey": survey, "choices": choices, "settings": settings}


def write_xlsform(instrument: Instrument, path: str | os.PathLike[str]) -> Path:
    """Write the XLSForm workbook (``.xlsx``, atomically) with openpyxl.

    Examples
    --------
    >>> import instrval
    >>> iam = instrval.read_instrument("instruments/iam/iam-2011.yaml")  # doctest: +SKIP
    >>> write_xlsform(iam, "iam.xlsx")  # doctest: +SKIP
    """
    from openpyxl import Workbook

    sheets = xlsform_sheets(instrument)
    wb = Workbook()
    wb.remove(wb.active)
    langs = instrument.languages
    if len(langs) > 1:
        lcols = tuple(language_column(lang) for lang in langs)
        layout = (("survey", ("type", "name", *lcols, "hint", "relevant")),
                  ("choices", ("list_name", "name", *lcols)),
                  ("settings", (*SETTINGS_COLUMNS, "default_language")))
    else:
        layout = (("survey", SURVEY_COLUMNS), ("choices", CHOICES_COLUMNS),
                  ("settings", SETTINGS_COLUMNS))
    for title, cols in layout:
        ws = wb.create_sheet(title)
        ws.append(list(cols))
        for r, row in enumerate(sheets[title], start=2):
            for k, col in enumerate(cols, start=1):
                v = row.get(col)
                if v is None or v == "":
                    continue
                cell = ws.cell(row=r, column=k)
                cell.value = str(v)
                cell.data_type = "s"  # never a formula, whatever the text
                if str(v).startswith(_FORMULA_START):
                    cell.quotePrefix = True
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, buf.getvalue())
