"""Regenerate panel.csv, the synthetic expert panel of the IAM example.

The panel is invented for instrval (no real expert gave these ratings): ten experts
(E01..E10) rate the relevance and the clarity of each of the 23 items of IAM version 2011
on the usual 4-point scales (relevance: 1 = not relevant, 2 = somewhat, 3 = quite,
4 = highly relevant; clarity: 1 = not clear ... 4 = very clear). Run from the repository
root:

    python examples/iam/panel/make_panel.py

There is no randomness: every rating is written out below, one string of ten digits per
item and aspect (expert E01 first), so the file is the same on every run.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).parent

#: The experts: E01-E05 family physicians, E06-E08 pharmacists, E09 a medical educator,
#: E10 an information scientist.
EXPERTS = {
    "E01": "family physician", "E02": "family physician", "E03": "family physician",
    "E04": "family physician", "E05": "family physician", "E06": "pharmacist",
    "E07": "pharmacist", "E08": "pharmacist", "E09": "medical educator",
    "E10": "information scientist",
}

#: item -> (relevance E01..E10, clarity E01..E10)
RATINGS: dict[str, tuple[str, str]] = {
    # cognitive impact
    "ci_practice_improved": ("4444443444", "4443444434"),
    "ci_learned_new": ("4444444434", "4444444444"),
    "ci_motivated": ("3443434323", "4344434434"),
    "ci_confirmed": ("4444444443", "4434443434"),
    # relevant (I-CVI .90) but read as "confirmed" by several experts: clarity I-CVI .50
    "ci_reassured": ("3434334243", "2323132342"),
    "ci_reminded": ("4343444434", "4444344444"),
    "ci_dissatisfied_presentation": ("4334342434", "3443434433"),
    "ci_dissatisfied_disagree": ("4443444344", "4434444343"),
    # experts doubt it: rarely selected, overlaps "I disagree with the content" (I-CVI .60)
    "ci_dissatisfied_harmful": ("3241433214", "3433343334"),
    "ci_dissatisfied_amount": ("3433432433", "3334323433"),
    # clinical relevance (the levels of the single-choice question)
    "cr_totally": ("4444444444", "4444444443"),
    "cr_partially": ("4344443434", "3343334334"),
    "cr_not": ("4334434324", "4443444444"),
    # intention to use
    "use_manage_differently": ("4444444444", "4444443444"),
    "use_justify_choice": ("4344344434", "3444344343"),
    "use_more_certain": ("4444434443", "4344444334"),
    "use_understand_better": ("4443444343", "4434344344"),
    "use_discuss": ("3434432443", "4334343443"),
    # I-CVI .80: above Lynn's .78, but 8 of 10 "essential" is below the critical 9
    "use_persuade": ("3342434234", "3433434343"),
    # experts doubt it: overlaps "to be more certain about how to manage" (I-CVI .70)
    "use_decide_unsure": ("4231324334", "3323334323"),
    # expected patient health benefits
    "hb_health_status": ("4444443444", "3444434443"),
    "hb_prevention": ("4444444434", "4444444444"),
    "hb_avoid_unnecessary": ("4434444444", "3343433434"),
}

#: (expert, item) -> comment
COMMENTS: dict[tuple[str, str], str] = {
    ("E02", "ci_dissatisfied_harmful"): "Harm is already reportable under 'I disagree with "
                                        "the content'.",
    ("E04", "ci_dissatisfied_harmful"): "Rarely applicable to evidence-based synopses.",
    ("E07", "ci_dissatisfied_harmful"): "Overlaps with disagreeing with the content.",
    ("E04", "ci_reassured"): "Reassured by what? Reads like 'confirmed'.",
    ("E05", "ci_reassured"): "Unclear whether the clinician or the patient is reassured.",
    ("E06", "ci_reassured"): "Distinguish from 'it confirmed I did the right thing'.",
    ("E03", "use_decide_unsure"): "Overlaps 'to be more certain about how to manage'.",
    ("E05", "use_decide_unsure"): "Physicians rarely admit not knowing what to do.",
    ("E08", "use_decide_unsure"): "Covered by the other use items.",
    ("E09", "use_persuade"): "Persuading colleagues is uncommon in family practice.",
}


def rows() -> list[dict[str, object]]:
    """The panel in long form, one row per expert and item."""
    out = []
    for expert_index, expert in enumerate(EXPERTS):
        for item, (relevance, clarity) in RATINGS.items():
            out.append({"expert": expert, "item_id": item,
                        "relevance": int(relevance[expert_index]),
                        "clarity": int(clarity[expert_index]),
                        "comment": COMMENTS.get((expert, item), "")})
    return out


def main() -> None:
    for item, (relevance, clarity) in RATINGS.items():
        if len(relevance) != len(EXPERTS) or len(clarity) != len(EXPERTS):
            raise SystemExit(f"{item}: need {len(EXPERTS)} ratings per aspect")
    with open(HERE / "panel.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["expert", "item_id", "relevance", "clarity",
                                           "comment"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows())


if __name__ == "__main__":
    main()
