"""Instrument files: every malformed-file case with its message, reason code and line;
round-trips of every shipped instrument; the JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import instrval
from instrval.errors import InstrumentError
from instrval.io.instrument import (
    check_instrument_file,
    dumps_instrument,
    loads_instrument,
    read_instrument,
    write_instrument,
)
from instrval.io.schema import instrument_schema, schema_text, shipped_schema
from instrval.io.yamlfile import load_document
from instrval.model.checks import check_instrument_data

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "instruments").rglob("*.yaml")) + sorted(
    (ROOT / "instruments").rglob("*.json"))

# Line numbers are given on the right; tests replace one line at a time.
BASE = """\
format_version: "1.0"
id: demo
version: "1"
title: Demo
scales:
  agree5:
    min: 1
    max: 5
constructs:
  - id: impact
    label: Impact
    kind: multi_select
    gate:
      id: use_gate
      question: Used?
      options: [yes, no]
      open_when: yes
    items:
      - id: learned
        label: Learned
      - id: reassured
        label: Reassured
  - id: attitude
    label: Attitude
    kind: likert
    scale: agree5
    items:
      - id: a1
        label: Likes it
      - id: a2
        label: Dislikes it
        reverse: true
"""


def _line_of(text: str, fragment: str) -> int:
    for n, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return n
    raise AssertionError(fragment)


def _problems(tmp_path: Path, text: str, name: str = "inst.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return check_instrument_file(p), str(p)


def _one(tmp_path: Path, text: str, reason: str):
    problems, file = _problems(tmp_path, text)
    hits = [p for p in problems if p.reason == reason]
    assert len(hits) == 1, problems
    assert hits[0].file == file
    return hits[0]


def test_base_is_valid_and_yes_no_stay_text(tmp_path):
    problems, _ = _problems(tmp_path, BASE)
    assert problems == []
    inst = loads_instrument(BASE)
    g = inst.construct("impact").gate
    assert g.options == ("yes", "no") and g.open_when == ("yes",)  # not True/False
    assert inst.construct("attitude").items[1].reverse is True


# (description, old line fragment, replacement, reason, message fragment, key)
CASES = [
    ("duplicate item id", "      - id: reassured", "      - id: learned", "duplicate_id",
     "item id 'learned' is already used at constructs[0].items[0].id",
     "constructs[0].items[1].id"),
    ("item id equal to a construct id", "      - id: a1", "      - id: impact",
     "duplicate_id", "item id 'impact' is already used at constructs[0].id",
     "constructs[1].items[0].id"),
    ("unknown scale", "    scale: agree5", "    scale: agree7", "unknown_scale",
     "unknown scale 'agree7'; defined scales: agree5", "constructs[1].scale"),
    ("open_when not an option", "      open_when: yes", "      open_when: maybe",
     "gate_open_when", "'open_when' value 'maybe' is not one of the gate's options (yes, no)",
     "constructs[0].gate.open_when"),
    ("every option opens the gate", "      open_when: yes", "      open_when: [yes, no]",
     "gate_open_when", "every option opens the gate", "constructs[0].gate.open_when"),
    ("gate with one option", "      options: [yes, no]", "      options: [yes]",
     "gate_options", "a gate needs at least two distinct options",
     "constructs[0].gate.options"),
    ("reverse on a multi_select item", "        label: Reassured",
     "        label: Reassured\n        reverse: true", "reverse_not_likert",
     "only likert items can be reverse-keyed (this construct is multi_select)",
     "constructs[0].items[1].reverse"),
    ("label as a number", "        label: Likes it", "        label: 12", "wrong_type",
     "'label' must be text, got a number (12)", "constructs[1].items[0].label"),
    ("reverse as text", "        reverse: true", "        reverse: sometimes", "wrong_type",
     "'reverse' must be true or false, got text ('sometimes')",
     "constructs[1].items[1].reverse"),
    ("version as a decimal", 'version: "1"', "version: 1.10", "wrong_type",
     'write it in quotes, e.g. "1.10"', "version"),
    ("scale min as text", "    min: 1", "    min: one", "wrong_type",
     "'min' must be a whole number, got text ('one')", "scales.agree5.min"),
    ("typo in an item key", "        label: Likes it", "        lable: Likes it",
     "unknown_key", "unknown key 'lable' in item; did you mean 'label'?",
     "constructs[1].items[0].lable"),
    ("typo in a top-level key", "title: Demo", "title: Demo\ndescripton: x", "unknown_key",
     "did you mean 'description'?", "descripton"),
    ("missing label", "    label: Attitude", "    question: Attitude?", "missing_key",
     "construct needs a 'label'", "constructs[1].label"),
    ("invalid id", "  - id: attitude", "  - id: 2attitude", "invalid_id",
     "id '2attitude' is not identifier-safe", "constructs[1].id"),
    ("unknown kind", "    kind: likert", "    kind: rating", "invalid_value",
     "'kind' must be one of multi_select, single_choice, likert, binary, got 'rating'",
     "constructs[1].kind"),
    ("newer format", 'format_version: "1.0"', 'format_version: "2.0"',
     "unsupported_format_version", "format version 2.0 is not supported", "format_version"),
    ("format version as number", 'format_version: "1.0"', "format_version: 1.0",
     "wrong_type", "'format_version' must be text", "format_version"),
    ("scale on a multi_select", "    kind: multi_select",
     "    kind: multi_select\n    scale: agree5", "scale_not_allowed",
     "only likert constructs take a 'scale' (this one is multi_select)",
     "constructs[0].scale"),
    ("scale min >= max", "    max: 5", "    max: 1", "scale_range",
     "scale 'agree5' needs min < max, got 1..1", "scales.agree5"),
    ("likert without scale", "    scale: agree5\n", "", "missing_key",
     "a likert construct needs a 'scale'", "constructs[1].scale"),
    ("status unknown", "title: Demo", "title: Demo\nstatus: final", "invalid_value",
     "'status' must be one of draft, validated, retired, got 'final'", "status"),
    ("empty title", "title: Demo", 'title: " "', "empty_value", "'title' must not be empty",
     "title"),
    ("duplicate code",
     "        label: Learned\n      - id: reassured\n        label: Reassured",
     "        label: Learned\n        code: 1\n      - id: reassured\n"
     "        label: Reassured\n        code: 1",
     "duplicate_code", "code 1 is already used by items[0]", "constructs[0].items[1].code"),
]
#: problems reported on an enclosing key, not on the line that was changed
_LINE_OF_KEY = {"scale min >= max": 6, "missing label": 23, "likert without scale": 23}


@pytest.mark.parametrize("desc,old,new,reason,fragment,key", CASES, ids=[c[0] for c in CASES])
def test_malformed_file_cases(tmp_path, desc, old, new, reason, fragment, key):
    assert old in BASE, desc
    text = BASE.replace(old, new, 1)
    p = _one(tmp_path, text, reason)
    assert fragment in p.message
    assert p.key == key
    # the line is the line of the changed key (or of the enclosing key it belongs to)
    start = BASE[: BASE.index(old)].count("\n") + 1
    if desc in _LINE_OF_KEY:
        assert p.line == _LINE_OF_KEY[desc]
    else:
        assert start <= p.line <= start + new.count("\n"), (p.line, start)
        assert key.split(".")[-1].split("[")[0] in text.splitlines()[p.line - 1] or \
            reason == "duplicate_id"
    # the printed message names the file, the line and the key path
    s = str(p)
    assert s.startswith(f"{p.file}:{p.line}, at {key}: ")


def test_lines_are_exact_for_typical_problems(tmp_path):
    text = BASE.replace("    scale: agree5", "    scale: agree7")
    p = _one(tmp_path, text, "unknown_scale")
    assert p.line == _line_of(text, "scale: agree7")
    text = BASE.replace("      - id: reassured", "      - id: learned")
    p = _one(tmp_path, text, "duplicate_id")
    assert p.line == _line_of(text, "- id: learned") + 2  # the second one
    text = BASE.replace("        label: Likes it", "        lable: Likes it")
    p = _one(tmp_path, text, "unknown_key")
    assert p.line == _line_of(text, "lable:")


def test_empty_construct(tmp_path):
    text = BASE.replace("""    items:
      - id: a1
        label: Likes it
      - id: a2
        label: Dislikes it
        reverse: true
""", "    items: []\n")
    p = _one(tmp_path, text, "empty_construct")
    assert p.message == "construct 'attitude' has no items"
    assert p.key == "constructs[1].items"
    assert p.line == _line_of(text, "items: []")


def test_single_choice_needs_two_levels_and_changelog_items_exist(tmp_path):
    text = BASE.replace("    kind: multi_select", "    kind: single_choice").replace(
        "      - id: reassured\n        label: Reassured\n", "")
    p = _one(tmp_path, text, "too_few_levels")
    assert "at least two levels" in p.message
    text = BASE + "changelog:\n  - {version: \"1\", item: zz, action: added, reason: new}\n"
    p = _one(tmp_path, text, "unknown_item")
    assert "item 'zz' was added in this version" in p.message
    assert p.line == len(text.splitlines())


def test_yaml_syntax_error_has_line(tmp_path):
    text = BASE.replace("    label: Attitude", "    label: [Attitude")
    problems, file = _problems(tmp_path, text)
    assert len(problems) == 1
    p = problems[0]
    assert p.reason == "yaml_syntax" and p.file == file and p.line is not None
    with pytest.raises(InstrumentError, match=r"inst.yaml:\d+: invalid YAML"):
        read_instrument(tmp_path / "inst.yaml")


def test_object_building_tags_are_refused(tmp_path):
    text = BASE.replace("title: Demo", "title: !!python/object/apply:os.system [echo hi]")
    problems, _ = _problems(tmp_path, text)
    assert [p.reason for p in problems] == ["yaml_tag"]
    assert problems[0].line == _line_of(text, "title:")
    assert "tags that build objects are refused" in problems[0].message


def test_duplicate_keys_yaml_and_json(tmp_path):
    text = BASE.replace("title: Demo", "title: Demo\ntitle: Other")
    problems, _ = _problems(tmp_path, text)
    assert [p.reason for p in problems] == ["duplicate_key"]
    assert problems[0].line == _line_of(text, "title: Other")
    assert "appears twice" in problems[0].message
    data = json.loads(dumps_instrument(loads_instrument(BASE), fmt="json"))
    raw = json.dumps(data, indent=2).replace('"title": "Demo"', '"title": "Demo",\n  "title": "X"')
    problems, _ = _problems(tmp_path, raw, "inst.json")
    assert [p.reason for p in problems] == ["duplicate_key"]
    assert problems[0].line == _line_of(raw, '"title": "X"')


def test_json_syntax_error_and_unreadable_files(tmp_path):
    problems, _ = _problems(tmp_path, '{"id": "x",\n  oops}', "bad.json")
    assert problems[0].reason == "json_syntax" and problems[0].line == 2
    problems, _ = _problems(tmp_path, "   \n", "empty.yaml")
    assert problems[0].reason == "empty_file"
    assert check_instrument_file(tmp_path / "missing.yaml")[0].reason == "file_not_found"
    (tmp_path / "latin.yaml").write_bytes(b"title: caf\xe9\n")
    p = check_instrument_file(tmp_path / "latin.yaml")[0]
    assert p.reason == "encoding" and p.line == 1


def test_top_level_not_a_mapping_and_wrong_container_types(tmp_path):
    problems, _ = _problems(tmp_path, "- a\n- b\n")
    assert [p.reason for p in problems] == ["not_mapping"]
    text = BASE.replace("    items:\n      - id: a1", "    items: {a: 1}\n    x_items:\n      - id: a1")
    problems, _ = _problems(tmp_path, text)
    reasons = {p.reason for p in problems}
    assert "wrong_type" in reasons and "unknown_key" in reasons


def test_scale_as_list_and_provenance_with_a_date(tmp_path):
    text = BASE.replace("    scale: agree5", "    scale: [agree5]")
    p = _one(tmp_path, text, "wrong_type")
    assert p.key == "constructs[1].scale" and "scale id (text)" in p.message
    text = BASE + "provenance:\n  made: 2024-01-31\n"
    p = _one(tmp_path, text, "wrong_type")
    assert p.key == "provenance.made" and "quote dates" in p.message
    assert p.line == _line_of(text, "made:")


def test_many_faults_at_once(tmp_path):
    text = (BASE.replace("      - id: reassured", "      - id: learned")
            .replace("    scale: agree5", "    scale: nope")
            .replace("      open_when: yes", "      open_when: maybe")
            .replace("        label: Likes it", "        lable: Likes it")
            .replace("        label: Reassured", "        label: Reassured\n        reverse: true"))
    problems, _ = _problems(tmp_path, text)
    reasons = sorted(p.reason for p in problems)
    assert reasons == sorted(["duplicate_id", "unknown_scale", "gate_open_when",
                              "unknown_key", "missing_key", "reverse_not_likert"])
    with pytest.raises(InstrumentError) as ei:
        read_instrument(tmp_path / "inst.yaml")
    assert str(ei.value).startswith("6 problems in ")
    assert len(ei.value.problems) == 6


def test_check_data_without_lines():
    problems = check_instrument_data({"id": "x"})
    assert {p.key for p in problems} >= {"format_version", "version", "title", "constructs"}
    assert all(p.reason == "missing_key" for p in problems)


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_instruments_pass_check_and_round_trip(path, tmp_path):
    assert check_instrument_file(path) == []
    inst = read_instrument(path)
    # read -> write -> read gives the same object, YAML and JSON
    y = tmp_path / "a.yaml"
    write_instrument(inst, y)
    assert read_instrument(y) == inst
    j = tmp_path / "b.json"
    write_instrument(read_instrument(y), j)
    assert read_instrument(j) == inst
    y2 = tmp_path / "c.yaml"
    write_instrument(read_instrument(j), y2)  # YAML -> JSON -> YAML
    assert read_instrument(y2) == inst
    assert y2.read_text() == y.read_text()  # stable output
    assert loads_instrument(dumps_instrument(inst, fmt="json"), fmt="json") == inst
    assert instrval.Instrument.from_dict(inst.to_dict()) == inst


def test_there_are_shipped_instruments():
    assert {p.name for p in SHIPPED} >= {"iam-2011.yaml", "bfi-1.0.yaml"}


def test_write_refuses_overwrite(tmp_path):
    inst = loads_instrument(BASE)
    p = write_instrument(inst, tmp_path / "x.yaml")
    with pytest.raises(InstrumentError, match="refusing to overwrite"):
        write_instrument(inst, p)
    write_instrument(inst, p, overwrite=True)


def test_yes_no_written_quoted_for_other_yaml_readers():
    text = dumps_instrument(loads_instrument(BASE))
    assert "- 'yes'" in text and "open_when: 'yes'" in text


# ------------------------------------------------------------------ JSON Schema
def _as_json(data):
    return json.loads(json.dumps(data))


def test_schema_is_valid_and_shipped_file_matches():
    schema = instrument_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert shipped_schema() == schema
    assert json.loads(schema_text()) == schema


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_instrument_validates_against_schema(path):
    data = _as_json(load_document(path).data)
    jsonschema.validate(data, instrument_schema(), cls=jsonschema.Draft202012Validator)
    # and so does what instrval writes
    jsonschema.validate(_as_json(read_instrument(path).to_dict()), instrument_schema(),
                        cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("old,new", [
    ("        label: Likes it", "        lable: Likes it"),          # typo
    ("    kind: likert", "    kind: rating"),                        # unknown kind
    ("    scale: agree5\n", ""),                                     # likert without scale
    ("        label: Reassured", "        label: Reassured\n        reverse: true"),
    ("      options: [yes, no]", "      options: [yes]"),
    ('format_version: "1.0"', 'format_version: "2.0"'),
    ("  - id: attitude", "  - id: 2attitude"),
    ("        reverse: true", "        reverse: 1"),
    ("    kind: multi_select", "    kind: multi_select\n    scale: agree5"),
])
def test_broken_instruments_fail_schema(old, new):
    from instrval.io.yamlfile import loads_document

    data = _as_json(loads_document(BASE.replace(old, new, 1)).data)
    v = jsonschema.Draft202012Validator(instrument_schema())
    assert list(v.iter_errors(data)), (old, new)
    assert not list(v.iter_errors(_as_json(loads_document(BASE).data)))


def test_docs_example_is_valid(tmp_path):
    """The complete example in docs/instrument-format.md passes check and the schema."""
    text = (ROOT / "docs/instrument-format.md").read_text(encoding="utf-8")
    start = text.index("```yaml\n") + len("```yaml\n")
    example = text[start: text.index("```", start)]
    problems, _ = _problems(tmp_path, example)
    assert problems == []
    from instrval.io.yamlfile import loads_document

    jsonschema.validate(_as_json(loads_document(example).data), instrument_schema(),
                        cls=jsonschema.Draft202012Validator)
    inst = loads_instrument(example)
    assert inst.counts() == {"constructs": 4, "items": 10, "gates": 1}
