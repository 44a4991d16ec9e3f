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
import re
from pathlib import Path
from typing import Any

from instrval.io.atomic import atomic_write_bytes
from instrval.model.instrument import Instrument

__all__ = ["xlsform_sheets", "write_xlsform", "SURVEY_COLUMNS", "CHOICES_COLUMNS",
           "SETTINGS_COLUMNS", "LANGUAGE_NAMES", "language_column",
           "read_xlsform_instrument"]

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
        layout: tuple[tuple[str, tuple[str, ...]], ...] = (
            ("survey", ("type", "name", *lcols, "hint", "relevant")),
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


# ============================================================================ import
_SELECT = re.compile(r"^select[ _](one|multiple)(?:[ _]from)?\s+([^\s]+)(\s+or[ _]other)?$",
                     re.IGNORECASE)
_RELEVANT_EQ = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}\s*=\s*['\"]([^'\"]*)['\"]$")
_RELEVANT_SEL = re.compile(
    r"^selected\(\s*\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}\s*,\s*['\"]([^'\"]*)['\"]\s*\)$")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_NAME_TO_CODE = {v.lower(): k for k, v in LANGUAGE_NAMES.items()}
_MAX_BLANK_ROWS = 200  # a sheet ends after this many blank rows (formatted empty rows)


def _lang_of(header: str) -> str | None:
    """``label::French (fr)`` -> ``fr``; ``label:english`` -> ``en``; ``label`` -> None."""
    m = re.match(r"^label\s*:{1,2}\s*(.+)$", header.strip(), re.IGNORECASE)
    if not m:
        return None
    lang = m.group(1).strip()
    code = re.search(r"\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)\)\s*$", lang)
    if code:
        return code.group(1)
    return _NAME_TO_CODE.get(lang.lower(), re.sub(r"[^A-Za-z0-9-]", "", lang.lower())[:8]
                             or "und")


def _sheet_rows(ws: Any) -> list[dict[str, Any]]:
    rows = ws.iter_rows(values_only=True)
    try:
        head = [str(h).strip() if h is not None else "" for h in next(rows)]
    except StopIteration:
        return []
    norm = [re.sub(r"\s+", "_", h.lower()) if not h.lower().startswith("label") else h
            for h in head]
    out: list[dict[str, Any]] = []
    blank = 0
    for n, r in enumerate(rows, start=2):
        if r is None or all(v is None or str(v).strip() == "" for v in r):
            blank += 1
            if blank > _MAX_BLANK_ROWS:
                break
            continue
        blank = 0
        d: dict[str, Any] = {"_row": n}
        for h, v in zip(norm, r, strict=False):
            if h and v is not None and str(v).strip() != "":
                d[h] = str(v).strip() if not isinstance(v, float) or not v.is_integer() \
                    else str(int(v))
        out.append(d)
    return out


def read_xlsform_instrument(path: str | os.PathLike[str], *, id: str | None = None,
                            version: str | None = None, title: str | None = None
                            ) -> Any:
    """Read an XLSForm (``.xlsx``: ODK, KoboToolbox, SurveyCTO) into an instrument.

    The reverse of :func:`write_xlsform`, and a reader of forms made elsewhere:

    * ``select_multiple L`` -> a multi_select construct named by the question, one item
      per choice of ``L``; ``select_one L`` -> a single_choice construct;
    * consecutive ``select_one`` questions in a group that share a list whose names are
      consecutive whole numbers -> one likert construct (the group), the list its scale;
      a ``note`` just before them is the construct's question;
    * ``select_one`` on a list named ``instrval_yes_no`` (names 1 and 0) -> binary items;
    * a ``select_one`` question that a later group or question is ``relevant`` on
      (``${q} = 'x'`` or ``selected(${q}, 'x')``, joined by ``or``) -> that construct's
      gate;
    * a choice name that is a valid, unused id is the item id (its stored value);
      otherwise the item id is ``<question>_<name>`` and the name its text code;
    * labels in several languages (``label::French (fr)``, ``label:english``) -> translated
      texts, the default language from ``settings.default_language`` (else the first);
    * other question types (text, integer, calculate, geopoint, start...) are skipped with
      a note.

    ``id``, ``version`` and ``title`` default to the settings ``form_id``, ``version``
    and ``form_title``.

    Returns
    -------
    FormImport
        ``instrument`` and ``notes`` (warnings).

    Raises
    ------
    ExportError
        When the file is not an XLSForm, or nothing in it gives a construct.
    """
    from openpyxl import load_workbook

    from instrval.errors import CodingError, ExportError, InstrumentError, Problem
    from instrval.io.coding import _open_zip
    from instrval.io.exports.redcap import FormImport
    from instrval.io.files import read_input_bytes
    from instrval.model.checks import safe_version_label
    from instrval.model.instrument import FORMAT_VERSION

    name = str(path)
    raw = read_input_bytes(path, error=ExportError, what="XLSForm")
    try:  # the archive checks of the coding readers: member count, sizes, ratio, names
        _open_zip(raw, name).close()
    except CodingError as exc:
        raise ExportError(f"{name}: not a readable .xlsx workbook: {exc.summary}",
                          exc.problems) from None
    try:
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise ExportError(f"{name}: not a readable .xlsx workbook: {exc}",
                          [Problem("unreadable", str(exc), file=name)]) from None
    sheets = {s.lower(): s for s in wb.sheetnames}
    if "survey" not in sheets:
        raise ExportError(f"{name}: not an XLSForm (no 'survey' sheet)",
                          [Problem("missing_sheet", "no survey sheet", file=name)])
    survey = _sheet_rows(wb[sheets["survey"]])
    choices_rows = _sheet_rows(wb[sheets["choices"]]) if "choices" in sheets else []
    settings_rows = _sheet_rows(wb[sheets["settings"]]) if "settings" in sheets else []
    wb.close()
    settings = settings_rows[0] if settings_rows else {}
    notes: list[Problem] = []

    def note(row: dict[str, Any] | None, reason: str, msg: str, value: Any = None) -> None:
        notes.append(Problem(reason, msg, file=name, row=row["_row"] if row else None,
                             value=value, severity="warning"))

    # languages: every label column
    label_cols: dict[str, str] = {}
    for r in (*survey, *choices_rows):
        for col in r:
            if col.lower().startswith("label"):
                lang = _lang_of(col)
                label_cols.setdefault(lang or "", col)
    langs = [x for x in label_cols if x]
    default: str | None = None
    if settings.get("default_language"):
        default = _lang_of("label::" + settings["default_language"])
    if langs:
        default = default if default in langs else langs[0]
    multi = len(langs) > 1
    if not multi and langs:
        label_cols = {"": label_cols[langs[0]]}
    elif multi:
        label_cols.pop("", None)

    def text(row: dict[str, Any]) -> Any:
        if not multi:
            col = next(iter(label_cols.values()), "label")
            return row.get(col)
        tr: dict[str | None, Any] = {lang: row[c] for lang, c in label_cols.items()
                                     if c in row}
        if not tr:
            return None
        if default not in tr:
            tr = {default: next(iter(tr.values())), **tr}
        return tr

    def plain(t: Any) -> str | None:
        return t.get(default) if isinstance(t, dict) else t

    lists: dict[str, list[dict[str, Any]]] = {}
    for r in choices_rows:
        ln = r.get("list_name")
        if ln and r.get("name") is not None:
            lists.setdefault(ln, []).append(r)

    # first pass: which questions gate later groups or questions
    names = {r.get("name"): k for k, r in enumerate(survey) if r.get("name")}

    def gate_ref(r: dict[str, Any], k: int) -> tuple[str, list[str]] | None:
        rel = str(r.get("relevant") or "").strip()
        if not rel:
            return None
        parts = [p.strip().strip("()").strip() for p in re.split(r"\s+or\s+", rel)]
        fields, vals = set(), []
        for p in parts:
            m = _RELEVANT_EQ.match(p) or _RELEVANT_SEL.match(p)
            if not m:
                return None
            fields.add(m.group(1))
            vals.append(m.group(2))
        if len(fields) != 1:
            return None
        f = next(iter(fields))
        target = survey[names[f]] if f in names and names[f] < k else None
        sel = _SELECT.match(str(target.get("type", ""))) if target is not None else None
        if sel is None or sel.group(1) != "one":
            return None
        return f, vals

    gate_refs: dict[int, tuple[str, list[str]]] = {}
    for k, r in enumerate(survey):
        ref = gate_ref(r, k)
        if ref is not None:
            gate_refs[k] = ref
        elif r.get("relevant") and (_SELECT.match(str(r.get("type", ""))) or
                                    str(r.get("type", "")).replace("_", " ") == "begin group"):
            note(r, "relevant_not_gate", f"{r.get('name')!r}: relevant {r['relevant']!r} "
                 "is not an instrval gate (one select_one question = option, joined by "
                 "'or'); imported without a gate", r["relevant"])
    gate_fields = {f for f, _ in gate_refs.values()}

    used: set[str] = set()
    for r in survey:
        if r.get("name"):
            used.add(str(r["name"]).lower())

    def fresh(base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]+", "_", base).strip("_") or "x"
        if not base[:1].isalpha():
            base = f"x_{base}"
        out, n = base, 1
        while out.lower() in used:
            n += 1
            out = f"{base}_{n}"
        used.add(out.lower())
        return out

    constructs: list[dict[str, Any]] = []
    scales: dict[str, dict[str, Any]] = {}
    gates: dict[str, dict[str, Any]] = {}
    gate_used: set[str] = set()
    group_stack: list[tuple[dict[str, Any], int]] = []  # (row, survey index)
    skipped: dict[str, list[str]] = {}
    current: dict[str, Any] | None = None
    pending_note: Any = None

    def gate_for(k: int) -> dict[str, Any] | None:
        ref = gate_refs.get(k)
        if ref is None:
            for _grow, gk in reversed(group_stack):
                if gk in gate_refs:
                    ref = gate_refs[gk]
                    break
        if ref is None or ref[0] not in gates:
            return None
        f, vals = ref
        g = dict(gates[f])
        if f in gate_used and not (current is not None and current.get("_gate") == f):
            return None
        opts = g["options"]
        ow = [v for v in vals if v in opts]
        if not ow or set(ow) == set(opts):
            return None
        g["open_when"] = ow[0] if len(ow) == 1 else ow
        return g

    def group_label() -> tuple[str | None, Any]:
        if not group_stack:
            return None, None
        grow = group_stack[-1][0]
        return grow.get("name"), text(grow)

    for k, r in enumerate(survey):
        t_raw = re.sub(r"\s+", " ", str(r.get("type", "")).strip())
        t = t_raw.lower()
        if t in ("begin group", "begin_group", "begin repeat", "begin_repeat"):
            group_stack.append((r, k))
            current = None
            pending_note = None
            if "repeat" in t:
                note(r, "repeat", f"repeat {r.get('name')!r}: its questions are read once, "
                     "as if not repeated")
            continue
        if t in ("end group", "end_group", "end repeat", "end_repeat"):
            if group_stack:
                group_stack.pop()
            current = None
            pending_note = None
            continue
        # list names are case-sensitive (the choices sheet keeps their case)
        m = _SELECT.match(t_raw)
        qname = str(r.get("name") or "")
        if t == "note":
            pending_note = text(r)
            continue
        if not m:
            if t:
                skipped.setdefault(t.split(" ")[0], []).append(qname)
            continue
        kind, lst = m.group(1).lower(), m.group(2)
        opts = lists.get(lst, [])
        if m.group(3):
            note(r, "or_other", f"{qname!r}: the 'or other' free-text answer is not read")
        if len(opts) < (1 if kind == "multiple" else 2):
            note(r, "too_few_choices", f"{qname!r}: list {lst!r} has {len(opts)} choice(s); "
                 "skipped", lst)
            continue
        cnames = [str(o["name"]) for o in opts]
        if kind == "one" and qname in gate_fields:
            gates[qname] = {"id": qname, "question": text(r) or qname, "options": cnames}
            if any(not re.match(r"^\S+$", c) for c in cnames):
                note(r, "gate_options", f"gate {qname!r}: option names with spaces")
            current = None
            continue
        ints = all(re.fullmatch(r"-?\d+", c) for c in cnames)
        ivals = sorted(int(c) for c in cnames) if ints else []
        consecutive = ints and ivals == list(range(ivals[0], ivals[0] + len(ivals)))
        gname, glabel = group_label()
        if kind == "one" and (lst == "instrval_yes_no" or (consecutive and gname)):
            ikind = "binary" if lst == "instrval_yes_no" else "likert"
            scale_id = None
            if ikind == "likert":
                sid = lst[len("scale_"):] if lst.startswith("scale_") else lst
                labels = {}
                for o in opts:
                    lab = text(o)
                    if plain(lab) is not None and plain(lab) != str(o["name"]):
                        labels[int(o["name"])] = lab
                sc: dict[str, Any] = {"min": ivals[0], "max": ivals[-1]}
                if labels:
                    sc["labels"] = labels
                scales[sid] = sc
                scale_id = sid
            item = {"id": qname, "label": text(r) or qname}
            if current is not None and current["kind"] == ikind and \
                    current.get("scale") == scale_id and current["_group"] == gname:
                current["items"].append(item)
                continue
            base = gname[:-len("_group")] if gname and gname.endswith("_group") else \
                (gname or f"{qname}_group")
            cid = base if base.lower() not in {c["id"].lower() for c in constructs} and \
                _ID.match(base) and base.lower() not in (used - {str(gname).lower()}) \
                else fresh(base)
            used.add(cid.lower())
            current = {"id": cid, "label": glabel or cid, "kind": ikind, "_group": gname,
                       "items": [item]}
            if pending_note is not None:
                current["question"] = pending_note
            if scale_id:
                current["scale"] = scale_id
            g = gate_for(k)
            if g:
                current["gate"] = g
                current["_gate"] = gate_refs.get(k, (None,))[0] or next(
                    (gate_refs[gk][0] for _, gk in reversed(group_stack) if gk in gate_refs),
                    None)
                gate_used.add(current["_gate"])
            constructs.append(current)
            pending_note = None
            continue
        current = None
        pending_note = None
        items = []
        for pos, o in enumerate(opts, start=1):
            cn = str(o["name"])
            iid = cn if _ID.match(cn) and cn.lower() not in used else fresh(f"{qname}_{cn}")
            used.add(iid.lower())
            it: dict[str, Any] = {"id": iid, "label": text(o) or cn}
            if iid != cn:
                it["code"] = int(cn) if re.fullmatch(r"0|[1-9]\d*", cn) else cn
                if it["code"] == pos:
                    del it["code"]
            items.append(it)
        # a group holding just this question names the construct (instrval's own layout)
        own_group = gname is not None and gname == f"{qname}_group"
        c: dict[str, Any] = {"id": qname, "label": (glabel if own_group and glabel
                                                     else text(r) or qname),
                             "kind": "multi_select" if kind == "multiple" else "single_choice"}
        q = text(r)
        if q is not None and q != c["label"]:
            c["question"] = q
        g = gate_for(k)
        if g:
            c["gate"] = g
            ref = gate_refs.get(k) or next((gate_refs[gk] for _, gk in reversed(group_stack)
                                            if gk in gate_refs), None)
            if ref:
                gate_used.add(ref[0])
        c["items"] = items
        constructs.append(c)
    for ftype, qs in skipped.items():
        shown = ", ".join(qs[:8]) + (f" and {len(qs) - 8} more" if len(qs) > 8 else "")
        note(None, "skipped_field", f"{len(qs)} {ftype} question(s) hold no choices and "
             f"were skipped: {shown}", ftype)
    for c in constructs:
        c.pop("_group", None)
        c.pop("_gate", None)
    if not constructs:
        raise ExportError(f"{name}: nothing to import: the form has no select_one or "
                          "select_multiple question with a choice list",
                          [Problem("no_choice_fields", "no importable question", file=name),
                           *notes])
    form_title = settings.get("form_title") or (Path(name).stem)
    data: dict[str, Any] = {
        "format_version": FORMAT_VERSION if multi or any(
            isinstance(it.get("code"), str) for c in constructs for it in c["items"])
        else "1.0",
        "id": id or (settings.get("form_id") if settings.get("form_id") and re.match(
            r"^[A-Za-z][A-Za-z0-9_.-]*$", settings["form_id"]) else "form"),
        "version": version or safe_version_label(settings.get("version") or "1"),
        "title": title or form_title, "status": "draft"}
    if multi:
        data["language"] = default
    if scales:
        data["scales"] = scales
    data["constructs"] = constructs
    try:
        inst = Instrument.from_dict(data, file=name)
    except InstrumentError as exc:
        raise ExportError(f"{name}: the form does not give a valid instrument "
                          f"({exc.summary})", [*exc.problems, *notes]) from None
    return FormImport(instrument=inst, notes=tuple(notes))
