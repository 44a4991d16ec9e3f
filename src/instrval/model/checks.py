"""Checks of instrument definition data (the content of an instrument file).

:func:`check_instrument_data` walks the plain data read from a YAML or JSON file and
returns every problem it finds, each with the key path (``constructs[1].items[3].id``),
the line where the reader knows it, the value and a reason code. It never stops at the
first problem: a user fixes a file in one pass.

Reason codes: ``not_mapping``, ``missing_key``, ``unknown_key``, ``wrong_type``,
``empty_value``, ``invalid_id``, ``duplicate_id``, ``invalid_value``,
``unsupported_format_version``, ``unknown_scale``, ``scale_not_allowed``,
``scale_range``, ``empty_construct``, ``too_few_levels``, ``reverse_not_likert``,
``duplicate_code``, ``gate_options``, ``gate_open_when``, ``unknown_item``,
``needs_format_1_1`` (text codes, gate codes, translated texts or adaptation records in a
format 1.0 file), ``missing_translation`` (a translated text without the default language).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from instrval.errors import InstrumentError, Problem
from instrval.model.instrument import (
    ADAPTATION_STEPS,
    CHANGE_ACTIONS,
    FORMAT_VERSION,
    KINDS,
    STATUSES,
)

__all__ = ["check_instrument_data", "ID_PATTERN", "INSTRUMENT_ID_PATTERN", "VERSION_PATTERN",
           "ALLOWED_KEYS", "safe_version_label"]

#: Version labels: they name files (``<id>-<version>.yaml``), so no ``/``, ``\\`` or
#: leading dot; the registry, the checker and the command line share this pattern.
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")


def safe_version_label(text: object, default: str = "1") -> str:
    """A version label from foreign text (a form's settings), made to match
    :data:`VERSION_PATTERN`: other characters become ``_`` or ``-``.

    >>> safe_version_label("2022-04-11 16:26:28.971000")
    '2022-04-11_16-26-28.971000'
    """
    t = re.sub(r"[:/\\]", "-", str(text).strip())
    t = re.sub(r"[^A-Za-z0-9_.+-]+", "_", t).lstrip("._+-")[:64]
    return t if t and VERSION_PATTERN.match(t) else default
#: Item, construct, gate and scale ids: a letter, then letters, digits or underscores.
ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: Instrument ids may also use hyphens and dots (``iam-physician``).
INSTRUMENT_ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")

_PARENT = re.compile(r"(\.[^.\[\]]+|\[\d+\])$|^[^.\[\]]+$")

ALLOWED_KEYS: dict[str, tuple[str, ...]] = {
    "instrument": (
        "format_version", "id", "version", "title", "status", "description", "language",
        "source", "license", "derived_from", "changelog", "scales", "constructs",
        "provenance",
    ),
    "source": ("citation", "url", "note"),
    "derived_from": ("id", "version"),
    "changelog": ("version", "item", "action", "step", "language", "by", "date", "reason",
                  "evidence"),
    "scale": ("min", "max", "labels"),
    "construct": ("id", "label", "question", "description", "kind", "scale", "gate", "items"),
    "gate": ("id", "question", "options", "open_when", "codes"),
    "item": ("id", "label", "text", "reverse", "code"),
}
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "instrument": ("format_version", "id", "version", "title", "constructs"),
    "source": (),
    "derived_from": ("id", "version"),
    "changelog": ("version", "action", "reason"),
    "scale": ("min", "max"),
    "construct": ("id", "label", "kind", "items"),
    "gate": ("id", "question", "options", "open_when"),
    "item": ("id", "label"),
}


class _Checker:
    def __init__(self, file: str | None, lines: Mapping[str, int] | None):
        self.file = file
        self.lines = lines or {}
        self.problems: list[Problem] = []

    # -- recording
    def add(self, key: str, reason: str, message: str, value: Any = None) -> None:
        line = self.lines.get(key)
        k = key
        while line is None and k:  # fall back to the nearest enclosing key located
            k = _PARENT.sub("", k)
            line = self.lines.get(k)
        self.problems.append(
            Problem(reason=reason, message=message, file=self.file, key=key or "(top level)",
                    line=line, value=value)
        )

    # -- generic shape checks
    def mapping(self, obj: Any, key: str, what: str) -> bool:
        if not isinstance(obj, Mapping):
            self.add(key, "not_mapping",
                     f"{what} must be a mapping of keys to values, got {_tname(obj)}", obj)
            return False
        allowed = ALLOWED_KEYS[what]
        for k in obj:
            if k not in allowed:
                hint = difflib.get_close_matches(str(k), allowed, n=1)
                tip = f"; did you mean {hint[0]!r}?" if hint else f"; allowed: {', '.join(allowed)}"
                self.add(_join(key, str(k)), "unknown_key",
                         f"unknown key {k!r} in {what}{tip}", k)
        for k in REQUIRED_KEYS[what]:
            if k not in obj or obj[k] is None:
                self.add(_join(key, k), "missing_key", f"{what} needs a {k!r}")
        return True

    def string(self, obj: Mapping[str, Any], k: str, key: str, *, required: bool = False,
               translatable: bool = False) -> None:
        if k not in obj or obj[k] is None:
            return  # missing required keys are reported by mapping()
        v = obj[k]
        if translatable and isinstance(v, Mapping):
            _check_translations(self, v, _join(key, k), required=required)
            return
        if not isinstance(v, str):
            self.add(_join(key, k), "wrong_type", f"{k!r} must be text, got {_tname(v)}", v)
        elif required and not v.strip():
            self.add(_join(key, k), "empty_value", f"{k!r} must not be empty", v)

    def ident(self, obj: Mapping[str, Any], k: str, key: str, pattern: re.Pattern[str] = ID_PATTERN
              ) -> str | None:
        if k not in obj or obj[k] is None:
            return None
        v = obj[k]
        if not isinstance(v, str):
            self.add(_join(key, k), "wrong_type", f"{k!r} must be text, got {_tname(v)}", v)
            return None
        if not pattern.match(v):
            self.add(_join(key, k), "invalid_id",
                     f"id {v!r} is not identifier-safe (a letter, then letters, digits"
                     f"{', hyphens, dots' if pattern is INSTRUMENT_ID_PATTERN else ''}"
                     " or underscores)", v)
            return None
        return v

    def version_label(self, obj: Mapping[str, Any], k: str, key: str) -> None:
        if k not in obj or obj[k] is None:
            return
        v = obj[k]
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            extra = " (write it in quotes, e.g. \"1.10\", so that it is not read as a number)" \
                if isinstance(v, float) else ""
            self.add(_join(key, k), "wrong_type",
                     f"{k!r} must be a text label such as \"2014\" or \"1.2.0\", "
                     f"got {_tname(v)}{extra}", v)
        elif isinstance(v, str) and not v.strip():
            self.add(_join(key, k), "empty_value", f"{k!r} must not be empty", v)
        elif not VERSION_PATTERN.match(str(v)):
            self.add(_join(key, k), "invalid_version",
                     f"{k!r} {v!r} is not a safe version label: use letters, digits and "
                     ". _ + - only, starting with a letter or digit, at most 64 characters "
                     "(it names files)", v)


def check_instrument_data(
    data: Any,
    *,
    file: str | None = None,
    lines: Mapping[str, int] | None = None,
    raise_on_error: bool = False,
) -> list[Problem]:
    """Check the plain data of an instrument file and return every problem found.

    Parameters
    ----------
    data : object
        What the YAML/JSON reader returned.
    file : str, optional
        File name, used in the problems.
    lines : mapping, optional
        Key path -> 1-based line, where the reader knows it.
    raise_on_error : bool, default False
        Raise :class:`~instrval.errors.InstrumentError` listing all problems instead of
        returning them when any is found.

    Returns
    -------
    list of Problem
        Empty when the data is a valid instrument definition.
    """
    ck = _Checker(file, lines)
    _check(ck, data)
    if raise_on_error and ck.problems:
        raise InstrumentError.from_problems(ck.problems, file or "instrument definition")
    return ck.problems


def _check(ck: _Checker, data: Any) -> None:
    if not ck.mapping(data, "", "instrument"):
        return
    fv = data.get("format_version")
    # text codes and gate codes arrived with format 1.1
    ck.text_codes = isinstance(fv, str) and bool(re.match(r"^\d+\.\d+$", fv)) and \
        tuple(int(x) for x in fv.split(".")) >= (1, 1)  # type: ignore[attr-defined]
    if fv is not None:
        if not isinstance(fv, str):
            ck.add("format_version", "wrong_type",
                   f"'format_version' must be text such as \"{FORMAT_VERSION}\" (in quotes), "
                   f"got {_tname(fv)}", fv)
        elif not re.match(r"^\d+\.\d+$", fv):
            ck.add("format_version", "invalid_value",
                   f"'format_version' must look like \"{FORMAT_VERSION}\"", fv)
        elif int(fv.split(".")[0]) != int(FORMAT_VERSION.split(".")[0]) or _newer(fv):
            ck.add("format_version", "unsupported_format_version",
                   f"format version {fv} is not supported by this instrval, which reads "
                   f"format {FORMAT_VERSION} and older 1.x files; upgrade instrval", fv)
    ck.ident(data, "id", "", INSTRUMENT_ID_PATTERN)
    ck.version_label(data, "version", "")
    lang = data.get("language")
    ck.default_language = lang if isinstance(lang, str) else None  # type: ignore[attr-defined]
    ck.string(data, "title", "", required=True, translatable=True)
    ck.string(data, "description", "", translatable=True)
    for k in ("language", "license"):
        ck.string(data, k, "")
    status = data.get("status")
    if status is not None and status not in STATUSES:
        ck.add("status", "invalid_value",
               f"'status' must be one of {', '.join(STATUSES)}, got {status!r}", status)
    if data.get("source") is not None and ck.mapping(data["source"], "source", "source"):
        for k in ALLOWED_KEYS["source"]:
            ck.string(data["source"], k, "source")
    if data.get("derived_from") is not None and ck.mapping(
            data["derived_from"], "derived_from", "derived_from"):
        ck.ident(data["derived_from"], "id", "derived_from", INSTRUMENT_ID_PATTERN)
        ck.version_label(data["derived_from"], "version", "derived_from")
    if data.get("provenance") is not None:
        if not isinstance(data["provenance"], Mapping):
            ck.add("provenance", "not_mapping", "'provenance' must be a mapping",
                   data["provenance"])
        else:
            _check_plain(ck, data["provenance"], "provenance")

    scales = _check_scales(ck, data.get("scales"))
    all_ids = _check_constructs(ck, data.get("constructs"), scales)
    _check_changelog(ck, data.get("changelog"), all_ids, data.get("version"))


def _check_scales(ck: _Checker, scales: Any) -> set[str]:
    known: set[str] = set()
    if scales is None:
        return known
    if not isinstance(scales, Mapping):
        ck.add("scales", "not_mapping",
               f"'scales' must map scale ids to scales, got {_tname(scales)}", scales)
        return known
    for sid, sc in scales.items():
        key = f"scales.{sid}"
        if not isinstance(sid, str) or not ID_PATTERN.match(sid):
            ck.add(key, "invalid_id", f"scale id {sid!r} is not identifier-safe", sid)
            continue
        known.add(sid)
        if not ck.mapping(sc, key, "scale"):
            continue
        lo, hi = sc.get("min"), sc.get("max")
        ok = True
        for k, v in (("min", lo), ("max", hi)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                ck.add(f"{key}.{k}", "wrong_type", f"{k!r} must be a whole number, got {_tname(v)}", v)
                ok = False
        if ok and isinstance(lo, int) and isinstance(hi, int) and lo >= hi:
            ck.add(key, "scale_range", f"scale {sid!r} needs min < max, got {lo}..{hi}", (lo, hi))
            ok = False
        labels = sc.get("labels")
        if labels is not None:
            if not isinstance(labels, Mapping):
                ck.add(f"{key}.labels", "not_mapping",
                       "'labels' must map codes to labels, e.g. {1: Disagree}", labels)
            else:
                for code, lab in labels.items():
                    if isinstance(code, str) and re.fullmatch(r"-?\d+", code.strip()):
                        code = int(code)  # JSON object keys are always text
                    if isinstance(code, bool) or not isinstance(code, int):
                        ck.add(f"{key}.labels.{code}", "wrong_type",
                               f"label code {code!r} must be a whole number", code)
                    elif ok and isinstance(lo, int) and isinstance(hi, int) and not lo <= code <= hi:
                        ck.add(f"{key}.labels.{code}", "scale_range",
                               f"label code {code} is outside the scale {lo}..{hi}", code)
                    if isinstance(lab, Mapping):
                        _check_translations(ck, lab, f"{key}.labels.{code}", required=True)
                    elif not isinstance(lab, str):
                        ck.add(f"{key}.labels.{code}", "wrong_type",
                               f"label for code {code!r} must be text", lab)
    return known


def _check_constructs(ck: _Checker, constructs: Any, scales: set[str]) -> set[str]:
    seen: dict[str, str] = {}  # id -> key path of first use
    item_ids: set[str] = set()

    folded: dict[str, tuple[str, str]] = {}  # casefolded id -> (id, key path)

    def claim(ident: str | None, key: str, what: str) -> None:
        if ident is None:
            return
        if ident in seen:
            ck.add(key, "duplicate_id",
                   f"{what} id {ident!r} is already used at {seen[ident]} (item, construct "
                   "and gate ids share one namespace: they name data columns)", ident)
            return
        twin = folded.get(ident.casefold())
        if twin is not None:
            ck.add(key, "case_twin_id",
                   f"{what} id {ident!r} differs only by case from {twin[0]!r} at {twin[1]}; "
                   "data columns are matched without regard to case, so the data of one "
                   "would be credited to the other: rename one", ident)
            return
        seen[ident] = key
        folded[ident.casefold()] = (ident, key)

    if constructs is None:
        return item_ids
    if not isinstance(constructs, list):
        ck.add("constructs", "wrong_type",
               f"'constructs' must be a list of constructs, got {_tname(constructs)}", constructs)
        return item_ids
    if not constructs:
        ck.add("constructs", "empty_value", "an instrument needs at least one construct")
    for ci, c in enumerate(constructs):
        ckey = f"constructs[{ci}]"
        if not ck.mapping(c, ckey, "construct"):
            continue
        claim(ck.ident(c, "id", ckey), f"{ckey}.id", "construct")
        ck.string(c, "label", ckey, required=True, translatable=True)
        ck.string(c, "question", ckey, translatable=True)
        ck.string(c, "description", ckey, translatable=True)
        kind = c.get("kind")
        if kind is not None and kind not in KINDS:
            ck.add(f"{ckey}.kind", "invalid_value",
                   f"'kind' must be one of {', '.join(KINDS)}, got {kind!r}", kind)
            kind = None
        scale = c.get("scale")
        if scale is not None and not isinstance(scale, str):
            ck.add(f"{ckey}.scale", "wrong_type",
                   f"'scale' must be a scale id (text), got {_tname(scale)}", scale)
            scale = None
        elif kind == "likert":
            if scale is None:
                ck.add(f"{ckey}.scale", "missing_key",
                       "a likert construct needs a 'scale' naming one of 'scales'")
            elif scale not in scales:
                ck.add(f"{ckey}.scale", "unknown_scale",
                       f"unknown scale {scale!r}; defined scales: "
                       f"{', '.join(sorted(scales)) or 'none'}", scale)
        elif scale is not None and kind is not None:
            ck.add(f"{ckey}.scale", "scale_not_allowed",
                   f"only likert constructs take a 'scale' (this one is {kind})", scale)
        gate = c.get("gate")
        if gate is not None and ck.mapping(gate, f"{ckey}.gate", "gate"):
            gkey = f"{ckey}.gate"
            claim(ck.ident(gate, "id", gkey), f"{gkey}.id", "gate")
            ck.string(gate, "question", gkey, required=True, translatable=True)
            opts = gate.get("options")
            opt_set: set[str] = set()
            if opts is not None:
                if not isinstance(opts, list) or not all(
                        isinstance(o, str) and o.strip() for o in opts):
                    ck.add(f"{gkey}.options", "wrong_type",
                           "'options' must be a list of option ids (text), e.g. [yes, no]", opts)
                elif len(opts) < 2 or len(set(opts)) != len(opts):
                    ck.add(f"{gkey}.options", "gate_options",
                           "a gate needs at least two distinct options", opts)
                else:
                    opt_set = set(opts)
            ow = gate.get("open_when")
            if ow is not None:
                ows = [ow] if isinstance(ow, str) else ow
                if not isinstance(ows, list) or not ows or not all(isinstance(o, str) for o in ows):
                    ck.add(f"{gkey}.open_when", "wrong_type",
                           "'open_when' must be an option id or a list of option ids", ow)
                elif opt_set:
                    for o in ows:
                        if o not in opt_set:
                            ck.add(f"{gkey}.open_when", "gate_open_when",
                                   f"'open_when' value {o!r} is not one of the gate's options "
                                   f"({', '.join(opts)})", o)
                    if set(ows) == opt_set:
                        ck.add(f"{gkey}.open_when", "gate_open_when",
                               "every option opens the gate, so it screens nothing", ow)
            gcodes = gate.get("codes")
            if gcodes is not None:
                if not getattr(ck, "text_codes", False):
                    ck.add(f"{gkey}.codes", "needs_format_1_1",
                           "gate 'codes' need format_version \"1.1\"", gcodes)
                elif not isinstance(gcodes, list) or (opt_set and len(gcodes) != len(opts)):
                    ck.add(f"{gkey}.codes", "wrong_type",
                           "'codes' must list one stored code per option, in order", gcodes)
                else:
                    gseen: set[str] = set()
                    for k, gc in enumerate(gcodes):
                        norm = _check_code(ck, gc, f"{gkey}.codes[{k}]")
                        if norm is not None and norm in gseen:
                            ck.add(f"{gkey}.codes[{k}]", "duplicate_code",
                                   f"code {gc!r} is given to two options", gc)
                        elif norm is not None:
                            gseen.add(norm)
        items = c.get("items")
        if items is None:
            continue
        if not isinstance(items, list):
            ck.add(f"{ckey}.items", "wrong_type",
                   f"'items' must be a list of items, got {_tname(items)}", items)
            continue
        if not items:
            ck.add(f"{ckey}.items", "empty_construct",
                   f"construct {c.get('id')!r} has no items", None)
        elif kind == "single_choice" and len(items) < 2:
            ck.add(f"{ckey}.items", "too_few_levels",
                   "a single_choice construct needs at least two levels (items)", len(items))
        codes: dict[str, int] = {}
        for ii, it in enumerate(items):
            ikey = f"{ckey}.items[{ii}]"
            if not ck.mapping(it, ikey, "item"):
                continue
            iid = ck.ident(it, "id", ikey)
            claim(iid, f"{ikey}.id", "item")
            if iid:
                item_ids.add(iid)
            ck.string(it, "label", ikey, required=True, translatable=True)
            ck.string(it, "text", ikey, translatable=True)
            rev = it.get("reverse")
            if rev is not None:
                if not isinstance(rev, bool):
                    ck.add(f"{ikey}.reverse", "wrong_type",
                           f"'reverse' must be true or false, got {_tname(rev)}", rev)
                elif rev and kind is not None and kind != "likert":
                    ck.add(f"{ikey}.reverse", "reverse_not_likert",
                           f"only likert items can be reverse-keyed (this construct is {kind})",
                           rev)
            code = it.get("code")
            if code is not None:
                norm = _check_code(ck, code, f"{ikey}.code")
                if norm is None:
                    pass
                elif norm in codes:
                    ck.add(f"{ikey}.code", "duplicate_code",
                           f"code {code} is already used by items[{codes[norm]}]", code)
                else:
                    codes[norm] = ii
    return item_ids


def _check_changelog(ck: _Checker, changelog: Any, item_ids: set[str], version: Any) -> None:
    if changelog is None:
        return
    if not isinstance(changelog, list):
        ck.add("changelog", "wrong_type",
               f"'changelog' must be a list of entries, got {_tname(changelog)}", changelog)
        return
    for ei, e in enumerate(changelog):
        key = f"changelog[{ei}]"
        if not ck.mapping(e, key, "changelog"):
            continue
        ck.version_label(e, "version", key)
        ck.string(e, "reason", key)
        ck.string(e, "evidence", key)
        for k in ("language", "by", "date"):
            ck.string(e, k, key)
        step = e.get("step")
        if step is not None and step not in ADAPTATION_STEPS:
            ck.add(f"{key}.step", "invalid_value",
                   f"'step' must be one of {', '.join(ADAPTATION_STEPS)}, got {step!r}", step)
        action = e.get("action")
        if action == "adapted" and not getattr(ck, "text_codes", False):
            ck.add(f"{key}.action", "needs_format_1_1",
                   "adaptation records need format_version \"1.1\"", action)
        if action is not None and action not in CHANGE_ACTIONS:
            ck.add(f"{key}.action", "invalid_value",
                   f"'action' must be one of {', '.join(CHANGE_ACTIONS)}, got {action!r}", action)
        item = e.get("item")
        if item is not None and not isinstance(item, str):
            ck.add(f"{key}.item", "wrong_type", f"'item' must be an item id, got {_tname(item)}",
                   item)
        elif (
            item is not None
            and action in ("kept", "revised", "added")
            and str(e.get("version")) == str(version)
            and item not in item_ids
        ):
            ck.add(f"{key}.item", "unknown_item",
                   f"changelog says item {item!r} was {action} in this version, "
                   "but the instrument has no such item", item)


def _check_plain(ck: _Checker, obj: Any, key: str) -> None:
    """Provenance is free-form but must be plain JSON data (no dates, no sets), so that
    the instrument writes to JSON and back unchanged."""
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            if not isinstance(k, str):
                ck.add(f"{key}.{k}", "wrong_type", f"key {k!r} must be text", k)
            _check_plain(ck, v, f"{key}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _check_plain(ck, v, f"{key}[{i}]")
    elif obj is not None and not isinstance(obj, (str, int, float, bool)):
        ck.add(key, "wrong_type",
               f"{key!r} must hold text, numbers, true/false, lists or mappings, got "
               f"{_tname(obj)} (quote dates, e.g. \"2024-01-31\")", obj)


_TEXT_CODE = re.compile(r"^[A-Za-z0-9_.-]+$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _check_translations(ck: _Checker, v: Mapping[str, Any], key: str, *,
                        required: bool) -> None:
    """A translated text ``{language: text}`` (format 1.1): language tags as keys, text
    values, and the instrument's default ``language`` among them."""
    if not getattr(ck, "text_codes", False):
        ck.add(key, "needs_format_1_1",
               "translated texts ({language: text}) need format_version \"1.1\"", dict(v))
        return
    if not v:
        ck.add(key, "empty_value", "a translated text needs at least one language", {})
        return
    for lang, text in v.items():
        if not isinstance(lang, str) or not _LANGUAGE.match(lang):
            ck.add(f"{key}.{lang}", "invalid_value",
                   f"{lang!r} is not a language tag such as en, fr or fr-CA", lang)
        elif not isinstance(text, str):
            ck.add(f"{key}.{lang}", "wrong_type", f"the {lang} text must be text, got "
                   f"{_tname(text)}", text)
        elif required and not text.strip():
            ck.add(f"{key}.{lang}", "empty_value", f"the {lang} text must not be empty", text)
    default = getattr(ck, "default_language", None)
    if default is None:
        ck.add(key, "missing_key", "translated texts need the instrument's default "
               "'language' (e.g. language: en)", dict(v))
    elif default not in v:
        ck.add(key, "missing_translation", f"the text has no {default!r} version (the "
               f"instrument's default language); it has {', '.join(map(str, v))}", dict(v))


def _check_code(ck: _Checker, code: Any, key: str) -> str | None:
    """Check a stored code; return its comparison key (lower-cased text) or None."""
    if isinstance(code, int) and not isinstance(code, bool):
        if code >= 0:
            return str(code)
    elif isinstance(code, str) and getattr(ck, "text_codes", False):
        if _TEXT_CODE.match(code):
            return code.lower()
        ck.add(key, "wrong_type",
               f"a text code must be letters, digits, '_', '-' or '.', got {code!r}", code)
        return None
    elif isinstance(code, str) and _TEXT_CODE.match(code):
        ck.add(key, "needs_format_1_1",
               f"text code {code!r} needs format_version \"1.1\" (format 1.0 takes whole "
               "numbers >= 0)", code)
        return None
    ck.add(key, "wrong_type",
           f"'code' must be a whole number >= 0 or (format 1.1) text such as 'a', got "
           f"{code!r}", code)
    return None


def _newer(fv: str) -> bool:
    major, minor = (int(x) for x in fv.split("."))
    cmaj, cmin = (int(x) for x in FORMAT_VERSION.split("."))
    return (major, minor) > (cmaj, cmin)


def _join(key: str, k: str) -> str:
    return f"{key}.{k}" if key else k


def _tname(v: Any) -> str:
    if v is None:
        return "nothing (null)"
    if isinstance(v, bool):
        return f"a boolean ({v})"
    if isinstance(v, Mapping):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, int):
        return f"a number ({v})"
    if isinstance(v, float):
        return f"a decimal number ({v})"
    if isinstance(v, str):
        return f"text ({v!r})"
    return type(v).__name__
