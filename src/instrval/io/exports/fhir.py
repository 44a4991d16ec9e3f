"""Export an instrument as an HL7 FHIR R4 ``Questionnaire`` resource (JSON).

Mapping (FHIR R4, https://hl7.org/fhir/R4/questionnaire.html):

=====================  ================================================================
instrval               Questionnaire
=====================  ================================================================
id, version            ``url`` = ``<base_url>/<id>`` (default base ``urn:instrval:
                       questionnaire:``), ``version``, resource ``id`` = ``<id>-<version>``
                       (characters outside ``[A-Za-z0-9-.]`` become ``-``)
title                  ``title``; ``name`` is the id in CamelCase (``[A-Z][A-Za-z0-9_]*``)
status                 ``status``: draft -> draft, validated -> active, retired -> retired
description, language  ``description``, ``language``
license                ``copyright``
derived_from           ``derivedFrom``: ``["<canonical of that id>|<its version>"]``
construct              an item of type ``group`` (``linkId`` = construct id, ``text`` =
                       label); a construct ``question`` of a likert or binary construct
                       is a ``display`` item first in the group
multi_select           one ``choice`` item (``linkId`` = ``<construct id>.answer``) with
                       ``repeats: true`` and one ``answerOption`` coding per item
                       (``code`` = item id, ``display`` = label)
single_choice          one ``choice`` item (``repeats: false``), one ``answerOption`` per
                       level, coded like multi_select
likert item            a ``choice`` item (``linkId`` = item id, ``text`` = item text or
                       label) with one ``answerOption`` coding per scale value (``code`` =
                       the value as text, ``display`` = its label, else the value) and
                       the ``ordinalValue`` extension (the score: the value, reversed as
                       ``min + max - value`` for a reverse-keyed item), so that SDC tools
                       can score the answers
binary item            a ``boolean`` item (``linkId`` = item id)
gate                   a ``choice`` item just before the construct's group (``linkId`` =
                       gate id, one ``answerOption`` per option); the group gets
                       ``enableWhen`` = [{question: gate id, operator: "=", answerCoding:
                       the opening option}], with ``enableBehavior: "any"`` when several
                       options open the gate
=====================  ================================================================

A translated instrument (format 1.1) keeps its default language in ``text``, ``title`` and
``display`` and gives every other language with the FHIR ``translation`` extension
(``http://hl7.org/fhir/StructureDefinition/translation``, sub-extensions ``lang`` and
``content``) on the primitive's ``_text``, ``_title`` or ``_display`` element.

Codings carry ``system`` = ``urn:instrval:<instrument id>:<construct, gate or scale id>``,
so answers can be traced back to instrval ids. Not exported (FHIR R4 Questionnaire has no
field for them): ``source``, reverse keying (an ``extension`` could carry it; none is
standard), the changelog and provenance.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from instrval.io.atomic import atomic_write_text
from instrval.model.instrument import Construct, Gate, Instrument

__all__ = ["to_fhir_questionnaire", "write_fhir", "FHIR_STATUS", "DEFAULT_BASE_URL",
           "ORDINAL_VALUE", "TRANSLATION", "read_fhir_instrument"]

#: instrval status -> FHIR PublicationStatus.
FHIR_STATUS = {"draft": "draft", "validated": "active", "retired": "retired"}
#: Canonical base used when no ``base_url`` is given: ``urn:instrval:questionnaire:<id>``.
DEFAULT_BASE_URL = "urn:instrval:questionnaire"
#: The FHIR extension holding a translation of a string.
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
#: The FHIR R4 extension giving an answer option its score (SDC scoring).
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"


def _canonical(base_url: str | None, inst_id: str) -> str:
    base = (base_url or DEFAULT_BASE_URL).rstrip("/:")
    sep = ":" if base.startswith("urn:") else "/"
    return f"{base}{sep}{inst_id}"


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"valueCoding": {"system": system, "code": code, "display": display}}


def _gate_item(inst: Instrument, g: Gate) -> dict[str, Any]:
    system = f"urn:instrval:{inst.id}:{g.id}"
    return {"linkId": g.id, "text": g.question, "type": "choice", "required": False,
            "answerOption": [_coding(system, o, o) for o in g.options]}


def _construct_item(inst: Instrument, c: Construct) -> dict[str, Any]:
    group: dict[str, Any] = {"linkId": c.id, "text": c.label, "type": "group"}
    if c.gate is not None:
        system = f"urn:instrval:{inst.id}:{c.gate.id}"
        group["enableWhen"] = [
            {"question": c.gate.id, "operator": "=",
             "answerCoding": {"system": system, "code": o, "display": o}}
            for o in c.gate.open_when
        ]
        if len(c.gate.open_when) > 1:
            group["enableBehavior"] = "any"
    children: list[dict[str, Any]] = []
    if c.kind in ("multi_select", "single_choice"):
        system = f"urn:instrval:{inst.id}:{c.id}"
        children.append({
            "linkId": f"{c.id}.answer",
            "text": c.question or c.label,
            "type": "choice",
            "repeats": c.kind == "multi_select",
            "answerOption": [_coding(system, it.id, it.label) for it in c.items],
        })
    else:
        if c.question:
            children.append({"linkId": f"{c.id}.question", "text": c.question,
                             "type": "display"})
        if c.kind == "likert":
            sc = inst.scale_of(c)
            if sc is None:  # pragma: no cover - guaranteed by the checks
                raise ValueError(f"construct {c.id} has no scale")
            system = f"urn:instrval:{inst.id}:{sc.id}"
            for it in c.items:
                options = [{**_coding(system, str(v), sc.labels.get(v, str(v))),
                            "extension": [{"url": ORDINAL_VALUE, "valueDecimal":
                                           sc.min + sc.max - v if it.reverse else v}]}
                           for v in sc.values]
                children.append({"linkId": it.id, "text": it.text or it.label,
                                 "type": "choice", "answerOption": options})
        else:  # binary
            for it in c.items:
                children.append({"linkId": it.id, "text": it.text or it.label,
                                 "type": "boolean"})
    group["item"] = children
    return group


def _name(inst_id: str) -> str:
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", inst_id) if p]
    name = "".join(p[:1].upper() + p[1:] for p in parts)
    if not name or not name[0].isalpha():
        name = "Q" + name
    return name[:255]


def to_fhir_questionnaire(instrument: Instrument, *, base_url: str | None = None,
                          date: str | None = None) -> dict[str, Any]:
    """Return the instrument as a FHIR R4 ``Questionnaire`` resource (plain JSON data).

    Parameters
    ----------
    instrument : Instrument
    base_url : str, optional
        Canonical base of the organisation's questionnaires (e.g.
        ``https://fhir.example.org/Questionnaire``); the ``url`` is ``<base_url>/<id>``.
        Default ``urn:instrval:questionnaire`` (giving ``urn:instrval:questionnaire:<id>``).
    date : str, optional
        ``date`` of the resource (ISO 8601); left out when not given, so that the export
        of an instrument is reproducible.

    Returns
    -------
    dict
        A JSON-ready ``Questionnaire``; see the module docstring for the mapping.

    Examples
    --------
    >>> from instrval.model.instrument import Instrument
    >>> inst = Instrument.from_dict({
    ...     "format_version": "1.0", "id": "demo", "version": "1", "title": "Demo",
    ...     "status": "validated",
    ...     "constructs": [{"id": "impact", "label": "Impact", "kind": "multi_select",
    ...                     "items": [{"id": "learned", "label": "Learned something"}]}]})
    >>> q = to_fhir_questionnaire(inst)
    >>> q["resourceType"], q["status"], q["url"]
    ('Questionnaire', 'active', 'urn:instrval:questionnaire:demo')
    """
    inst = instrument
    q: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": re.sub(r"[^A-Za-z0-9.-]", "-", f"{inst.id}-{inst.version}")[:64],
    }
    if inst.language:
        q["language"] = inst.language
    q["url"] = _canonical(base_url, inst.id)
    q["version"] = inst.version
    q["name"] = _name(inst.id)
    q["title"] = inst.title
    if inst.derived_from is not None:
        q["derivedFrom"] = [
            f"{_canonical(base_url, inst.derived_from.id)}|{inst.derived_from.version}"]
    q["status"] = FHIR_STATUS[inst.status]
    if date:
        q["date"] = date
    if inst.description:
        q["description"] = inst.description
    if inst.license:
        q["copyright"] = inst.license
    items: list[dict[str, Any]] = []
    for c in inst.constructs:
        if c.gate is not None:
            items.append(_gate_item(inst, c.gate))
        items.append(_construct_item(inst, c))
    q["item"] = items
    if len(inst.languages) > 1:
        _add_translations(q, inst)
    return q


def _add_translations(q: dict[str, Any], inst: Instrument) -> None:
    """Add the translation extension to every text of ``q`` that has a translation, by
    walking the resource of each language in parallel (the same structure)."""
    others = {lang: to_fhir_questionnaire(inst.in_language(lang).without_translations())
              for lang in inst.languages[1:]}

    def ext(node: dict[str, Any], key: str, texts: dict[str, Any]) -> None:
        tr = [{"url": TRANSLATION, "extension": [{"url": "lang", "valueCode": lang},
                                                 {"url": "content", "valueString": t}]}
              for lang, t in texts.items() if isinstance(t, str) and t != node[key]]
        if tr:
            node[f"_{key}"] = {"extension": tr}

    def walk(node: Any, alts: dict[str, Any]) -> None:
        if isinstance(node, dict):
            for key in ("title", "text", "display", "description"):
                if isinstance(node.get(key), str):
                    ext(node, key, {lang: a.get(key) for lang, a in alts.items()})
            for k, v in list(node.items()):
                if isinstance(v, (dict, list)) and not k.startswith("_") and k != "extension":
                    walk(v, {lang: a.get(k) for lang, a in alts.items()})
        elif isinstance(node, list):
            for j, v in enumerate(node):
                walk(v, {lang: a[j] for lang, a in alts.items()
                         if isinstance(a, list) and j < len(a)})

    walk(q, others)


def write_fhir(instrument: Instrument, path: str | os.PathLike[str], *,
               base_url: str | None = None) -> Path:
    """Write :func:`to_fhir_questionnaire` as indented JSON (atomically)."""
    text = json.dumps(to_fhir_questionnaire(instrument, base_url=base_url), indent=2,
                      ensure_ascii=False) + "\n"
    return atomic_write_text(path, text)


# ============================================================================ import
_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _ordinal(node: dict[str, Any]) -> float | None:
    for e in node.get("extension", []) or []:
        if e.get("url") in (ORDINAL_VALUE,
                            "http://hl7.org/fhir/StructureDefinition/iso21090-CO-value"):
            v = e.get("valueDecimal", e.get("valueInteger"))
            if isinstance(v, (int, float)):
                return float(v)
    return None


def _translations_of(node: dict[str, Any], key: str, lang: str | None,
                     value: str | None) -> Any:
    """A text and its translation extensions as ``{language: text}`` (or the text)."""
    ext = (node.get(f"_{key}") or {}).get("extension", []) if isinstance(node, dict) else []
    tr: dict[str, str] = {}
    for e in ext:
        if e.get("url") != TRANSLATION:
            continue
        sub = {x.get("url"): x.get("valueCode", x.get("valueString"))
               for x in e.get("extension", [])}
        if sub.get("lang") and sub.get("content"):
            tr[str(sub["lang"])] = str(sub["content"])
    if not tr or value is None or not lang:
        return value
    return {lang: value, **tr}


def read_fhir_instrument(path: str | os.PathLike[str], *, id: str | None = None,
                         version: str | None = None, title: str | None = None) -> Any:
    """Read a FHIR R4 ``Questionnaire`` (JSON) into an instrument.

    The reverse of :func:`to_fhir_questionnaire`, and a reader of questionnaires made
    elsewhere (SDC forms, LOINC panels):

    * a ``choice`` item with ``repeats: true`` -> a multi_select construct; a ``choice``
      item -> a single_choice construct, its options from ``answerOption`` or a contained
      ``answerValueSet`` (``#id``); an option code that is a valid, unused id is the item
      id, else the item id is ``<question>_<code>`` and the code its text code;
    * consecutive ``choice`` items of a group sharing one answer list whose options carry
      whole-number ``ordinalValue`` scores (or whose codes are consecutive whole numbers)
      -> one likert construct (the group), scored by those values; a ``display`` item just
      before them is the construct's question;
    * ``boolean`` items -> binary items, grouped by their group;
    * ``enableWhen`` on a group or item naming an earlier single ``choice`` item with
      operator ``=`` (several joined with ``enableBehavior: any``) -> that construct's
      gate; other conditions are noted and the construct imported without a gate;
    * texts with the ``translation`` extension -> translated texts (default language:
      the resource's ``language``);
    * other item types (string, date, quantity...) are skipped with a note.

    Returns
    -------
    FormImport
        ``instrument`` and ``notes``.
    """
    from instrval.errors import ExportError, InstrumentError, Problem
    from instrval.io.exports.redcap import FormImport
    from instrval.io.files import read_input_bytes
    from instrval.model.checks import safe_version_label
    from instrval.model.instrument import FORMAT_VERSION

    name = str(path)
    raw = read_input_bytes(path, error=ExportError, what="FHIR Questionnaire")
    try:
        q = json.loads(raw.decode("utf-8-sig"))
    except RecursionError:
        raise ExportError(f"{name}: the JSON is nested too deeply to read",
                          [Problem("too_deep", "JSON nested too deeply", file=name)]) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ExportError(f"{name}: not JSON: {exc}",
                          [Problem("unreadable", str(exc), file=name)]) from None
    if not isinstance(q, dict) or q.get("resourceType") != "Questionnaire":
        raise ExportError(f"{name}: not a FHIR Questionnaire resource",
                          [Problem("not_questionnaire", "resourceType is not Questionnaire",
                                   file=name)])
    lang = q.get("language")
    notes: list[Problem] = []

    def note(reason: str, msg: str, value: Any = None) -> None:
        notes.append(Problem(reason, msg, file=name, value=value, severity="warning"))

    contained = {c.get("id"): c for c in q.get("contained", []) or []
                 if isinstance(c, dict) and c.get("resourceType") == "ValueSet"}

    def options_of(item: dict[str, Any]) -> list[dict[str, Any]] | None:
        """[{code, display, ordinal, node}] or None when the options are elsewhere."""
        if item.get("answerOption"):
            out = []
            for o in item["answerOption"]:
                vc = o.get("valueCoding")
                if vc is not None:
                    code, disp, node = vc.get("code"), vc.get("display"), vc
                else:
                    val = next((v for k, v in o.items() if k.startswith("value")), None)
                    code, disp, node = (None if val is None else str(val)), None, o
                if code is None:
                    continue
                ordv = _ordinal(o)
                if ordv is None and vc is not None:
                    ordv = _ordinal(vc)
                out.append({"code": str(code), "display": disp, "ordinal": ordv,
                            "node": node})
            return out
        vs = item.get("answerValueSet")
        if isinstance(vs, str) and vs.startswith("#") and vs[1:] in contained:
            out = []
            for inc in contained[vs[1:]].get("compose", {}).get("include", []):
                for c in inc.get("concept", []):
                    out.append({"code": str(c.get("code")), "display": c.get("display"),
                                "ordinal": _ordinal(c), "node": c})
            return out
        return None

    used: set[str] = set()

    def safe(link: str) -> str:
        s = re.sub(r"[^A-Za-z0-9_]+", "_", str(link)).strip("_") or "q"
        return s if s[:1].isalpha() else f"q_{s}"

    def fresh(base: str) -> str:
        base = safe(base)
        out, n = base, 1
        while out.lower() in used:
            n += 1
            out = f"{base}_{n}"
        used.add(out.lower())
        return out

    def txt(node: dict[str, Any], key: str = "text", fallback: str | None = None) -> Any:
        v = node.get(key)
        return _translations_of(node, key, lang, v) if v is not None else fallback

    # every item, with its parent group, in order
    flat: list[tuple[dict[str, Any], dict[str, Any] | None]] = []

    def walk(items: list[dict[str, Any]], parent: dict[str, Any] | None) -> None:
        for it in items or []:
            flat.append((it, parent))
            if it.get("item"):
                walk(it["item"], it if it.get("type") == "group" else parent)

    try:
        walk(q.get("item", []), None)
    except RecursionError:
        raise ExportError(f"{name}: the items are nested too deeply",
                          [Problem("too_deep", "items nested too deeply", file=name)]) from None
    pos_of = {it.get("linkId"): k for k, (it, _) in enumerate(flat)}

    def gate_cond(node: dict[str, Any], k: int) -> tuple[str, list[str]] | None | str:
        ew = node.get("enableWhen")
        if not ew:
            return None
        if len(ew) > 1 and node.get("enableBehavior") != "any":
            return "several conditions that must all hold"
        fields, vals = set(), []
        for c in ew:
            if c.get("operator") != "=":
                return f"operator {c.get('operator')!r}"
            val = next((v for kk, v in c.items() if kk.startswith("answer")), None)
            if isinstance(val, dict):
                val = val.get("code")
            if isinstance(val, bool):
                return "a yes/no (boolean) question"
            fields.add(c.get("question"))
            vals.append(str(val))
        if len(fields) != 1:
            return "conditions on several questions"
        f = next(iter(fields))
        j = pos_of.get(f)
        if j is None or j >= k or flat[j][0].get("type") != "choice" or \
                flat[j][0].get("repeats"):
            return f"{f!r} is not an earlier single-choice question"
        return f, vals

    def holds_answers(node: dict[str, Any]) -> bool:
        if node.get("type") in ("choice", "boolean"):
            return True
        return node.get("type") == "group" and any(holds_answers(x) for x in
                                                   node.get("item", []) or [])

    conds: dict[int, tuple[str, list[str]]] = {}
    for k, (it, _) in enumerate(flat):
        if not holds_answers(it):
            continue  # a condition on items that are not imported gates nothing
        c = gate_cond(it, k)
        if isinstance(c, tuple):
            conds[k] = c
        elif isinstance(c, str) and it.get("type") in ("group", "choice", "boolean"):
            note("enable_when_not_gate", f"{it.get('linkId')!r}: enableWhen ({c}) is not an "
                 "instrval gate; imported without a gate", it.get("enableWhen"))
    gate_links = {f for f, _ in conds.values()}
    for it, _ in flat:
        used.add(safe(it.get("linkId", "")).lower())
    gates: dict[str, dict[str, Any]] = {}
    gate_used: set[str] = set()
    link_id: dict[str, str] = {}

    def gate_of(k: int, parent: dict[str, Any] | None) -> dict[str, Any] | None:
        cond = conds.get(k)
        if cond is None and parent is not None:
            cond = conds.get(pos_of.get(parent.get("linkId"), -1))
        if cond is None or cond[0] not in gates or cond[0] in gate_used:
            return None
        g = dict(gates[cond[0]])
        codes = g.pop("_codes")
        ow = [g["options"][codes.index(v)] for v in cond[1] if v in codes]
        if not ow or set(ow) == set(g["options"]):
            return None
        g["open_when"] = ow[0] if len(ow) == 1 else ow
        gate_used.add(cond[0])
        return g

    constructs: list[dict[str, Any]] = []
    scales: dict[str, dict[str, Any]] = {}
    skipped: dict[str, list[str]] = {}
    current: dict[str, Any] | None = None
    pending: Any = None
    for k, (it, parent) in enumerate(flat):
        t = it.get("type")
        link = str(it.get("linkId", ""))
        if t == "group":
            current, pending = None, None
            continue
        if t == "display":
            if link.endswith(".question") or pending is None:
                pending = txt(it)
            continue
        if t == "boolean" or t == "choice":
            pass
        else:
            skipped.setdefault(str(t), []).append(link)
            continue
        opts = options_of(it) if t == "choice" else [
            {"code": "1", "display": "Yes", "ordinal": 1.0, "node": {}},
            {"code": "0", "display": "No", "ordinal": 0.0, "node": {}}]
        if opts is None or len(opts) < 2:
            note("no_options", f"{link!r}: its answer options are not in the resource "
                 f"({it.get('answerValueSet') or 'none'}); skipped", link)
            continue
        if t == "choice" and link in gate_links and not it.get("repeats"):
            gates[link] = {"id": safe(link), "question": txt(it, fallback=link),
                           "options": [o["code"] for o in opts],
                           "_codes": [o["code"] for o in opts]}
            current = None
            continue
        scores = [o["ordinal"] for o in opts]
        int_codes = all(re.fullmatch(r"-?\d+", o["code"]) for o in opts)
        # whole-number codes are the stored values; else the ordinalValue scores are
        ords = [float(o["code"]) for o in opts] if int_codes else scores
        reverse = int_codes and all(v is not None for v in scores) and \
            [float(v) for v in scores] == [min(ords) + max(ords) - c for c in ords] and \
            scores != ords
        ints = all(v is not None and float(v).is_integer() for v in ords)
        iv = sorted(int(v) for v in ords) if ints else []
        likert = t == "choice" and not it.get("repeats") and ints and \
            iv == list(range(iv[0], iv[0] + len(iv))) and parent is not None
        if t == "boolean" or likert:
            ikind = "binary" if t == "boolean" else "likert"
            scale_id = None
            if likert:
                key = it.get("answerValueSet") or "|".join(o["code"] for o in opts)
                scale_id = next((sid for sid, s in scales.items() if s["_key"] == key), None)
                if scale_id is None:
                    sys_id = ""
                    vc0 = opts[0]["node"]
                    if isinstance(vc0, dict) and str(vc0.get("system", "")).startswith(
                            "urn:instrval:"):
                        sys_id = str(vc0["system"]).rsplit(":", 1)[-1]
                    scale_id = sys_id or fresh(f"{(parent or {}).get('linkId', link)}_scale")
                    labels = {}
                    for o, v in sorted(zip(opts, ords, strict=True), key=lambda x: x[1]):
                        d = _translations_of(o["node"], "display", lang, o["display"])
                        if o["display"] is not None and o["display"] != str(int(v)):
                            labels[int(v)] = d
                    scales[scale_id] = {"min": iv[0], "max": iv[-1], "_key": key}
                    if labels:
                        scales[scale_id]["labels"] = labels
                    if [o["code"] for o in opts] != [str(int(v)) for v in ords]:
                        note("scored_codes", f"{link!r}: answers are coded "
                             f"{', '.join(o['code'] for o in opts)}; the scale uses their "
                             f"ordinalValue scores {iv[0]}..{iv[-1]}", link)
            iid = safe(link)
            link_id[link] = iid
            item = {"id": iid, "label": txt(it, fallback=link)}
            if likert and reverse:
                item["reverse"] = True
            gkey = (parent or {}).get("linkId")
            if current is not None and current["kind"] == ikind and \
                    current.get("scale") == scale_id and current["_group"] == gkey:
                current["items"].append(item)
                continue
            glabel = txt(parent, fallback=None) if parent is not None else None
            base = str(gkey) if gkey else f"{link}_group"
            cid = safe(base) if safe(base).lower() not in {c["id"].lower() for c in
                                                          constructs} else fresh(base)
            current = {"id": cid, "label": glabel or cid, "kind": ikind, "_group": gkey,
                       "items": [item]}
            if pending is not None:
                current["question"] = pending
            if scale_id:
                current["scale"] = scale_id
            g = gate_of(k, parent)
            if g:
                current["gate"] = g
            constructs.append(current)
            pending = None
            continue
        current, pending = None, None
        qid = safe(link[:-len(".answer")] if link.endswith(".answer") else link)
        items = []
        for p, o in enumerate(opts, start=1):
            code = o["code"]
            iid = code if _ID_RE.match(code) and code.lower() not in used else \
                fresh(f"{qid}_{code}")
            used.add(iid.lower())
            entry: dict[str, Any] = {
                "id": iid, "label": _translations_of(o["node"], "display", lang,
                                                     o["display"]) or code}
            if iid != code:
                sc = int(code) if re.fullmatch(r"0|[1-9]\d*", code) else \
                    (code if re.fullmatch(r"[A-Za-z0-9_.-]+", code) else None)
                if sc is not None and sc != p:
                    entry["code"] = sc
            items.append(entry)
        group_only = parent is not None and link.endswith(".answer")
        label = txt(parent, fallback=None) if group_only else None
        c: dict[str, Any] = {"id": qid, "label": label or txt(it, fallback=qid),
                             "kind": "multi_select" if it.get("repeats") else "single_choice"}
        qtext = txt(it)
        if qtext is not None and qtext != c["label"]:
            c["question"] = qtext
        g = gate_of(k, parent)
        if g:
            c["gate"] = g
        c["items"] = items
        constructs.append(c)
    for ftype, links in skipped.items():
        shown = ", ".join(links[:6]) + (f" and {len(links) - 6} more" if len(links) > 6
                                        else "")
        note("skipped_field", f"{len(links)} {ftype} item(s) hold no choices and were "
             f"skipped: {shown}", ftype)
    for c in constructs:
        c.pop("_group", None)
    for s in scales.values():
        s.pop("_key", None)
    if not constructs:
        raise ExportError(f"{name}: nothing to import: the Questionnaire has no choice or "
                          "boolean item", [Problem("no_choice_fields", "no importable item",
                                                   file=name), *notes])
    translated = bool(lang) and "translation" in raw.decode("utf-8-sig", errors="ignore")
    qid_default = q.get("name") or q.get("id") or "questionnaire"
    data: dict[str, Any] = {
        "format_version": FORMAT_VERSION if translated or any(
            isinstance(i.get("code"), str) for c in constructs for i in c["items"]) else "1.0",
        "id": id or safe(str(qid_default)),
        "version": version or safe_version_label(q.get("version") or "1"),
        "title": title or _translations_of(q, "title", lang, q.get("title")) or
        str(qid_default), "status": {"active": "validated", "retired": "retired"}.get(
            q.get("status"), "draft")}
    if lang:
        data["language"] = lang
    if q.get("description"):
        data["description"] = _translations_of(q, "description", lang, q["description"])
    if q.get("copyright"):
        data["license"] = q["copyright"]
    if scales:
        data["scales"] = scales
    data["constructs"] = constructs
    try:
        inst = Instrument.from_dict(data, file=name)
    except InstrumentError as exc:
        raise ExportError(f"{name}: the Questionnaire does not give a valid instrument "
                          f"({exc.summary})", [*exc.problems, *notes]) from None
    return FormImport(instrument=inst, notes=tuple(notes))
