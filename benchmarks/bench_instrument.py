"""Benchmark: instrument check, round trip, diff, exports, REDCap import and publish.

Run from the repository root::

    /work/venv/bin/python benchmarks/bench_instrument.py

Uses the shipped IAM instrument and a synthetic large instrument (40 constructs of 25
items: 1,000 items, half likert, a quarter multi_select, gates on every fourth construct).
Prints the median of several runs of each operation.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _harness import ROOT, median_ms

from instrval.integrate.diff import instrument_diff
from instrval.io.exports import export_instrument, import_redcap_dictionary
from instrval.io.instrument import check_instrument_file, read_instrument, write_instrument
from instrval.io.registry import publish
from instrval.model.instrument import Instrument


def big_instrument(n_constructs: int = 40, n_items: int = 25) -> Instrument:
    kinds = ["likert", "multi_select", "likert", "binary"]
    constructs = []
    for c in range(n_constructs):
        kind = kinds[c % 4]
        d = {"id": f"c{c}", "label": f"Construct {c}", "kind": kind,
             "items": [{"id": f"c{c}_i{i}", "label": f"Item {i} of construct {c}",
                        **({"reverse": True} if kind == "likert" and i % 5 == 0 else {})}
                       for i in range(n_items)]}
        if kind == "likert":
            d["scale"] = "agree5"
        if c % 4 == 1:
            d["gate"] = {"id": f"g{c}", "question": "Applies?", "options": ["yes", "no"],
                         "open_when": "yes"}
        constructs.append(d)
    return Instrument.from_dict({
        "format_version": "1.0", "id": "big", "version": "1", "title": "Big",
        "scales": {"agree5": {"min": 1, "max": 5, "labels": {1: "No", 5: "Yes"}}},
        "constructs": constructs})


def main() -> None:
    iam_path = ROOT / "instruments/iam/iam-2011.yaml"
    iam = read_instrument(iam_path)
    big = big_instrument()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        big_path = write_instrument(big, t / "big.yaml")
        big2 = big.replace(version="2", constructs=big.constructs[::-1])
        csv_path = export_instrument(big, "redcap", t / "big.csv")
        rows = [
            ("check IAM file", lambda: check_instrument_file(iam_path)),
            ("check big file (1,000 items)", lambda: check_instrument_file(big_path)),
            ("read + write + read big (YAML)", lambda: read_instrument(
                write_instrument(read_instrument(big_path), t / "rt.yaml", overwrite=True))),
            ("diff big vs reordered big", lambda: instrument_diff(big, big2)),
            ("export IAM fhir", lambda: export_instrument(iam, "fhir", t / "iam.json")),
            ("export IAM redcap", lambda: export_instrument(iam, "redcap", t / "iam.csv")),
            ("export IAM xlsform", lambda: export_instrument(iam, "xlsform", t / "iam.xlsx")),
            ("export big fhir", lambda: export_instrument(big, "fhir", t / "b.json")),
            ("export big redcap", lambda: export_instrument(big, "redcap", t / "b.csv")),
            ("export big xlsform", lambda: export_instrument(big, "xlsform", t / "b.xlsx")),
            ("import big redcap dictionary",
             lambda: import_redcap_dictionary(csv_path, id="big", version="1")),
            ("publish IAM (no-op republish)", lambda: publish(iam_path, t / "reg")),
        ]
        for name, fn in rows:
            print(f"{name:<36} {median_ms(fn, warmup=0):9.1f} ms")


if __name__ == "__main__":
    main()
