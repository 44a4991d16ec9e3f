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
           "ORDINAL_VALUE", "TRANSLATION"]

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
