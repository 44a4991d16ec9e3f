"""The JSON Schema of the instrument file format, for editors and other tools.

:func:`instrument_schema` returns the schema (JSON Schema draft 2020-12) as plain data; the
same schema ships as ``instrval/io/schema/instrument-1.1.schema.json`` and is printed by
``instrval instrument schema [--out FILE]``. Editors that understand JSON Schema (VS Code
with the YAML extension, JetBrains IDEs) use it to validate and complete instrument files,
e.g. with a first line ``# yaml-language-server: $schema=instrument-1.1.schema.json``.

The schema states everything that can be said about one value at a time: the keys allowed
(``additionalProperties: false``, so a typo is an error), the required keys, types, id
patterns, the kinds, statuses and change actions, that only likert constructs take a
``scale`` (and must), that only likert items may be reverse-keyed, that single-choice
constructs have at least two items. What it cannot say is checked by
``instrval instrument check`` (:func:`instrval.model.checks.check_instrument_data`), which
is the authority: ids unique across constructs, items and gates, a construct's ``scale``
naming a defined scale, ``open_when`` being one of the gate's ``options``, scale label codes
inside ``min..max``, unique item codes, changelog items that exist.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from instrval.model.checks import ALLOWED_KEYS, REQUIRED_KEYS
from instrval.model.instrument import (
    ADAPTATION_STEPS,
    CHANGE_ACTIONS,
    FORMAT_VERSION,
    KINDS,
    STATUSES,
)

__all__ = ["instrument_schema", "schema_text", "SCHEMA_ID", "SCHEMA_FILE"]

#: The ``$id`` of the schema.
SCHEMA_ID = f"https://example.org/instrval/schema/instrument-{FORMAT_VERSION}.schema.json"
#: The file name of the shipped schema (in the package folder ``instrval/io/schema``).
SCHEMA_FILE = f"instrument-{FORMAT_VERSION}.schema.json"

_ID = r"^[A-Za-z][A-Za-z0-9_]*$"
_INSTRUMENT_ID = r"^[A-Za-z][A-Za-z0-9_.-]*$"


def _text(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


_LANG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


def _ttext(description: str, **extra: Any) -> dict[str, Any]:
    """A text that may be translated (format 1.1): plain, or {language: text}."""
    plain = {"type": "string", **extra}
    return {"description": description + " Format 1.1: or one text per language, e.g. "
            "{en: ..., fr: ...}, including the instrument's default language.",
            "oneOf": [plain, {"type": "object", "minProperties": 1,
                              "propertyNames": {"pattern": _LANG},
                              "additionalProperties": plain}]}


def _version(description: str) -> dict[str, Any]:
    return {
        "description": description + " Write it in quotes (\"1.10\") so it is not read as a "
        "number; whole numbers such as 2014 are accepted.",
        "oneOf": [{"type": "string", "minLength": 1, "pattern": r"\S"}, {"type": "integer"}],
    }


def _obj(what: str, properties: dict[str, Any], description: str) -> dict[str, Any]:
    if set(properties) != set(ALLOWED_KEYS[what]):  # the schema mirrors the checker
        raise RuntimeError(f"schema keys of {what} differ from checks.ALLOWED_KEYS")
    d: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    if REQUIRED_KEYS[what]:
        d["required"] = list(REQUIRED_KEYS[what])
    return d


def instrument_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of instrument files, format 1.x.

    Returns
    -------
    dict
        Plain JSON data; ``json.dumps`` it to save it. The same content is shipped as
        ``instrval/io/schema/instrument-1.1.schema.json``.

    Examples
    --------
    >>> schema = instrument_schema()
    >>> schema["required"]
    ['format_version', 'id', 'version', 'title', 'constructs']
    """
    ident = {"type": "string", "pattern": _ID,
             "description": "An identifier: a letter, then letters, digits or underscores. "
                            "Item, construct and gate ids share one namespace (they name "
                            "data columns) and must be unique in the file."}
    item = _obj("item", {
        "id": ident,
        "label": _ttext("Short label shown in tables and reports.", minLength=1, pattern=r"\S"),
        "text": _ttext("The full wording shown to respondents, when it differs from the "
                      "label."),
        "reverse": {"type": "boolean", "default": False,
                    "description": "Reverse-keyed (likert items only)."},
        "code": {"oneOf": [{"type": "integer", "minimum": 0},
                           {"type": "string", "pattern": r"^[A-Za-z0-9_.-]+$"}],
                 "description": "What survey platforms store for this box or level "
                                "(REDCap's choice code): a whole number >= 0, or (format "
                                "1.1) text such as 'a' or 'NA'; default: 1-based position "
                                "in the construct. Unique within the construct."},
    }, "One item: a check box, a level of a single-choice question, or a rated statement.")
    gate = _obj("gate", {
        "id": ident,
        "question": _ttext("The screening question.", minLength=1, pattern=r"\S"),
        "options": {"type": "array", "minItems": 2, "uniqueItems": True,
                    "items": {"type": "string", "minLength": 1, "pattern": r"\S"},
                    "description": "The answer options (ids), e.g. [\"yes\", \"no\"]. "
                                   "Quote yes/no in YAML files read by other tools."},
        "open_when": {
            "description": "The option (or options) that open the gate; each must be one "
                           "of 'options', and not all of them.",
            "oneOf": [{"type": "string", "minLength": 1},
                      {"type": "array", "minItems": 1, "uniqueItems": True,
                       "items": {"type": "string", "minLength": 1}}],
        },
        "codes": {"type": "array", "minItems": 2,
                  "items": {"oneOf": [{"type": "integer", "minimum": 0},
                                      {"type": "string", "pattern": r"^[A-Za-z0-9_.-]+$"}]},
                  "description": "Format 1.1: the stored code of each option, in the order "
                                 "of 'options' (a REDCap yesno field stores 1 and 0); "
                                 "default: 1-based positions."},
    }, "A screening question: the construct is presented only when the gate is open.")
    construct = _obj("construct", {
        "id": ident,
        "label": _ttext("The construct's name.", minLength=1, pattern=r"\S"),
        "question": _ttext("The question respondents see (e.g. 'check all that apply')."),
        "description": _ttext("What the construct measures."),
        "kind": {"enum": list(KINDS),
                 "description": "multi_select: check all that apply (each item a 0/1 box); "
                                "single_choice: the items are exclusive levels of one "
                                "question; likert: each item rated on 'scale'; binary: each "
                                "item 0/1."},
        "scale": {"type": "string", "pattern": _ID,
                  "description": "Id of one of 'scales' (likert constructs only, required "
                                 "there)."},
        "gate": gate,
        "items": {"type": "array", "minItems": 1, "items": item,
                  "description": "The construct's items, in presentation order."},
    }, "A construct (facet) and the items that measure it.")
    construct["allOf"] = [
        {"if": {"properties": {"kind": {"const": "likert"}}, "required": ["kind"]},
         "then": {"required": ["scale"]},
         "else": {"not": {"required": ["scale"]},
                  "properties": {"items": {"items": {
                      "properties": {"reverse": {"const": False}}}}}}},
        {"if": {"properties": {"kind": {"const": "single_choice"}}, "required": ["kind"]},
         "then": {"properties": {"items": {"minItems": 2}}}},
    ]
    scale = _obj("scale", {
        "min": {"type": "integer", "description": "Lowest code."},
        "max": {"type": "integer", "description": "Highest code (greater than min)."},
        "labels": {"type": "object", "description": "Code -> label, e.g. {1: Disagree}.",
                   "propertyNames": {"pattern": r"^-?[0-9]+$"},
                   "additionalProperties": _ttext("The label of a code.")},
    }, "A response scale of whole numbers from min to max.")
    source = _obj("source", {
        "citation": _text("How to cite the instrument."),
        "url": _text("Where the instrument is described."),
        "note": _text("Anything else about the source (wording, permissions)."),
    }, "Where the instrument comes from.")
    derived = _obj("derived_from", {
        "id": {"type": "string", "pattern": _INSTRUMENT_ID,
               "description": "Id of the instrument this version was revised from."},
        "version": _version("Its version."),
    }, "The instrument version this one was revised from.")
    change = _obj("changelog", {
        "version": _version("The version that made the change."),
        "item": {"type": "string", "description": "The item concerned, if any."},
        "action": {"enum": list(CHANGE_ACTIONS), "description": "What was done."},
        "step": {"enum": list(ADAPTATION_STEPS),
                 "description": "For 'adapted' entries (format 1.1): the step of the "
                                "translation and cultural adaptation (ISPOR principles)."},
        "language": _text("For 'adapted' entries: the target language."),
        "by": _text("Who did it (translators, reviewers)."),
        "date": _text("When (ISO 8601 date, in quotes)."),
        "reason": _text("Why."),
        "evidence": _text("The evidence behind the change (e.g. report section)."),
    }, "One changelog entry.")
    root = _obj("instrument", {
        "format_version": {"type": "string", "pattern": r"^1\.[0-9]+$",
                           "description": f"File format version; this instrval writes "
                                          f"\"{FORMAT_VERSION}\". In quotes.",
                           "examples": [FORMAT_VERSION]},
        "id": {"type": "string", "pattern": _INSTRUMENT_ID,
               "description": "Instrument id: a letter, then letters, digits, '_', '-' or "
                              "'.'."},
        "version": _version("This version's label, e.g. \"2011\" or \"1.2.0\"."),
        "title": _ttext("The instrument's title.", minLength=1, pattern=r"\S"),
        "status": {"enum": list(STATUSES), "default": "draft",
                   "description": "Life-cycle status of this version."},
        "description": _ttext("What the instrument is for."),
        "language": _text("Language of the wording (e.g. en, fr-CA); with translated texts, the default language."),
        "source": source,
        "license": _text("Licence or copyright statement of the wording."),
        "derived_from": derived,
        "changelog": {"type": "array", "items": change,
                      "description": "What each version changed, item by item."},
        "scales": {"type": "object", "propertyNames": {"pattern": _ID},
                   "additionalProperties": scale,
                   "description": "Response scales by id, used by likert constructs."},
        "constructs": {"type": "array", "minItems": 1, "items": construct,
                       "description": "The constructs, in presentation order."},
        "provenance": {"type": "object",
                       "description": "Free-form record of how the file was made (plain "
                                      "JSON data)."},
    }, "An instrval instrument definition file (one version of a questionnaire).")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"instrval instrument file, format {FORMAT_VERSION}",
        **root,
    }


def schema_text() -> str:
    """The schema as indented JSON text (what ``instrval instrument schema`` prints)."""
    return json.dumps(instrument_schema(), indent=2, ensure_ascii=False) + "\n"


def shipped_schema() -> dict[str, Any]:
    """The schema file shipped in the package (the same content as
    :func:`instrument_schema`; a test keeps them equal)."""
    return json.loads(
        resources.files("instrval.io").joinpath("schema").joinpath(SCHEMA_FILE).read_text("utf-8"))
