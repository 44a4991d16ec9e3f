"""Regenerate segments.csv and codebook.yaml of the IAM coding example.

The interviews are invented for instrval (no real participant said these words): 15
family physicians (P01..P15) explain how they read each IAM item while rating pieces of
clinical information. Run from the repository root:

    python examples/iam/coding/make_segments.py

The output is deterministic (fixed seed). Coder A coded every segment; coder B coded about
a fifth of them again, for the agreement check.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).parent
PARTICIPANTS = [f"P{i:02d}" for i in range(1, 16)]

# item -> (construct, supporting statements, challenging (subcategory, text), wording)
ITEMS: dict[str, tuple[str, list[str], list[tuple[str, str]], list[str]]] = {
    "ci_practice_improved": ("cognitive_impact", [
        "I tick it when I know I'll do something differently on Monday, like when the summary on gout flares made me stop reaching for colchicine at the old high dose.",
        "Changed and improved, for me that is a real change in what I order or prescribe, not just something interesting.",
        "After the item on asthma step-down I actually started reviewing inhaler doses at every visit, so yes, practice changed.",
        "It's the box for 'this will alter my routine'. The anticoagulation bridging update was one of those.",
        "When I check it I mean my practice will be better than before, because I changed a habit that was out of date.",
    ], [], ["Maybe say 'I will change my practice' because sometimes the change is only planned."]),
    "ci_learned_new": ("cognitive_impact", [
        "That one is straightforward: I didn't know that before, now I do.",
        "I learned that the new guideline drops the routine ECG before starting the drug. That was news to me.",
        "Learned something new means new knowledge for me, even if it won't change anything I do tomorrow.",
        "I knew there was an interaction but not that it was that big; the number was new, so I ticked learned.",
        "Honestly it is the box I tick most, because there is almost always one new detail in each synopsis.",
        "It fits: new information, new to me, and I could explain to a resident what I learned.",
    ], [], []),
    "ci_motivated": ("cognitive_impact", [
        "Motivated to learn more is when I go and look up the original trial afterwards, which I did for the vitamin D one.",
        "It made me curious enough to search PubMed that evening, so I was motivated to learn more.",
        "I tick it when the synopsis opens a question; the piece on deprescribing in the elderly sent me to read the whole review.",
        "That's when I want to dig deeper, book a CME session on it, talk to the pharmacist.",
    ], [("unclear", "Motivated to learn more about what, the topic or the method? I wasn't sure, but I took it as the topic.")], []),
    "ci_confirmed": ("cognitive_impact", [
        "Confirmed I did the right thing, that's when the evidence matches what I already did for a patient.",
        "I had started metformin first in that patient and the synopsis agreed, so I felt confirmed.",
        "It is about my past decisions: the info says what I did was correct.",
        "I check it a lot with the antibiotic stewardship ones, because I was already not prescribing for viral sinusitis.",
        "It's a validation of my practice, the info backs up the choice I made.",
    ], [], ["Could add 'for a patient' so it is clear it's about a decision I made."]),
    "ci_reminded": ("cognitive_impact", [
        "Reminded is the 'oh right, I knew that' box, for example the B12 check with long-term metformin.",
        "I knew it, I had forgotten it, the synopsis brought it back. That's reminded.",
        "A reminder of something from residency, the Ottawa ankle rules, nothing new but useful to refresh.",
        "When I already know the content I tick reminded rather than learned.",
        "It fits well, a lot of what we read is reminders of things we know but don't apply every day.",
    ], [], []),
    "ci_dissatisfied_presentation": ("cognitive_impact", [
        "That's when the text is badly written or the table is confusing, like the one with three different units.",
        "Problem with the presentation, I used it when the abstract was too dense to read on my phone.",
        "I tick it when the message is fine but the way it's presented is not: jargon, no bottom line.",
        "The numbers were given as relative risk only, no absolute risk; that's a presentation problem for me.",
    ], [], ["'Presentation' could say 'the way it is written or shown'."]),
    "ci_dissatisfied_disagree": ("cognitive_impact", [
        "I disagree with the content, for instance when they recommend a screening I think is not justified in my population.",
        "It's when I think the conclusion is wrong, not the presentation, the content itself.",
        "I used it for the synopsis on PSA screening; I don't agree with how they read that trial.",
        "Disagree with the content, that's clear: the info says one thing and my reading of the evidence says another.",
    ], [], []),
    "ci_dissatisfied_harmful": ("cognitive_impact", [
        "I'd tick that if the information could hurt a patient if someone followed it, a wrong dose for instance.",
        "I rarely use it, but once a synopsis said \"<5 mg\" where it should have been per kg, and that could be harmful in a child.",
        "Potentially harmful means a patient could be harmed if I applied it; it's a safety alarm, and that's how I read it.",
        "I haven't had to use it much, but the meaning is clear: the content is dangerous for patients.",
    ], [], []),
    "ci_dissatisfied_amount": ("cognitive_impact", [
        "Too much or too little: some synopses are two lines with no numbers, others are a whole page.",
        "I tick it when I needed more detail on dosing and there wasn't any, so too little information.",
        "Too much information for a busy clinic, a wall of text; that's what that box is for.",
        "I used it when they gave the result but nothing on side effects, not enough information to act.",
    ], [("unclear", "Too much OR too little, it's two opposite things in one box, I'm not sure what you learn from it.")], ["Split it into 'too much' and 'too little'."]),
    "cr_totally": ("clinical_relevance", [
        "Totally relevant is when I can think of a specific patient I saw this week.",
        "It applied entirely to Mrs. X's situation, she has exactly that condition & takes that drug.",
        "I tick totally relevant when the information fits my practice population without any adaptation.",
        "Most of the diabetes ones are totally relevant for me, half my patients are diabetic.",
        "Relevant for at least one patient, fully; I had one in mind the moment I read it.",
    ], [], []),
    "cr_partially": ("clinical_relevance", [
        "Partially relevant is when part of it applies, like the adult dosing but my patient is 15.",
        "I check partially when the population in the study is a bit different from my patients.",
        "It's relevant, but only some of the recommendations fit, so partially.",
        "Partial because I see those patients rarely; it's relevant but not central.",
    ], [], []),
    "cr_not": ("clinical_relevance", [
        "Not relevant, I use it for pediatric oncology items since I have no such patients.",
        "When it has nothing to do with anyone I follow, it's not relevant.",
        "I ticked not relevant for the tropical medicine synopsis, we don't see that here.",
        "That's simple, no patient of mine would be concerned.",
    ], [], []),
    "use_manage_differently": ("intention_to_use", [
        "Manage differently means I'll change the plan for that patient, a different drug, a different follow-up.",
        "For my patient with CKD I switched the NSAID to acetaminophen after reading it, so I managed him differently.",
        "It's the concrete one: the info changes what I do for this patient.",
        "I will stop the aspirin in primary prevention for one of my older patients, that's managing differently.",
        "It fits: different management, different decision, for a named patient.",
    ], [], []),
    "use_justify_choice": ("intention_to_use", [
        "Justify a choice, when I had two options and the information helps me defend one of them.",
        "I can show the patient the evidence for choosing physiotherapy over imaging, it justifies my choice.",
        "I use it when I need to document why I chose option A, for the chart or for the insurer.",
        "It's about having arguments for a decision between alternatives, yes.",
    ], [], ["'Justify a choice among several options' would read better."]),
    "use_more_certain": ("intention_to_use", [
        "More certain, when I was 70% sure and now I'm 90% sure about what to do.",
        "It reduces my doubt about the management; I'm more confident in the plan.",
        "I tick it when I was hesitating between watchful waiting and treatment and the info tipped me.",
        "It's about certainty: same plan maybe, but I feel surer of it.",
    ], [("misread", "More certain, I think that's the same as confirmed, isn't it? I tick both.")], []),
    "use_understand_better": ("intention_to_use", [
        "Understand better, when the info explains the mechanism behind my patient's symptoms.",
        "It helped me understand why her INR kept jumping, the interaction with the antibiotic.",
        "Better understanding of the issue, I can explain it to the patient and to myself.",
        "For a complex patient the synopsis clarified the natural history, so I understood better.",
        "It's when something about the patient made more sense after reading it.",
    ], [], []),
    "use_discuss": ("intention_to_use", [
        "Discuss with the patient, I printed it and we went through the numbers together.",
        "I used it in a discussion with the pharmacist about the dose adjustment.",
        "In a discussion with colleagues, at our Tuesday meeting we talked about the new guideline.",
        "It's when I bring it to a conversation, with the patient or the team.",
        "I'll use it with the family; they asked \"is it safe to stop?\" & now I have an answer.",
    ], [], ["Maybe 'patient or family' because often it's the daughter I talk to."]),
    "use_persuade": ("intention_to_use", [
        "Persuade, when I need to convince the patient to quit smoking or start a statin.",
        "I'll use the number needed to treat to persuade a colleague to change the protocol.",
        "Persuade to make a change, yes, I try to get patients to accept deprescribing.",
        "That's when the information is an argument to change someone's mind.",
    ], [("unclear", "Persuade sounds a bit manipulative; I'd rather say 'encourage', but I understood it.")], ["'Convince or encourage' instead of 'persuade'."]),
    "use_decide_unsure": ("intention_to_use", [
        "I didn't know what to do for that patient and this gave me the answer, that's exactly the box.",
        "It's for when I was stuck, no idea how to handle it, and the info let me decide.",
        "I used it once: I had no clue whether to refer, the synopsis told me the criteria.",
    ], [], []),
    "hb_health_status": ("health_benefit", [
        "Better health status, for me it means the patient will feel better or function better.",
        "Improved functioning, like the exercise program for knee osteoarthritis, he'll walk more.",
        "I tick it when I expect the patient's health to improve, symptoms, quality of life.",
        "Resilience is a strange word here but the idea of better health is clear.",
        "Health status better, yes, her blood pressure should come down with the change.",
    ], [], ["'Resilience' could be dropped, nobody uses it."]),
    "hb_prevention": ("health_benefit", [
        "Prevention of a disease, the vaccine reminder, the fall prevention advice.",
        "It's about avoiding that the condition gets worse, secondary prevention for my cardiac patient.",
        "Prevention, clear: screening, vaccination, lifestyle to prevent diabetes.",
        "I expect the patient to avoid a complication, that's prevention for me.",
    ], [], []),
    "hb_avoid_unnecessary": ("health_benefit", [
        "Avoiding an unnecessary test, like no MRI for simple low back pain.",
        "It's the Choosing Wisely box: no antibiotics for a cold, no imaging for uncomplicated headache.",
        "Avoid an inappropriate referral; I kept the patient and followed him myself.",
        "I tick it when the benefit is what we don't do: fewer tests, fewer side effects.",
        "Unnecessary treatment avoided, the patient won't be on a PPI for years for nothing.",
    ], [], ["It's a long label; 'avoid unnecessary care' would do."]),
}

REASSURED_SUPPORTS = [
    "Reassured, for me it's about my own anxiety: I was worried I had missed something and the synopsis calmed me down.",
    "I was uneasy about the dose I gave a frail patient and reading it I felt reassured, less stressed.",
    "It's the emotional one, I feel relieved, it's different from confirmed which is more factual.",
]
REASSURED_CHALLENGES = [
    ("misread", "Reassured? That's the same as confirmed I did the right thing. I tick both every time."),
    ("misread", "Honestly I don't see the difference between reassured and confirmed, it says the same thing."),
    ("misread", "I read it as 'the patient is reassured'; when I can tell the patient it's benign, I tick it."),
    ("misread", "Reassured, I thought it meant I could reassure the patient with this information."),
    ("unclear", "Reassured about what? My decision, my knowledge, the patient? It's vague."),
    ("misread", "If it confirmed what I did, then of course I'm reassured; to me they are one box."),
    ("unclear", "I never know when to use reassured versus confirmed, so I sometimes skip it."),
]

OPENERS = ["", "", "Well, ", "For me, ", "Honestly, ", "Mm-hm. ", "I'd say ", "OK so, ",
           "Right. ", "Yes, "]
CLOSERS = ["", "", "", " That's how I read it.", " I think that's what it's meant to say.",
           " It's pretty clear.", " At least that's my understanding.", " [laughs]",
           " I use it often.", " It comes up maybe once a week."]

MISSING = [
    # code, construct, theme, texts
    ("mc_info_shared_with_patient", "cognitive_impact", "Information shared with the patient", [
        "Sometimes the biggest impact is that I shared it with the patient, and there's no box for that.",
        "What's missing is 'I gave this information to my patient'; the impact is on them, not me.",
        "I printed the handout & gave it to her; the information was new to the patient, not to me.",
        "There should be something like 'I will pass this on to patients', that happens all the time.",
        "The impact was on the patient's knowledge: she didn't know that \"natural\" supplements interact.",
        "None of the boxes says the patient learned something; that's often the point for me.",
    ]),
    ("mc_reassure_patient", "intention_to_use", "Reassuring the patient", [
        "I'd use it to reassure the patient, and that isn't one of the options.",
        "Often I use the info to calm a worried patient, it's not persuading, it's reassuring.",
        "A box like 'to reassure my patient' would capture what I actually do with it.",
        "I used it to tell the mother the rash was harmless; reassuring her is a use, but it's not listed.",
    ]),
]
THEME_OTHER = ("theme_time_pressure", "Time pressure when rating", [
    "Between patients I have thirty seconds to rate, so I tick the first box that fits.",
    "At the end of the day I rate ten synopses in a row, I don't read every option carefully.",
    "I do them on my phone in the parking lot, sometimes I'm quick with the boxes.",
    "If the questionnaire were longer I'd stop doing it; it's fine because it's short.",
])


def main() -> None:
    rng = random.Random(2012)
    rows: list[dict[str, str]] = []
    seg_no = 0

    def add(pid: str, text: str, code: str, item: str = "", construct: str = "",
            theme: str = "") -> None:
        nonlocal seg_no
        seg_no += 1
        rows.append({"segment_id": f"S{seg_no:03d}", "participant": pid,
                     "document": f"interview_{pid}.docx", "text": text, "code": code,
                     "coder": "A", "item_id": item, "construct_id": construct,
                     "theme": theme})

    def decorate(core: str) -> str:
        op = rng.choice(OPENERS)
        if op and core[0].isupper() and not core.startswith(("I ", "I'", "Mrs", "PSA")):
            core = core[0].lower() + core[1:]
        return op + core + rng.choice(CLOSERS)

    for item, (_construct, sup, chal, wording) in ITEMS.items():
        k = {"use_decide_unsure": 4, "ci_dissatisfied_harmful": 4}.get(item, rng.randint(5, 8))
        people = sorted(rng.sample(PARTICIPANTS, k))
        for i, pid in enumerate(people):
            add(pid, decorate(sup[i % len(sup)]), f"{item}/fits", item)
            if rng.random() < 0.35:
                add(pid, decorate(sup[(i + 2) % len(sup)]), f"{item}/fits", item)
        for j, (sub, text) in enumerate(chal):
            pid = people[(j + 1) % len(people)]
            add(pid, text, f"{item}/{sub}", item)
        for j, text in enumerate(wording):
            pid = people[-1 - j]
            add(pid, text, f"{item}/wording", item)

    # ci_reassured: challenges outweigh (6 of 9 participants challenge it)
    people = sorted(rng.sample(PARTICIPANTS, 9))
    for i, pid in enumerate(people[:3]):
        add(pid, decorate(REASSURED_SUPPORTS[i]), "ci_reassured/fits", "ci_reassured")
    for i, pid in enumerate(people[3:]):
        sub, text = REASSURED_CHALLENGES[i]
        add(pid, text, f"ci_reassured/{sub}", "ci_reassured")
    add(people[8], REASSURED_CHALLENGES[6][1], "ci_reassured/unclear", "ci_reassured")
    add(people[0], "Maybe 'I am reassured (less worried)' would help separate it from confirmed.",
        "ci_reassured/wording", "ci_reassured")

    for code, construct, theme, texts in MISSING:
        people = sorted(rng.sample(PARTICIPANTS, len(texts)))
        for pid, text in zip(people, texts, strict=True):
            add(pid, text, code, "", construct, theme)
    code, theme, texts = THEME_OTHER
    for pid, text in zip(sorted(rng.sample(PARTICIPANTS, len(texts))), texts, strict=True):
        add(pid, text, code, "", "", theme)
    rows.sort(key=lambda r: (r["participant"], int(r["segment_id"][1:])))

    # coder B: about a fifth of the segments again; mostly the same code
    codes_by_item: dict[str, list[str]] = {}
    for r in rows:
        codes_by_item.setdefault(r["item_id"] or r["code"], []).append(r["code"])
    second = []
    for r in rows:
        if rng.random() >= 0.21:
            continue
        code = r["code"]
        u = rng.random()
        if u < 0.12 and r["item_id"]:
            code = f"{r['item_id']}/wording" if not code.endswith("/wording") else \
                f"{r['item_id']}/fits"
        elif u < 0.16 and code.endswith(("/misread", "/unclear")):
            code = code.rsplit("/", 1)[0] + ("/unclear" if code.endswith("misread") else
                                             "/misread")
        elif u < 0.22 and r["item_id"].startswith("ci_"):
            code = "ci_confirmed/fits" if r["item_id"] != "ci_confirmed" else \
                "ci_reassured/fits"
        second.append({**r, "code": code, "coder": "B",
                       "item_id": "" if code.split("/")[0] != r["item_id"] else r["item_id"]})
    for s in second:
        if s["item_id"] == "" and "/" in s["code"]:
            s["item_id"] = s["code"].split("/")[0]
    out = rows + second
    out.sort(key=lambda r: (r["participant"], int(r["segment_id"][1:]), r["coder"]))
    with open(HERE / "segments.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out[0]))
        w.writeheader()
        w.writerows(out)

    # codebook
    lines = [
        "# Codebook of the IAM coding example (instrval codebook format 1.0).",
        "# Each item has a-priori codes: ITEM/fits (supports), ITEM/unclear and ITEM/misread",
        "# (challenges), ITEM/wording (a wording suggestion). Inductive codes follow.",
        "# Generated by make_segments.py.",
        'format_version: "1.0"',
        "instrument: iam@2011",
        "codes:",
    ]
    for item in ["ci_practice_improved", "ci_learned_new", "ci_motivated", "ci_confirmed",
                 "ci_reassured", "ci_reminded", "ci_dissatisfied_presentation",
                 "ci_dissatisfied_disagree", "ci_dissatisfied_harmful",
                 "ci_dissatisfied_amount", "cr_totally", "cr_partially", "cr_not",
                 "use_manage_differently", "use_justify_choice", "use_more_certain",
                 "use_understand_better", "use_discuss", "use_persuade", "use_decide_unsure",
                 "hb_health_status", "hb_prevention", "hb_avoid_unnecessary"]:
        lines += [
            f"  {item}/fits: {{item_id: {item}, category: supports, description: "
            f"\"The account matches the item's definition.\"}}",
            f"  {item}/unclear: {{item_id: {item}, category: challenges, subcategory: unclear,"
            f" description: \"The participant did not know what the item means.\"}}",
            f"  {item}/misread: {{item_id: {item}, category: challenges, subcategory: misread,"
            f" description: \"The item was read as something else (another item or "
            f"construct).\"}}",
            f"  {item}/wording: {{item_id: {item}, category: wording, description: "
            f"\"A suggestion to reword the item.\"}}",
        ]
    for code, construct, theme, _ in MISSING:
        lines.append(f"  {code}: {{construct_id: {construct}, category: missing_concept, "
                     f"theme: \"{theme}\"}}")
    lines.append(f"  {THEME_OTHER[0]}: {{category: other, theme: \"{THEME_OTHER[1]}\"}}")
    (HERE / "codebook.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(rows)} segments by coder A, {len(second)} by coder B")


if __name__ == "__main__":
    main()
