"""REDCap data dictionaries: export an instrument, map its ids, and import one back.

Export (:func:`redcap_dictionary`, :func:`write_redcap`) writes REDCap's data dictionary
CSV with its 18 columns (:data:`REDCAP_COLUMNS`), one form named after the instrument id.
The first field is ``record_id`` (text). Then, construct by construct:

==============  ===========================================================================
multi_select    ONE ``checkbox`` field named by the construct id (lowercased), choices
                ``code, label | code, label`` with ``code`` = ``Construct.item_code(item)``
                (the item's ``code``, else its 1-based position). REDCap exports the boxes
                as columns ``<field>___<code>``.
single_choice   ONE ``radio`` field named by the construct id, coded the same way.
gate            a ``radio`` field named by the gate id, just before its construct, options
                coded 1..n in the gate's order (label = option id). Every field of the
                gated construct gets the branching logic ``[gate] = 'k'`` for each opening
                option code ``k``, joined with `` or ``.
likert item     a ``radio`` field named by the item id (lowercased), choices from the scale
                (``value, label``; the label falls back to the value); the construct's
                items share a matrix group named by the construct id.
binary item     a ``yesno`` field named by the item id (REDCap stores 1 = yes, 0 = no).
==============  ===========================================================================

Field labels are the construct question (else its label) for checkbox/radio construct
fields, the gate question for gates, and the item text (else label) for item fields. The
construct label is the Section Header of the construct's first field (its gate, when gated).
The question of a likert or binary construct is shown to respondents as a ``descriptive``
field ``<construct>_question`` just before its items (tagged ``@INSTRVAL-DESCRIPTIVE``).

The ``Field Annotation`` column keeps what REDCap has no column for, as instrval tags, so
that :func:`import_redcap_dictionary` restores the instrument: ``@INSTRVAL-ID=<id>`` (the
original id, restoring case), ``@INSTRVAL-KIND``, ``@INSTRVAL-ITEMS`` (item ids of a
checkbox/radio construct field, in choice order), ``@INSTRVAL-CONSTRUCT`` (the construct of
an item field), ``@INSTRVAL-GATE`` (on a gate field: the construct it gates),
``@INSTRVAL-SCALE``, ``@INSTRVAL-REVERSE`` (reverse-keyed), ``@INSTRVAL-QUESTION`` (the
question of a likert/binary construct), ``@INSTRVAL-LABEL`` and ``@INSTRVAL-TEXTS`` (item
labels when the field label shows the item text), ``@INSTRVAL-LABELS`` and
``@INSTRVAL-OPTIONS`` (the exact choice labels and gate options when a choice had to be
altered, see below); text values are JSON.

Field names are the ids lowercased; a name that would clash (``A1`` and ``a1``, or an id
``record_id`` or ``<form>_complete``, which REDCap adds) gets a suffix ``_2``, ``_3``...;
:func:`redcap_field_map` tells where each id went.

Labels (Field Label, Section Header) that begin with ``=``, ``+``, ``-`` or ``@`` are
prefixed with a single quote so that a spreadsheet opening the CSV does not run them as
formulas; REDCap shows such a label with the quote, and the import removes it again. A
``|`` inside a choice label would split the choice in REDCap and is written as ``¦``
(line breaks as spaces); the exact text is kept in the annotation for the import.

Not representable in a data dictionary (and so not restored by the import): instrument
metadata (title is given to the import; description, source, license, derived_from,
changelog, provenance), construct descriptions, scales that no construct uses, and
whether an item's code was written explicitly or is its position (the stored code itself
round-trips).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instrval.errors import ExportError, InstrumentError, InstrvalWarning, Problem
from instrval.io.atomic import atomic_write_text
from instrval.io.redcap_dictionary import (
    REDCAP_FIELD_TYPES,
    RedcapField,
    column_name,
    parse_gate_logic,
    parse_redcap_dictionary,
)
from instrval.model.instrument import FORMAT_VERSION, Instrument

__all__ = [
    "REDCAP_COLUMNS",
    "REDCAP_FIELD_TYPES",
    "redcap_dictionary",
    "redcap_dictionary_csv",
    "write_redcap",
    "redcap_field_map",
    "redcap_translation_paths",
    "import_redcap_dictionary",
    "read_redcap_instrument",
    "FormImport",
    "RedcapImport",
]

#: The 18 columns of a REDCap data dictionary, in REDCap's order.
REDCAP_COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)

_NAME, _FORM, _SECTION, _TYPE, _LABEL, _CHOICES = REDCAP_COLUMNS[:6]
_BRANCH, _MATRIX, _ANNOT = REDCAP_COLUMNS[11], REDCAP_COLUMNS[15], REDCAP_COLUMNS[17]
_FORMULA_START = ("=", "+", "-", "@")


# ============================================================================ export
def _safe_label(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _choice_label(text: str) -> str:
    return " ".join(text.replace("|", "¦").split())


def _form_name(inst_id: str) -> str:
    name = re.sub(r"[^a-z0-9_]", "_", inst_id.lower())
    return name if name[:1].isalpha() else f"f_{name}"


def _field_names(inst: Instrument) -> dict[str, str]:
    """instrval id (construct of a choice kind, gate, likert/binary item) -> field name."""
    form = _form_name(inst.id)
    taken = {"record_id", f"{form}_complete"}
    names: dict[str, str] = {}

    def claim(ident: str) -> None:
        base = ident.lower()[:100]
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base[:96]}_{n}"
        taken.add(name)
        names[ident] = name

    for c in inst.constructs:
        if c.gate is not None:
            claim(c.gate.id)
        if c.kind in ("multi_select", "single_choice"):
            claim(c.id)
        else:
            if c.question:
                claim(f"{c.id}_question")
            for it in c.items:
                claim(it.id)
    return names


def redcap_field_map(instrument: Instrument) -> dict[str, Any]:
    """How each instrval id maps to a REDCap field and code, for reading REDCap exports.

    Returns
    -------
    dict
        ``{"form": str, "record_id": "record_id", "constructs": {...}, "gates": {...},
        "items": {...}}`` where

        * ``constructs[construct_id]`` = ``{"kind", "field", "type", "items"}``: ``field``
          is the checkbox/radio field of a multi_select/single_choice construct, None for
          likert and binary constructs (whose items have a field each); ``type`` is the
          REDCap field type (``checkbox``, ``radio``, ``radio`` per item for likert,
          ``yesno`` per item for binary); ``items`` the construct's item ids.
        * ``gates[gate_id]`` = ``{"field", "type": "radio", "construct", "codes"}``:
          ``codes`` maps each option to its code (int, 1..n in gate order); ``open_codes``
          lists the codes that open the gate.
        * ``items[item_id]`` = ``{"construct", "kind", "field", "type", "code", "column"}``:
          for a multi_select item, ``code`` is its checkbox code and ``column`` the column
          of a REDCap record export (``<field>___<code>``, 1 = checked, 0 = not); for a
          single_choice level, ``code`` is the radio value meaning this level and
          ``column`` the radio field; for likert and binary items, ``code`` is None and
          ``column`` is the item's own field (likert: the scale value; yesno: 1/0).

    Examples
    --------
    >>> import instrval
    >>> m = redcap_field_map(instrval.read_instrument("instruments/bfi/bfi-1.0.yaml"))
    >>> m["items"]["A1"]["column"]
    'a1'
    """
    inst = instrument
    names = _field_names(inst)
    out: dict[str, Any] = {"form": _form_name(inst.id), "record_id": "record_id",
                           "constructs": {}, "gates": {}, "items": {}}
    for c in inst.constructs:
        if c.gate is not None:
            g = c.gate
            codes = {o: g.option_code(o) for o in g.options}
            out["gates"][g.id] = {"field": names[g.id], "type": "radio", "construct": c.id,
                                  "codes": codes, "open_codes": [codes[o] for o in g.open_when]}
        choice = c.kind in ("multi_select", "single_choice")
        ftype = {"multi_select": "checkbox", "single_choice": "radio", "likert": "radio",
                 "binary": "yesno"}[c.kind]
        out["constructs"][c.id] = {"kind": c.kind, "field": names[c.id] if choice else None,
                                   "type": ftype, "items": list(c.item_ids)}
        for it in c.items:
            if choice:
                code = c.item_code(it.id)
                field = names[c.id]
                column = f"{field}___{code}" if c.kind == "multi_select" else field
            else:
                code, field = None, names[it.id]
                column = field
            out["items"][it.id] = {"construct": c.id, "kind": c.kind, "field": field,
                                   "type": ftype, "code": code, "column": column}
    return out


def _tags(**tags: Any) -> str:
    parts = []
    for k, v in tags.items():
        if v is None or v is False:
            continue
        tag = "@INSTRVAL-" + k.replace("_", "-").upper()
        if v is True:
            parts.append(tag)
        elif isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9_,.-]+", v):
            parts.append(f"{tag}={v}")
        else:
            parts.append(f"{tag}={json.dumps(v, ensure_ascii=False)}")
    return " ".join(parts)


def redcap_dictionary(instrument: Instrument) -> list[dict[str, str]]:
    """Return the REDCap data dictionary of an instrument as rows (column -> text).

    See the module docstring for the mapping. Write it with :func:`write_redcap`.
    """
    inst = instrument
    form = _form_name(inst.id)
    names = _field_names(inst)
    rows: list[dict[str, str]] = []

    def row(**cells: str) -> None:
        r = dict.fromkeys(REDCAP_COLUMNS, "")
        r[_FORM] = form
        for k, v in cells.items():
            r[k] = v
        rows.append(r)

    row(**{_NAME: "record_id", _TYPE: "text", _LABEL: "Record ID"})
    for c in inst.constructs:
        section = _safe_label(c.label)
        logic = ""
        if c.gate is not None:
            g = c.gate
            choices = " | ".join(f"{g.option_code(o)}, {_choice_label(o)}" for o in g.options)
            altered = [o for o in g.options if _choice_label(o) != o]
            row(**{_NAME: names[g.id], _SECTION: section, _TYPE: "radio",
                   _LABEL: _safe_label(g.question), _CHOICES: choices,
                   _ANNOT: _tags(id=g.id, gate=c.id,
                                 options=list(g.options) if altered else None)})
            section = ""
            logic = " or ".join(f"[{names[g.id]}] = '{g.option_code(o)}'"
                                for o in g.open_when)
        if c.kind in ("multi_select", "single_choice"):
            choices = " | ".join(f"{c.item_code(it.id)}, {_choice_label(it.label)}"
                                 for it in c.items)
            texts = {it.id: it.text for it in c.items if it.text is not None}
            labels = {it.id: it.label for it in c.items if _choice_label(it.label) != it.label}
            row(**{_NAME: names[c.id], _SECTION: section,
                   _TYPE: "checkbox" if c.kind == "multi_select" else "radio",
                   _LABEL: _safe_label(c.question or c.label), _CHOICES: choices,
                   _BRANCH: logic,
                   _ANNOT: _tags(id=c.id, kind=c.kind, items=",".join(c.item_ids),
                                 texts=texts or None, labels=labels or None)})
            continue
        sc = inst.scale_of(c)
        if c.question:  # shown to respondents above the items
            row(**{_NAME: names[f"{c.id}_question"], _SECTION: section, _TYPE: "descriptive",
                   _LABEL: _safe_label(c.question), _BRANCH: logic,
                   _ANNOT: _tags(descriptive=True, construct=c.id)})
            section = ""
        for pos, it in enumerate(c.items):
            cells = {_NAME: names[it.id], _SECTION: section if pos == 0 else "",
                     _LABEL: _safe_label(it.text or it.label), _BRANCH: logic}
            label = it.label if it.text is not None else None
            question = c.question if pos == 0 else None
            if c.kind == "likert" and sc is not None:
                cells[_TYPE] = "radio"
                cells[_CHOICES] = " | ".join(
                    f"{v}, {_choice_label(sc.labels.get(v, str(v)))}" for v in sc.values)
                cells[_MATRIX] = c.id.lower()
                cells[_ANNOT] = _tags(id=it.id, construct=c.id, kind=c.kind, scale=sc.id,
                                      reverse=it.reverse, label=label, question=question)
            else:
                cells[_TYPE] = "yesno"
                cells[_ANNOT] = _tags(id=it.id, construct=c.id, kind=c.kind, label=label,
                                      question=question)
            row(**cells)
    return rows


def redcap_dictionary_csv(instrument: Instrument) -> str:
    """The data dictionary as CSV text (header row, every cell quoted as needed)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(REDCAP_COLUMNS), lineterminator="\n")
    w.writeheader()
    w.writerows(redcap_dictionary(instrument))
    return buf.getvalue()


def write_redcap(instrument: Instrument, path: str | os.PathLike[str]) -> Path:
    """Write the REDCap data dictionary CSV (UTF-8, atomically).

    A translated instrument gets one dictionary per language (REDCap holds one language
    per project, or per form with its Multi-Language Management): ``path`` in the default
    language and ``<stem>-<language><suffix>`` beside it for each other language (see
    :func:`redcap_translation_paths`). Field names and codes are the same in all of them,
    so data collected in any language merge.
    """
    out = atomic_write_text(path, redcap_dictionary_csv(instrument))
    for lang, p in redcap_translation_paths(instrument, path).items():
        atomic_write_text(p, redcap_dictionary_csv(instrument.in_language(lang)))
    return out


def redcap_translation_paths(instrument: Instrument, path: str | os.PathLike[str]
                             ) -> dict[str, Path]:
    """Where :func:`write_redcap` writes the dictionaries of the other languages."""
    p = Path(path)
    return {lang: p.with_name(f"{p.stem}-{lang}{p.suffix}")
            for lang in instrument.languages[1:]}


# ============================================================================ import
_JSON_TAGS = ("texts", "labels", "options")
_TAG_RE = re.compile(r'@INSTRVAL-([A-Z-]+)(?:=("(?:[^"\\]|\\.)*"|\S+))?')
_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _parse_tags(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in _TAG_RE.finditer(text or ""):
        key = m.group(1).lower().replace("-", "_")
        val = m.group(2)
        if val is None:
            out[key] = True
        elif key in _JSON_TAGS:
            continue  # JSON with spaces: decoded below
        elif val.startswith('"'):
            try:
                out[key] = json.loads(val)
            except ValueError:
                out[key] = val.strip('"')
        else:
            out[key] = val
    # JSON objects and lists contain spaces: decode them from where they start
    for key in _JSON_TAGS:
        start = re.search(rf"@INSTRVAL-{key.upper()}=", text or "")
        if start:
            with contextlib.suppress(ValueError):
                out[key], _ = json.JSONDecoder().raw_decode(text[start.end():])
    return out


def _unsafe(text: str) -> str:
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def _stored_code(code: str) -> int | str:
    """A REDCap choice code as instrval keeps it: whole numbers (written without leading
    zeros) as numbers, anything else (``a``, ``NA``, ``-9``, ``01``) as text."""
    return int(code) if re.fullmatch(r"0|[1-9]\d*", code) else code


def _id_part(code: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", code.replace("-", "m"))


@dataclass(frozen=True)
class FormImport:
    """What an import (REDCap, XLSForm, FHIR) built, and the notes on what it left out.

    ``notes`` are warnings (``Problem`` records with file, row, column and value): fields
    skipped because they hold no choices, choice labels that were blank, branching logic
    that is not an instrval gate, fields whose choices could not be read.
    """

    instrument: Instrument
    notes: tuple[Problem, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"instrument": self.instrument.label,
                "counts": self.instrument.counts(),
                "notes": [p.to_dict() for p in self.notes]}


#: The result of :func:`read_redcap_instrument` (the same type for every import).
RedcapImport = FormImport


def import_redcap_dictionary(path: str | os.PathLike[str], *, id: str, version: str,
                             title: str | None = None, strict: bool = False) -> Instrument:
    """Read a REDCap data dictionary (CSV) into an instrument.

    The same as :func:`read_redcap_instrument` but returning the instrument only; the
    notes on what was left out are issued as :class:`~instrval.errors.InstrvalWarning`
    (one warning listing them all).
    """
    res = read_redcap_instrument(path, id=id, version=version, title=title, strict=strict)
    if res.notes:
        warnings.warn(
            f"{path}: {len(res.notes)} note(s) on the import: "
            + "; ".join(p.message for p in res.notes[:5])
            + (" ..." if len(res.notes) > 5 else ""), InstrvalWarning, stacklevel=2)
    return res.instrument


def read_redcap_instrument(path: str | os.PathLike[str], *, id: str, version: str,
                           title: str | None = None, strict: bool = False) -> FormImport:
    """Read a REDCap data dictionary (CSV) into an instrument, importing what can be.

    Dictionaries written by :func:`write_redcap` come back equivalent: the same
    constructs, kinds, items, ids (case restored from ``@INSTRVAL-ID``), labels, questions,
    gates and scales. Instrument metadata is not in a data dictionary: ``id``, ``version``
    and ``title`` are given here (``title`` defaults to the form name), status is
    ``draft``.

    Dictionaries made in REDCap (without instrval tags) are read as:

    * checkbox -> multi_select construct (items ``<field>_<code>``);
    * radio/dropdown -> single_choice construct, or a **gate** when a later imported
      field's branching logic is ``[field] = 'k'`` (joined by ``or``; any case, quoted or
      not); yesno/truefalse fields can be gates too (codes 1 and 0 kept as the gate's
      ``codes``);
    * radio fields sharing a matrix group with whole-number codes that are consecutive in
      either order (``1..5`` or ``2, 1, 0``) -> a likert construct; in a matrix group
      with other codes -> single_choice constructs;
    * yesno/truefalse -> binary items grouped by section.

    Codes that are not whole numbers (``a``, ``NA``, ``-9``) are kept as text codes (the
    instrument is then written in format 1.1). Fields that hold no choices (text, notes,
    calc, file, slider, descriptive, sql), radios with a single option and choice fields
    whose choices cannot be read are skipped with a note; blank choice labels are a note
    (the code stands in); branching logic that is not an instrval gate (``and``,
    comparisons, several fields, a checkbox box) is a note and the field is imported
    without a gate.

    Parameters
    ----------
    path : path-like
        The data dictionary CSV (REDCap's human headers or the API's snake_case ones).
    id, version : str
        Id and version of the instrument to build.
    title : str, optional
        Its title (default: the form name of the first field).
    strict : bool
        Refuse (rather than note) choice fields that cannot be read and branching logic
        that is not a gate.

    Returns
    -------
    FormImport
        ``instrument`` and ``notes``.

    Raises
    ------
    ExportError
        Listing every problem at once (file, row, column, value): the file is missing or
        not a data dictionary, nothing in it can be imported (reason ``no_choice_fields``),
        or, with ``strict``, a field cannot be imported.
    """
    name = str(path)
    d = parse_redcap_dictionary(path, error=ExportError)
    ccol = column_name(d, "choices")
    bcol = column_name(d, "branching")
    notes: list[Problem] = list(d.problems)

    def note(f: RedcapField, reason: str, msg: str, col: str, value: Any = None,
             error: bool = False) -> None:
        notes.append(Problem(reason, msg, file=name, row=f.row, column=col, value=value,
                             severity="error" if error else "warning"))

    # ---- fields that can be imported
    usable: list[dict[str, Any]] = []
    skipped: dict[str, list[str]] = {}
    carried = ""  # a section header on a skipped field heads the next imported field
    for f in d.fields:
        tags = _parse_tags(f.annotation)
        if not f.is_choice:
            if f.name.lower() != "record_id" and f.row != 2 and not (
                    f.type == "descriptive" and "descriptive" in tags):
                skipped.setdefault(f.type, []).append(f.name)
            carried = _unsafe(f.section) or carried
            continue
        if f.choices is None:
            continue  # the parser noted why
        if f.type in ("radio", "dropdown") and len(f.choices) < 2 and "kind" not in tags:
            note(f, "single_option", f"field {f.name!r} ({f.type}) has a single option "
                 f"({f.choices_text!r}): imported as a binary item (REDCap stores its code "
                 "when it is chosen, blank otherwise)", ccol, f.choices_text)
        usable.append({"f": f, "name": f.name, "type": f.type, "label": _unsafe(f.label),
                       "section": _unsafe(f.section) or carried, "matrix": f.matrix,
                       "choices": [(c, _unsafe(lab)) for c, lab in f.choices],
                       "logic": f.branching, "tags": tags})
        carried = ""
    for ftype, names in skipped.items():
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        notes.append(Problem("skipped_field", f"{len(names)} {ftype} field(s) hold no "
                             f"choices and were skipped: {shown}", file=name,
                             column=column_name(d, "type"), value=ftype, severity="warning"))
    if strict and any(p.severity == "error" for p in notes):
        raise ExportError.from_problems([p for p in notes if p.severity == "error"], name)

    by_name = {u["name"].lower(): u for u in usable}
    position = {u["name"].lower(): k for k, u in enumerate(usable)}
    # which fields are gates: named by a later imported field's branching logic
    parsed: dict[int, Any] = {}
    why_not: dict[int, str] = {}
    for k, u in enumerate(usable):
        if not u["logic"]:
            continue
        g = parse_gate_logic(u["logic"])
        target = by_name.get(g.field) if g is not None else None
        why = None
        if g is None:
            why = "it is not [field] = 'code' joined by 'or'"
        elif g.box is not None:
            why = "it tests a checkbox box; an instrval gate is one radio or yes/no question"
        elif target is None:
            why = f"it names {g.field!r}, which is not an imported choice field"
        elif target["type"] == "checkbox" or position[g.field] >= k:
            why = f"it names {g.field!r}, which is not a radio or yes/no field before this one"
        elif not set(g.values) <= {c for c, _ in target["choices"]}:
            why = (f"it opens on code(s) {', '.join(g.values)}, not all among the choices "
                   f"of {g.field!r}")
        if why is None:
            parsed[k] = g
        else:
            why_not[k] = why
    while True:  # a gate shown only under a condition: its own logic cannot be kept
        gate_names = {g.field for g in parsed.values()}
        nested = [k for k in parsed if usable[k]["name"].lower() in gate_names]
        if not nested:
            break
        for k in nested:
            why_not[k] = "this field is a gate, and instrval gates cannot be nested"
            del parsed[k]
    gates_of: dict[str, list[str]] = {}  # gate field -> opening codes (first user)
    for k, u in enumerate(usable):
        if k in why_not:
            note(u["f"], "branching_not_gate", f"field {u['name']!r}: branching logic "
                 f"{u['logic']!r} is not an instrval gate ({why_not[k]}); the field is "
                 "imported without a gate", bcol, u["logic"], error=strict)
        elif k in parsed:
            g = parsed[k]
            u["gate_field"] = g.field
            u["open_codes"] = list(g.values)
            gates_of.setdefault(g.field, list(g.values))
    if strict and any(p.severity == "error" for p in notes):
        raise ExportError.from_problems([p for p in notes if p.severity == "error"], name)

    used_ids: set[str] = set()

    def fresh(base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]+", "_", base).strip("_") or "x"
        if not base[:1].isalpha():
            base = f"c_{base}"
        out, n = base, 1
        while out.lower() in used_ids:
            n += 1
            out = f"{base}_{n}"
        used_ids.add(out.lower())
        return out

    for u in usable:  # field names and tagged ids are claimed first
        used_ids.add(str(u["tags"].get("id") or u["name"]).lower())

    def ident(u: dict[str, Any]) -> str:
        return str(u["tags"].get("id") or u["name"])

    gate_for: dict[str, dict[str, Any]] = {}  # gate field -> gate dict
    gate_used: set[str] = set()
    pending_label: dict[str, str] = {}
    scales: dict[str, dict[str, Any]] = {}
    constructs: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    first_title = d.fields[0].form if d.fields else ""

    def make_gate(u: dict[str, Any], opening: list[str]) -> dict[str, Any]:
        codes = [c for c, _ in u["choices"]]
        options = [lab for _, lab in u["choices"]]
        if isinstance(u["tags"].get("options"), list) and \
                len(u["tags"]["options"]) == len(options):
            options = [str(o) for o in u["tags"]["options"]]
        # option ids must be distinct and non-blank
        seen: set[str] = set()
        for j, o in enumerate(options):
            o = o or codes[j]
            while o in seen:
                o = f"{o} ({codes[j]})"
            seen.add(o)
            options[j] = o
        ow = [options[codes.index(c)] for c in opening]
        gate: dict[str, Any] = {"id": ident(u), "question": u["label"] or u["name"],
                                "options": options,
                                "open_when": ow[0] if len(ow) == 1 else ow}
        if codes != [str(k) for k in range(1, len(codes) + 1)]:
            gate["codes"] = [_stored_code(c) for c in codes]
        return gate

    def gate_of(u: dict[str, Any]) -> dict[str, Any] | None:
        g = u.get("gate_field")
        if not g or g not in gate_for:
            return None
        if g in gate_used:
            note(u["f"], "gate_shared", f"field {u['name']!r}: gate {g!r} already opens "
                 "another construct; an instrval gate opens one construct, so this one is "
                 "imported without a gate", bcol, u["logic"])
            return None
        gate_used.add(g)
        gate = dict(gate_for[g])
        codes = [c for c, _ in by_name[g]["choices"]]
        opts = gate["options"]
        ow = [opts[codes.index(c)] for c in u["open_codes"]]
        gate["open_when"] = ow[0] if len(ow) == 1 else ow
        return gate

    for u in usable:
        tags, t = u["tags"], u["type"]
        is_gate = "gate" in tags or (u["name"].lower() in gates_of and "kind" not in tags)
        if is_gate and t != "checkbox":
            opening = gates_of.get(u["name"].lower(), [])
            if not opening:  # tagged gate that nothing opens: keep its first option
                opening = [u["choices"][0][0]]
            gate_for[u["name"].lower()] = make_gate(u, opening)
            pending_label[u["name"].lower()] = u["section"]
            current = None
            continue
        gfield = u.get("gate_field")
        label_from_gate = pending_label.pop(gfield, None) if gfield else None
        section = u["section"] or label_from_gate or ""
        kind = tags.get("kind")
        codes = [c for c, _ in u["choices"]]
        single = t in ("radio", "dropdown") and len(codes) < 2 and kind is None
        likert_ok = t in ("radio", "dropdown") and all(re.fullmatch(r"-?\d+", c)
                                                       for c in codes)
        if likert_ok:
            ints = sorted(int(c) for c in codes)
            likert_ok = ints == list(range(ints[0], ints[0] + len(ints))) and len(ints) >= 2
        if t in ("radio", "dropdown") and (u["matrix"] or kind == "likert") and \
                kind != "single_choice" and not likert_ok and not single:
            note(u["f"], "not_likert", f"field {u['name']!r} is in matrix group "
                 f"{u['matrix']!r} but its codes ({', '.join(codes)}) are not consecutive "
                 "whole numbers; it is imported as a single-choice question", ccol,
                 u["f"].choices_text)
        if t == "checkbox" or (t in ("radio", "dropdown") and not single and (
                kind == "single_choice" or not likert_ok or
                (kind != "likert" and not u["matrix"]))):
            ckind = "multi_select" if t == "checkbox" else "single_choice"
            ids = str(tags["items"]).split(",") if tags.get("items") else None
            if ids is not None and len(ids) != len(u["choices"]):
                note(u["f"], "malformed_choices", f"@INSTRVAL-ITEMS names {len(ids)} items "
                     f"but there are {len(u['choices'])} choices; item ids are made from "
                     "the codes", column_name(d, "annotation"), tags["items"])
                ids = None
            texts = tags.get("texts") or {}
            labels = tags.get("labels") or {}
            cid = ident(u)
            items = []
            for pos, (code, lab) in enumerate(u["choices"], start=1):
                iid = ids[pos - 1] if ids else fresh(f"{u['name']}_{_id_part(code)}")
                it: dict[str, Any] = {"id": iid, "label": labels.get(iid, lab) or code}
                if iid in texts:
                    it["text"] = texts[iid]
                sc = _stored_code(code)
                if sc != pos:
                    it["code"] = sc
                items.append(it)
            label = section or u["label"] or u["name"]
            c: dict[str, Any] = {"id": cid, "label": label}
            if u["label"] and u["label"] != label:
                c["question"] = u["label"]
            c["kind"] = ckind
            gate = gate_of(u)
            if gate:
                c["gate"] = gate
            c["items"] = items
            constructs.append(c)
            current = None
            continue
        # likert (radio in a matrix / tagged likert) and binary (yesno/truefalse) items
        ikind = "binary" if t in ("yesno", "truefalse") or single else "likert"
        cid = str(tags.get("construct") or u["matrix"] or "")
        item: dict[str, Any] = {"id": ident(u), "label": tags.get("label") or u["label"]
                                or u["name"]}
        if not u["label"]:
            note(u["f"], "blank_label", f"field {u['name']!r} has a blank label; its name "
                 "is used", column_name(d, "label"))
        if tags.get("label"):
            item["text"] = u["label"]
        if tags.get("reverse"):
            item["reverse"] = True
        scale_id = None
        if ikind == "likert":
            ints = [int(cd) for cd in codes]
            sdef: dict[str, Any] = {
                "min": min(ints), "max": max(ints),
                "labels": {int(cd): lab for cd, lab in u["choices"] if lab != cd}}
            if not sdef["labels"]:
                del sdef["labels"]
            scale_id = str(tags.get("scale") or f"{cid}_scale")
            if scale_id in scales and scales[scale_id] != sdef:
                k = 2
                while f"{scale_id}_{k}" in scales and scales[f"{scale_id}_{k}"] != sdef:
                    k += 1
                scale_id = f"{scale_id}_{k}"
            scales[scale_id] = sdef
        if cid:  # tagged construct or matrix group: continue while the id and scale agree
            same = current is not None and current["_key"] == cid and \
                current["kind"] == ikind and current.get("scale") == scale_id and \
                current["_gate_field"] == gfield
        else:  # untagged yesno fields: one construct per section header (and gate)
            same = (current is not None and current.get("_auto", False) and not section
                    and current["kind"] == ikind and current["_gate_field"] == gfield)
        if not same:
            auto = not cid
            key = cid
            if not cid:
                cid = section.lower() if section else f"{u['name']}_group"
            cid = cid if cid == str(tags.get("construct") or "") and _ID_RE.match(cid) \
                and cid.lower() not in {x["id"].lower() for x in constructs} else fresh(cid)
            current = {"id": cid, "_key": key, "label": section or cid, "kind": ikind,
                       "_gate_field": gfield, "_auto": auto, "items": []}
            if tags.get("question"):
                current["question"] = tags["question"]
            if scale_id:
                current["scale"] = scale_id
            gate = gate_of(u)
            if gate:
                current["gate"] = gate
            constructs.append(current)
        assert current is not None  # set above unless the item continues it
        current["items"].append(item)

    for c in constructs:
        for private in ("_gate_field", "_auto", "_key"):
            c.pop(private, None)
    used_scales = {c.get("scale") for c in constructs}
    scales = {k: v for k, v in scales.items() if k in used_scales}
    if not constructs:
        raise ExportError(
            f"{name}: nothing to import: the data dictionary has no radio, dropdown, "
            "checkbox, yes/no or true/false field that gives an instrval construct",
            [Problem("no_choice_fields", "no importable choice field", file=name),
             *notes])
    data: dict[str, Any] = {"format_version": "1.0", "id": id, "version": version,
                            "title": title or first_title or id, "status": "draft"}
    if scales:
        data["scales"] = scales
    data["constructs"] = constructs
    if any(isinstance(it.get("code"), str) for c in constructs for it in c["items"]) or \
            any("codes" in (c.get("gate") or {}) for c in constructs):
        data["format_version"] = FORMAT_VERSION
    try:
        inst = Instrument.from_dict(data, file=name)
    except InstrumentError as exc:
        raise ExportError(f"{name}: the data dictionary does not give a valid instrument "
                          f"({exc.summary})", [*exc.problems, *notes]) from None
    return FormImport(instrument=inst, notes=tuple(notes))
