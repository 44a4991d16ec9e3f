"""Regenerate segments.csv and codebook.yaml of the IAM coding example.

The interviews are invented for instrval (no real participant said these words): 15
family physicians (P01..P15) explain how they read the items of the IAM questionnaire they
fill in after reading an emailed synopsis (a POEM). Each interview is written out below as
its coded excerpts, in transcript order, with the code coder A gave it. Segment ids follow
the transcripts (P01's excerpts first).

Coder A coded every segment. Coder B coded three of the fifteen interviews again (P04, P09,
P13: about a fifth of the segments) for the agreement check; where B read an excerpt
differently, the excerpt carries B's code as a third element.

Run from the repository root:

    python examples/iam/coding/make_segments.py           # write both files
    python examples/iam/coding/make_segments.py --check   # compare with the files on disk

The output is deterministic (no random draws). Both modes also count repeated 6-word
sequences across the excerpts: no sequence may occur in more than two segments, so that
the quotes do not read as if written from a template.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent

ITEMS = ["ci_practice_improved", "ci_learned_new", "ci_motivated", "ci_confirmed",
         "ci_reassured", "ci_reminded", "ci_dissatisfied_presentation",
         "ci_dissatisfied_disagree", "ci_dissatisfied_harmful", "ci_dissatisfied_amount",
         "cr_totally", "cr_partially", "cr_not", "use_manage_differently",
         "use_justify_choice", "use_more_certain", "use_understand_better", "use_discuss",
         "use_persuade", "use_decide_unsure", "hb_health_status", "hb_prevention",
         "hb_avoid_unnecessary"]

# code -> (construct, theme) for the codes that point at no item
MISSING = {
    "mc_info_shared_with_patient": ("cognitive_impact", "Information shared with the patient"),
    "mc_reassure_patient": ("intention_to_use", "Reassuring the patient"),
}
THEME_OTHER = ("theme_time_pressure", "Time pressure when rating")

# Coder B coded these interviews again.
SECOND_CODER = ("P04", "P09", "P13")

# participant -> (who they are, excerpts). An excerpt is (code, text) or
# (code, text, code given by coder B).
INTERVIEWS: dict[str, tuple[str, list[tuple[str, ...]]]] = {
    "P01": ("urban group practice, mid-career; methodical, explains with cases", [
        ("ci_practice_improved/fits",
         "I only tick that one when something will actually be different on Monday. The gout "
         "synopsis did it: I was still giving colchicine every hour until the diarrhoea "
         "started, which is how I was taught, and the low-dose schedule works as well. So I "
         "changed, and I'd say for the better."),
        ("ci_learned_new/fits",
         "New to me, full stop. It doesn't have to change anything, I just didn't know it "
         "before I opened the email."),
        ("ci_confirmed/fits",
         "I think back to someone I've already treated. A man with an A1c of 7.8, I'd "
         "started metformin alone, no second agent, and the POEM said that's the sensible "
         "first step. So, confirmed."),
        ("ci_dissatisfied_presentation/fits",
         "There was one where the table mixed mmol/L, mg/dL and percentages in one column. "
         "The message may well have been fine. I couldn't get to it."),
        ("ci_dissatisfied_presentation/fits",
         "It's the form, not the content. Jargon, no bottom line, a forest plot you can't "
         "read on a phone."),
        ("use_manage_differently/fits",
         "The plan for that particular patient moves. A different drug, a different dose, or "
         "I see him in three months instead of six."),
        ("use_justify_choice/fits",
         "A woman with knee osteoarthritis could have had physio or a steroid injection, both "
         "reasonable. The synopsis gave me a reason to go with physio first, and a reason I "
         "could explain to her. I'd call that justifying the choice."),
        ("use_more_certain/fits",
         "I was maybe, what, seventy percent sure of the plan. After reading it, closer to ninety. "
         "Same plan, less doubt."),
        ("use_understand_better/fits",
         "An elderly man on warfarin whose INR kept jumping, and I couldn't work out why. The "
         "piece on antibiotic interactions explained it: two courses of Septra that winter. "
         "So it was about understanding him, his situation."),
        ("use_discuss/fits",
         "I printed the absolute numbers and we went through them across the desk, she and "
         "I. That's the discussion box."),
        ("use_persuade/fits",
         "I think of smoking. Not tricking anyone, just using the figures to move somebody "
         "who has been about to quit for six years."),
        ("hb_health_status/fits",
         "She'll function better. Less pain, walking to the corner store again."),
        ("hb_prevention/fits",
         "Stopping it from happening in the first place, or from getting worse once it's "
         "there. Flu shots. Falls. A second infarct."),
        ("hb_avoid_unnecessary/fits",
         "No MRI for plain mechanical back pain without red flags. The patient is spared the "
         "scan, and I'm spared chasing incidental disc bulges afterwards."),
        ("mc_info_shared_with_patient",
         "Sometimes the main effect is that I passed it on to the patient, and there's "
         "nothing on the form for that."),
    ]),
    "P02": ("rural solo practice, 30 years in; anecdotal, unhurried", [
        ("ci_learned_new/fits",
         "After thirty-odd years you'd think nothing is new. [laughs] But there's nearly "
         "always one detail. Last month, dabigatran and kidney function: I had no idea the "
         "dose hung that much on creatinine clearance."),
        ("ci_reminded/fits",
         "Oh, I tick reminded a lot. Things I learned in the eighties and let slide. B12 with "
         "long-term metformin, say. I knew it. I'd stopped checking."),
        ("ci_reassured/fits",
         "Out here I'm the only doctor for forty kilometres, so you worry. I'd sent a frail "
         "lady home on less than the book dose and it nagged at me all week. I read the "
         "synopsis and the worry went. That's reassured. It's a feeling; being proven right "
         "is something else."),
        ("ci_confirmed/fits",
         "Confirmed is more factual. I'd stopped giving antibiotics for sinusitis years "
         "before it was fashionable, and the POEM backed me up."),
        ("ci_dissatisfied_harmful/fits",
         "I keep that one for something that could hurt somebody if a doctor followed it as "
         "written. A wrong dose, a missed contraindication. Twice in all these years, maybe."),
        ("ci_dissatisfied_presentation/fits",
         "The print is too small on the screen for my eyes. [laughs] That's the presentation, "
         "I suppose. Or it's my age."),
        ("cr_totally/fits",
         "In a small town you know everybody. I read about hip fractures and there's [name], "
         "who broke hers in March. I had her in mind before the end of the first paragraph."),
        ("cr_not/fits",
         "The one on malaria prophylaxis for Southeast Asia. My patients go to Florida. "
         "[laughs] Not relevant."),
        ("use_manage_differently/fits",
         "I took an old fellow off his daily aspirin after that one. No heart disease at all, "
         "he was on it because his brother was. So yes, I handled him differently: I stopped "
         "it."),
        ("use_discuss/fits",
         "There are four of us at the hospital and we talk things over at coffee on "
         "Thursdays. I brought it there."),
        ("use_discuss/wording",
         "You should put the family in that one. Half the time the conversation is with the "
         "daughter, not the patient."),
        ("use_more_certain/fits",
         "I'd already decided to wait on the ear infection but I'd been going back and "
         "forth. Afterwards I wasn't."),
        ("hb_prevention/fits",
         "The shingles vaccine for the over-sixties. I keep a list at the front desk of who "
         "has had it."),
        ("hb_health_status/fits",
         "If the patient walks better or breathes better at the end of it, that's better "
         "health. Resilience I'd throw out, nobody talks like that."),
        ("mc_reassure_patient",
         "Most of what I do with these is calm people down. A mother with a feverish toddler "
         "at eleven at night, you want to tell her it's all right and have a reason. There's "
         "nothing about reassuring the patient on your list."),
    ]),
    "P03": ("suburban practice; terse", [
        ("ci_learned_new/fits", "New to me. Simple."),
        ("ci_motivated/fits", "When I go and find the trial. Did that for vitamin D."),
        ("ci_confirmed/fits", "Did the right thing. Evidence agrees."),
        ("ci_reassured/misread", "Same as confirmed. I tick both."),
        ("ci_reminded/fits", "Knew it, forgot it. Ottawa ankle rules, that sort of thing."),
        ("ci_dissatisfied_presentation/fits",
         "Abstract too dense to read on the phone. Ticked it."),
        ("ci_dissatisfied_disagree/fits",
         "I think the conclusion's wrong. Not the writing. The conclusion."),
        ("cr_totally/fits", "If I can name the patient."),
        ("cr_partially/fits", "Adult doses, and my patient was fifteen. Partially."),
        ("use_justify_choice/fits", "Two options. It helped me pick one, and say why."),
        ("use_more_certain/fits",
         "I was between treating and waiting. It tipped me."),
        ("use_decide_unsure/fits",
         "Didn't know whether to refer. It gave the criteria. I decided."),
        ("hb_health_status/fits", "Patient feels better, works better."),
        ("hb_health_status/unclear", "Resilience? No idea what that's doing there."),
        ("hb_avoid_unnecessary/fits",
         "No antibiotics for a cold. No X-ray for the ankle. That."),
        ("theme_time_pressure",
         "Thirty seconds between patients. First box that fits."),
    ]),
    "P04": ("two years out of residency; reads on her BlackBerry, talks fast", [
        ("ci_practice_improved/fits",
         "I'm two years out of residency, so honestly my practice changes all the time. "
         "[laughs] The asthma step-down one, though, that stuck: I started reviewing inhaler "
         "doses at every visit when the asthma's controlled, instead of just renewing."),
        ("ci_learned_new/fits",
         "We probably covered it in residency, I'm not sure, but it felt new. That you don't "
         "need a routine ECG before starting methylphenidate. I ticked learned.",
         "ci_reminded/fits"),
        ("ci_motivated/fits",
         "I actually went on PubMed that evening, in bed, on my phone. [laughs] So yes, that "
         "one got me wanting more."),
        ("ci_confirmed/fits",
         "I'd done exactly what they recommend for a kid with croup, the one dose of "
         "dexamethasone and home, and I felt good reading it. Like, OK, I got that right."),
        ("ci_reminded/fits",
         "Stuff I know but don't use every day. The Centor score, like, I know it, I just "
         "don't always count it."),
        ("ci_dissatisfied_amount/fits",
         "Too little, mostly. They gave the result and nothing on side effects, so I couldn't "
         "act on it. Honestly I'd split that box in two.",
         "ci_dissatisfied_amount/wording"),
        ("cr_partially/fits",
         "Partly. The trial was in people over seventy-five and my guy is sixty-eight. "
         "Close, but not quite the population."),
        ("cr_not/fits",
         "I don't do obstetrics, so the ones on labour induction, not relevant, two seconds."),
        ("use_justify_choice/fits",
         "For the chart, sometimes. If I go with the cheaper option I want it written down "
         "why."),
        ("use_understand_better/fits",
         "Why her potassium was high. She was on an ACE inhibitor and spironolactone and the "
         "synopsis kind of put it together for me."),
        ("use_discuss/fits",
         "I printed the pros & cons sheet from the synopsis and we went over it at the "
         "follow-up visit.",
         "mc_info_shared_with_patient"),
        ("use_persuade/fits",
         "Getting someone to accept deprescribing is mostly persuading, right? I had a lady "
         "on lorazepam at bedtime for, like, twelve years, and I used the falls data to get "
         "her to agree to a taper."),
        ("hb_prevention/fits",
         "HPV vaccine for boys, that was a big one this year. Parents kept asking and I had "
         "an answer."),
        ("hb_avoid_unnecessary/fits",
         "Not sending someone to cardiology who doesn't need to go. I kept him and followed "
         "him myself."),
        ("mc_info_shared_with_patient",
         "What's missing is, like, the patient learned something. She said \"but it's "
         "natural\" about her St John's wort, and once I showed her the synopsis she got that "
         "it interacts with her pill. The impact was on her, not me. Where's that box?"),
        ("theme_time_pressure",
         "I do them on my BlackBerry in the parking lot before afternoon clinic, so I'm quick "
         "with the boxes. Maybe too quick."),
    ]),
    "P05": ("care of the elderly, two nursing homes; deprescribing", [
        ("ci_practice_improved/fits",
         "In the nursing home I now go through every chart for PPIs at the quarterly review. "
         "That came straight out of a synopsis on deprescribing. We've stopped eleven of them "
         "since, so changed, and improved, yes."),
        ("ci_reassured/misread",
         "I read that one as the patient being reassured. If I can tell a daughter her "
         "mother's memory slips are normal at eighty-nine, with the evidence, I tick it."),
        ("ci_reminded/fits",
         "The Beers list. I used to know it better. Every few months one of these reminds me "
         "diphenhydramine is on it."),
        ("ci_dissatisfied_disagree/fits",
         "One pushed tight blood pressure targets, and, no. Not in my frail "
         "eighty-five-year-olds. I think they stretched a trial to people it never included."),
        ("ci_dissatisfied_harmful/fits",
         "I ticked it once, for a synopsis that said nothing about renal dosing, for a drug "
         "that really needs it in the elderly. Someone could have hurt a patient with that."),
        ("cr_totally/fits",
         "Half my patients are over eighty. Polypharmacy, falls, dementia: totally relevant, "
         "I don't even have to think."),
        ("cr_partially/fits",
         "The study was in seniors living at home and mine are in long-term care. Similar "
         "people, not the same, so partially."),
        ("use_manage_differently/fits",
         "His creatinine had been creeping, and after reading it I switched his ibuprofen to "
         "acetaminophen."),
        ("use_more_certain/misread",
         "More certain, isn't that confirmed again? If it confirms me, I'm more certain. I "
         "tick both, I never saw the difference."),
        ("use_discuss/fits",
         "Case conference at the home, with the nurses and the pharmacist. I bring the "
         "synopsis and we go through the residents one by one."),
        ("use_persuade/fits",
         "It was the family I had to convince, not the patient. They wanted her kept on "
         "donepezil, and I showed them how modest the benefit is next to the side effects."),
        ("use_decide_unsure/fits",
         "A ninety-year-old with new atrial fibrillation and I honestly did not know whether "
         "to anticoagulate her. The piece on bleeding risk in the very old let me make up my "
         "mind. I was stuck before, so that's the box."),
        ("hb_prevention/fits",
         "Preventing the fall, preventing the fracture. Vitamin D and hip protectors, in my "
         "world."),
        ("hb_avoid_unnecessary/fits",
         "Most of my benefit is what we stop. Fewer pills, fewer falls, nobody on a PPI for "
         "years for nothing."),
        ("mc_reassure_patient",
         "A lot of my use is reassurance. The family's worried about an interaction, I read "
         "up, I phone back and say it's fine. That isn't persuading, and it isn't quite "
         "discussing either."),
    ]),
    "P06": ("academic teaching practice, supervises residents; formal", [
        ("ci_practice_improved/wording",
         "I would write 'my practice will change', because when I rate it the change is only "
         "planned."),
        ("ci_learned_new/fits",
         "My little test: if I could teach it to a resident tomorrow and it would have been "
         "news to me too, I tick learned."),
        ("ci_motivated/fits",
         "The synopsis on deprescribing sent me to the full Cochrane review, and then I built "
         "a teaching session on it for the residents. That was the clearest case of being "
         "motivated."),
        ("ci_confirmed/fits",
         "We teach the residents not to prescribe for acute bronchitis. When a POEM says so, "
         "it confirms what we were already doing."),
        ("ci_reminded/fits",
         "Something from my own training that I had let go. I refresh it, and very often I "
         "then remind the residents."),
        ("ci_dissatisfied_presentation/fits",
         "Relative risk only, no absolute numbers. A fault of presentation, and a common "
         "one."),
        ("ci_dissatisfied_presentation/wording",
         "Perhaps 'the way it is written or shown' instead of 'presentation', which some "
         "colleagues take to mean the clinical presentation."),
        ("ci_dissatisfied_disagree/fits",
         "PSA screening. I don't agree with how they interpreted that trial, and I said so in "
         "the comment field."),
        ("ci_dissatisfied_amount/fits",
         "Some are two lines without a single number, others run to a full page. Either way "
         "it is the quantity that's wrong."),
        ("cr_partially/fits",
         "It's relevant, but only some of the recommendations apply in primary care; the rest "
         "are for the specialist."),
        ("use_justify_choice/fits",
         "When a resident asks why we chose this rather than that, I point to the evidence. "
         "It justifies the choice for teaching, and for the patient as well."),
        ("use_understand_better/fits",
         "It helped me understand the natural course of her condition, why she wasn't "
         "improving at the usual pace."),
        ("use_discuss/fits",
         "Tuesday noon rounds. I bring one of these, a resident presents a patient, and we "
         "discuss it."),
        ("use_persuade/fits",
         "I used one to persuade a colleague to change our clinic protocol for strep throat. "
         "The number needed to treat did most of the work."),
        ("use_persuade/wording",
         "'Persuade' is strong. 'Convince or encourage' would read better, I think."),
        ("hb_prevention/fits",
         "Secondary prevention in a cardiac patient: the statin, the blood pressure. "
         "Avoiding a worsening, which the label covers."),
        ("mc_info_shared_with_patient",
         "I photocopied the handout and gave it to her. The information was new to the "
         "patient, not to me, and the form assumes the impact is always on the physician."),
    ]),
    "P07": ("small group practice; reflective, thinks aloud", [
        ("ci_practice_improved/fits",
         "I'm fairly strict with myself on that one. It isn't enough that it was "
         "interesting, or that I agreed. Something in what I actually do has to shift. The "
         "bridging piece, for instance: I used to bridge everyone with heparin before a "
         "procedure, and now I... well, I think twice, and mostly I don't."),
        ("ci_learned_new/fits",
         "I knew there was an interaction, I didn't know it was that large. So partly "
         "familiar, but the size of it was new. You could argue for reminded. No, it was the "
         "number that mattered, so learned."),
        ("ci_motivated/fits",
         "When a synopsis opens a question rather than closing one. Then I want to read "
         "further, and often I do, on a Sunday."),
        ("ci_confirmed/fits",
         "It looks backwards. A decision already made for a patient, and the information "
         "says it was the right one."),
        ("ci_reassured/fits",
         "This is the one I find most interesting, actually. Confirmed is about the "
         "evidence, it's almost bookkeeping. Reassured is... how I feel. I can be confirmed "
         "and still anxious, and I can feel reassured by something that doesn't strictly "
         "confirm anything. I can see why people mix them up, though."),
        ("ci_reassured/wording",
         "If you wrote 'less worried' in brackets after it, people would see it's about the "
         "feeling and not the evidence."),
        ("ci_dissatisfied_disagree/fits",
         "Disagreeing isn't disliking the presentation. I can read a beautifully written "
         "synopsis and think the conclusion is wrong. That happened with vitamin D and falls; "
         "I thought, no, the trials don't say that."),
        ("cr_totally/fits",
         "I tend to read these with a face in mind. If the face comes immediately, totally "
         "relevant. If I have to search my memory for someone, it's probably partial."),
        ("cr_partially/fits",
         "Partial, for me, is when I have to translate. The trial had a nurse phoning people "
         "every week, and I... we don't have that. So it applies, but only in part."),
        ("use_more_certain/fits",
         "I think of it as narrowing. The plan doesn't move but the doubt around it gets "
         "smaller. I was hesitating about a statin for a woman of seventy-eight, and "
         "afterwards... I was still hesitating, honestly, but less."),
        ("use_understand_better/fits",
         "A young man with recurrent chest pain and normal tests. The synopsis on panic "
         "didn't change the management, but I understood him better, and I think he felt "
         "that."),
        ("use_discuss/fits",
         "I'll say, there was something in my reading this week, and we look at it "
         "together. A way into the conversation."),
        ("use_decide_unsure/fits",
         "It's rare that I truly don't know what to do. When it happens it's usually a "
         "referral question, does this child's murmur need an echo? I didn't know, I read "
         "the criteria, I decided. Clear enough. Just rare."),
        ("hb_health_status/fits",
         "Health status, functioning... I take it as: will her life be better in a way she'd "
         "notice? Her pressure should come down and the headaches with it."),
        ("hb_avoid_unnecessary/wording",
         "It's a very long label. Avoiding unnecessary care would say the same."),
    ]),
    "P08": ("many young families; paediatrics, vaccines", [
        ("ci_learned_new/fits",
         "I didn't know codeine after tonsillectomy had been linked to deaths in children "
         "who metabolise it fast. Completely new, and frightening."),
        ("ci_reassured/misread",
         "With kids it's the parents who need reassuring. When the POEM let me tell a mother "
         "a febrile seizure doesn't mean epilepsy, I ticked reassured, because she was."),
        ("ci_reminded/fits",
         "Alternating ibuprofen and acetaminophen. I knew the evidence was thin, I'd "
         "forgotten, and parents ask me every week."),
        ("ci_motivated/fits",
         "The bronchiolitis one. I wanted to know why we still give salbutamol at all, so I "
         "read the review that night, once the kids were in bed."),
        ("ci_dissatisfied_harmful/fits",
         "One synopsis gave the dexamethasone dose for croup as \"<5 mg\", no per-kilo dose "
         "at all. In a small child, if someone took that literally... So I ticked harmful "
         "and wrote to them."),
        ("cr_totally/fits",
         "Fever in the under-threes, otitis, bronchiolitis: my bread and butter. Any of "
         "those, I've seen the patient this week."),
        ("cr_not/fits",
         "Prostate, geriatrics, honestly most of my patients are under twelve or their "
         "parents. Quick tick."),
        ("use_manage_differently/fits",
         "After the otitis one I started the wait-and-see prescription for kids over two "
         "with mild ear pain. The parents get the script and hold it forty-eight hours."),
        ("use_understand_better/fits",
         "A teenager with recurring belly pain. The synopsis on functional abdominal pain "
         "helped me see what was going on with her, and explain it to her."),
        ("use_discuss/fits",
         "A father asked me \"is it safe to do MMR and chickenpox the same day?\" and I had "
         "the synopsis open, so we read it together."),
        ("use_persuade/fits",
         "A hesitant mother, about vaccinating. I don't push hard, but I used the numbers "
         "from the Quebec measles outbreak."),
        ("hb_prevention/fits",
         "Vaccines are prevention, the obvious one for me. Measles, and the second ear "
         "infection."),
        ("hb_avoid_unnecessary/fits",
         "No antibiotics for the runny nose, no chest film for bronchiolitis. The kid is "
         "spared something pointless."),
        ("mc_reassure_patient",
         "I used it to tell a mother the rash was a harmless viral one. Reassuring her is a "
         "use, a real one, and it isn't on the list."),
        ("mc_info_shared_with_patient",
         "There should be a line like 'I'll pass this on to parents'. The fever ones I "
         "basically turn into a handout."),
    ]),
    "P09": ("evidence-minded; teaches critical appraisal; talks in numbers", [
        ("ci_learned_new/fits",
         "For me learned means the effect size was news. I knew statins reduce events in "
         "low-risk women; I didn't know the absolute reduction was that small."),
        ("ci_confirmed/fits",
         "The trial matched what I already do with my hypertensive patients, and it made me "
         "surer of it. I ticked confirmed.",
         "use_more_certain/fits"),
        ("ci_dissatisfied_presentation/fits",
         "They give a relative risk reduction of fifty percent and you have to dig to find "
         "it went from two percent to one. A presentation problem, and a misleading one."),
        ("ci_dissatisfied_disagree/fits",
         "The trial was stopped early for benefit and the synopsis took the effect at face "
         "value. I disagree with that conclusion."),
        ("ci_dissatisfied_harmful/fits",
         "A safety flag. If I applied it, could a patient be hurt? I've hardly needed it, but "
         "I know what it's for."),
        ("ci_dissatisfied_amount/unclear",
         "Too much or too little: two opposite things in one box. If I tick it you don't "
         "know which, so I'm never sure what you learn from it."),
        ("ci_dissatisfied_amount/wording",
         "Split it into too much and too little. It costs one more line."),
        ("cr_partially/fits",
         "Younger, fewer comorbidities than mine. The result applies, partially, with a "
         "discount."),
        ("use_justify_choice/fits",
         "Two antihypertensives of equal efficacy, and I picked the one with the better "
         "adherence data. The synopsis is my stated reason."),
        ("use_more_certain/fits",
         "Certainty is a probability. It went up."),
        ("use_decide_unsure/fits",
         "I honestly didn't know whether to screen a 58-year-old heavy smoker with CT. The "
         "synopsis laid out the false positives and the radiation, and I could decide. "
         "Before that I had no basis either way.",
         "use_more_certain/fits"),
        ("use_discuss/fits",
         "I put it on the agenda for journal club. For me it's mostly colleagues."),
        ("use_persuade/fits",
         "Numbers persuade. I showed a colleague the NNT for the new protocol and she "
         "changed her mind."),
        ("hb_health_status/fits",
         "Fewer exacerbations. Her COPD should be more stable on the new inhaler, so she "
         "should be in better shape.",
         "hb_prevention/fits"),
        ("hb_avoid_unnecessary/fits",
         "A PSA on a seventy-eight-year-old who doesn't want it, no. Vitamin D levels on "
         "everyone, no. Avoiding tests is a benefit even if nobody thanks you for it."),
        ("theme_time_pressure",
         "I rate them at the end of the day, ten in a row. By number eight I'm not reading "
         "every option."),
    ]),
    "P10": ("women's health, prenatal care, contraception", [
        ("ci_practice_improved/fits",
         "Since the synopsis on IUDs in women who haven't had children, I offer them "
         "routinely. Before, I'd have said wait until after a first pregnancy. That's "
         "changed."),
        ("ci_learned_new/fits",
         "The mammography guidance for women in their forties was news to me. I had to "
         "rethink what I'd been telling people for years."),
        ("ci_motivated/fits",
         "I wanted to read the actual task force report after that, so I did, and then I "
         "signed up for a CME evening on it."),
        ("ci_confirmed/fits",
         "I'd told a pregnant patient to get her flu shot, and the POEM on influenza vaccine "
         "in pregnancy agreed with me."),
        ("ci_confirmed/wording",
         "Add 'for a patient' at the end, so it's clear it's about a decision I made for "
         "someone."),
        ("ci_reminded/fits",
         "Ferritin in pregnancy, not just the hemoglobin. I knew that, I'd gotten lazy about "
         "it."),
        ("ci_dissatisfied_amount/fits",
         "Nothing on adverse effects, just the result. Too little to act on."),
        ("cr_totally/fits",
         "Prenatal, contraception, menopause, I'd have five patients in mind straight "
         "away."),
        ("cr_partially/fits",
         "The trial was in postmenopausal women and the one I had in mind is "
         "perimenopausal. Close, so partially."),
        ("use_manage_differently/fits",
         "Folic acid. She was on the usual prenatal vitamin, the 1 mg, no, wait, that brand "
         "has 0.4. Anyway, she's on an anti-epileptic and needed 5 mg. I changed it."),
        ("use_justify_choice/fits",
         "When a woman is choosing between the pill and an IUD, I give her the reasons. And "
         "if I steer her one way, I need a justification."),
        ("use_understand_better/fits",
         "Three miscarriages, and after reading it I understood her workup better. What's "
         "worth testing and what isn't."),
        ("use_discuss/fits",
         "With hormone therapy I always go through the risks with the woman herself. That "
         "synopsis gave me a cleaner way to put the breast cancer numbers."),
        ("hb_health_status/fits",
         "Fewer hot flushes, better sleep, she copes at work again. That's health status."),
        ("hb_prevention/fits",
         "Screening is prevention. The Pap, the mammogram, the HPV vaccine for the young "
         "ones."),
        ("mc_info_shared_with_patient",
         "Honestly the impact is often on her knowledge, not mine. I give the information, "
         "she makes the decision. There's no box for the patient having learned something."),
    ]),
    "P11": ("large practice; sceptical of email alerts, rates them for the credits", [
        ("ci_learned_new/fits",
         "Occasionally I learn something. Not often. Most of these emails are things you'd "
         "find in any decent review."),
        ("ci_reminded/fits",
         "That's the honest box for most of them. Yes, I knew that. Tick, close the email."),
        ("ci_confirmed/fits",
         "Confirmed is the box that flatters you. [laughs] I tick it when it's earned, when "
         "I really had been doing the thing already."),
        ("ci_reassured/unclear",
         "Reassured about what? My decision? My knowledge? That the patient is fine? It's "
         "vague. I leave it."),
        ("ci_dissatisfied_presentation/fits",
         "Some days I'd tick it for the formatting alone. It arrives with a banner and three "
         "links before you reach anything clinical."),
        ("ci_dissatisfied_disagree/fits",
         "More often than people would think. Industry-funded trial, surrogate outcome, and "
         "the synopsis treats it as settled. I disagree, so I say so."),
        ("ci_dissatisfied_amount/fits",
         "A wall of text in an email. Too much. I use that box."),
        ("cr_not/fits",
         "It concerns nobody I follow. That's frequent, frankly; the emails don't know my "
         "practice."),
        ("cr_partially/fits",
         "Most of the time it's partial, since the patients in these trials are not mine."),
        ("use_manage_differently/fits",
         "To be fair, once in a while it does change what I do. I stopped a PPI in a man "
         "who'd been on it since 2004 for no reason anyone could find."),
        ("use_more_certain/fits",
         "I'll grant that one. Same plan, but I feel surer."),
        ("use_persuade/unclear",
         "Persuade sounds a bit manipulative. I'd rather say encourage. I understood what "
         "you meant, but I wasn't sure I wanted to tick it."),
        ("hb_health_status/fits",
         "Better health status, if the thing works. Usually I'm not convinced it will."),
        ("hb_avoid_unnecessary/fits",
         "The benefit is usually what we don't do. Fewer tests, fewer side effects, less of "
         "everything."),
        ("theme_time_pressure",
         "If the questionnaire were any longer I'd stop. It's bearable because it's short, "
         "and because of the credits."),
    ]),
    "P12": ("walk-in clinic and ER shifts; brisk", [
        ("ci_learned_new/fits",
         "I didn't know azithromycin carried a cardiac warning. New. I went back and looked "
         "at who I'd given it to."),
        ("ci_confirmed/fits",
         "Sore throats. I'm not prescribing for a Centor of one, and the synopsis said the "
         "same."),
        ("ci_reassured/misread",
         "If it confirmed what I did, then obviously I'm reassured. One box, not two."),
        ("ci_dissatisfied_amount/fits",
         "Too little on dosing. It told me to treat and didn't tell me how much."),
        ("cr_totally/fits",
         "In a walk-in anything respiratory is relevant. Twenty colds a shift."),
        ("cr_partially/misread",
         "Partially, that's when I only half believe it. It's relevant if it's true, sort "
         "of."),
        ("use_manage_differently/fits",
         "Delayed prescriptions for sinusitis now. They fill it if they're not better in a "
         "week."),
        ("use_justify_choice/fits",
         "When a patient demands antibiotics and I say no, I want the evidence behind me. "
         "Right there in the room."),
        ("use_persuade/fits",
         "Getting someone to go home without antibiotics. Half my Saturday."),
        ("use_decide_unsure/fits",
         "A baby with a fever and no source, and I had no idea whether to do bloods or just "
         "watch. The synopsis gave me the age cut-offs and that settled it."),
        ("hb_prevention/fits", "Tetanus boosters. The flu shot when they'll let me."),
        ("hb_avoid_unnecessary/fits",
         "No amoxicillin for a cold, no ankle film when the Ottawa rules are negative. "
         "Exactly that."),
        ("mc_reassure_patient",
         "Often I use it to calm someone who's sure they need something. That isn't "
         "persuading, it's reassuring, and your list doesn't have it."),
        ("theme_time_pressure",
         "Between ER & walk-in shifts I rate them in twenty seconds each. I don't agonise."),
    ]),
    "P13": ("team clinic with nurse and pharmacist; diabetes, hypertension, CKD", [
        ("ci_practice_improved/fits",
         "Our nurse now checks B12 every year in anyone who's been on metformin more than "
         "four years. That came from a synopsis, and it changed the clinic's practice, not "
         "only mine."),
        ("ci_confirmed/fits",
         "We had already moved our diabetics to an A1c target around seven, not lower, and "
         "the information backed that."),
        ("ci_reassured/fits",
         "I'd cut back an old man's insulin because of lows and I was nervous his sugars "
         "would climb. The synopsis on looser targets in the elderly made me feel better "
         "about it. Reassured, that's the word.",
         "ci_confirmed/fits"),
        ("ci_reminded/fits",
         "The sick-day rules for metformin and ACE inhibitors. We knew them and we'd stopped "
         "telling patients."),
        ("ci_dissatisfied_presentation/fits",
         "The graph had no units on the axis. Nice message, poor presentation."),
        ("ci_dissatisfied_harmful/fits",
         "It recommended a combination that, in someone with kidney disease, could push the "
         "potassium very high. Dangerous as written, I thought. So, harmful.",
         "ci_dissatisfied_disagree/fits"),
        ("cr_totally/fits",
         "Diabetes, blood pressure, kidneys. It's most of what we do, so nearly always "
         "totally."),
        ("use_manage_differently/fits",
         "We stopped the glyburide in two frail patients after that one. Named patients, a "
         "different plan."),
        ("use_justify_choice/fits",
         "If I pick an older, cheaper drug over the new one, I write the reason in the "
         "chart. This gave me the reason."),
        ("use_more_certain/fits",
         "I wasn't sure about stopping aspirin in a diabetic with no vascular disease. "
         "Afterwards I was."),
        ("use_understand_better/fits",
         "Her eGFR dropped after we started the ACE inhibitor and I was alarmed, well, "
         "concerned. The synopsis "
         "explained that a small drop is expected, so I understood her numbers."),
        ("use_discuss/fits",
         "I took it to the team meeting with the pharmacist and the nurse, and we agreed to "
         "change how we titrate basal insulin."),
        ("hb_health_status/fits",
         "Steadier sugars, fewer lows. She'll feel better and manage her day."),
        ("hb_prevention/fits",
         "Keeping the kidney disease from getting worse. Most of the blood pressure work is "
         "for that."),
        ("mc_info_shared_with_patient",
         "What I do most is hand the information to the patient, a sheet with the numbers. "
         "The impact is on them, and the first section has no box for it.",
         "use_discuss/fits"),
    ]),
    "P14": ("community health centre for refugees and new immigrants; works with interpreters", [
        ("ci_practice_improved/fits",
         "We changed our intake protocol after the one on hepatitis B screening. The whole "
         "clinic did, so that's practice changed."),
        ("ci_learned_new/fits",
         "That the interferon-gamma blood test may beat the skin test in people who had BCG. "
         "New to me."),
        ("ci_motivated/fits",
         "After one of them I went looking for the immigrant health guidelines. I wanted to "
         "know more than the synopsis gave."),
        ("ci_reminded/fits",
         "Strongyloides serology before you give steroids. I knew it, and I needed it that "
         "very week."),
        ("ci_dissatisfied_amount/fits",
         "Too little on other populations. Everything's about white North Americans."),
        ("cr_totally/fits",
         "Latent TB, parasites, catch-up vaccination, that's my practice. I ticked totally "
         "for the one on screening new arrivals."),
        ("cr_partially/fits",
         "The malaria one was partly relevant. My patients came from Africa, but they're not "
         "going back any time soon."),
        ("cr_not/fits",
         "Screening in seniors, say. Most of my patients are under forty, so not relevant."),
        ("use_manage_differently/fits",
         "I started a young man on isoniazid for latent TB when before I'd have just "
         "watched."),
        ("use_understand_better/fits",
         "Iron deficiency that wouldn't correct, and the synopsis on H. pylori explained "
         "it. Then I understood her situation."),
        ("use_discuss/fits",
         "I discuss it with the patient through the interpreter. The synopsis helped me keep "
         "it simple."),
        ("use_persuade/fits",
         "Convincing a family to finish nine months of isoniazid when nobody feels sick. I "
         "used the synopsis to make the case."),
        ("hb_prevention/fits",
         "Catch-up vaccination. Most arrive with no records at all."),
        ("hb_health_status/unclear",
         "Better health I understand. Resilience, I'm not sure what it means here. For a "
         "refugee it means something very different."),
        ("mc_info_shared_with_patient",
         "It goes to the patient, through the interpreter, and it changes what they know. "
         "The questionnaire assumes I'm the one learning."),
    ]),
    "P15": ("three years in practice; hesitant, checks with the interviewer", [
        ("ci_practice_improved/fits",
         "If I'm going to change something. Like thyroid tests, after one synopsis I stopped "
         "ordering the T3 and T4 with every TSH. So, changed, and better, I hope."),
        ("ci_learned_new/fits",
         "Something I didn't know before, I tick it. I think that's right?"),
        ("ci_motivated/unclear",
         "Motivated to learn more about what, the topic or the method? I wasn't sure. I took "
         "it as the topic."),
        ("ci_confirmed/fits",
         "When the choice I made for a patient turns out to be right, according to the "
         "evidence. I think that's it."),
        ("ci_reassured/unclear",
         "I never know when it's reassured and when it's confirmed. If what I did was right "
         "then I'm reassured, so... they're the same thing, no? Sometimes I tick both, "
         "sometimes I skip it. Is that... should I not?"),
        ("ci_dissatisfied_harmful/fits",
         "I've never ticked it, but I'd understand it. If the information could hurt a "
         "patient. Is that it?"),
        ("cr_totally/fits",
         "When I can think of a patient for sure. If I'm not sure, um, partially, maybe."),
        ("cr_not/fits",
         "None of my patients have it, so not relevant. That one's easy, I think."),
        ("use_more_certain/fits",
         "I tick that often. I'm often not certain. [laughs]"),
        ("use_discuss/fits",
         "If I'm not sure I like to talk to a colleague first. I took one to the doctor next "
         "door."),
        ("use_decide_unsure/fits",
         "A small thyroid nodule and I didn't know whether to send her for a biopsy. The "
         "synopsis had the size criteria, so then I could decide."),
        ("use_understand_better/fits",
         "It, um, helped me understand why his pressure was high in the office and fine at "
         "home. I sort of knew about white coat, but the one on home monitoring made it "
         "clearer."),
        ("hb_health_status/fits",
         "If he can function better... I guess if he can go back to work."),
        ("mc_reassure_patient",
         "Mostly I use it to reassure. Patients worry about side effects and I can say the "
         "risk is small. That's a use, isn't it? It's not on the list."),
    ]),
}


def _item_of(code: str) -> str:
    return code.split("/", 1)[0] if "/" in code else ""


def _row(sid: str, pid: str, text: str, code: str, coder: str) -> dict[str, str]:
    item = _item_of(code)
    construct, theme = MISSING.get(code, ("", ""))
    if code == THEME_OTHER[0]:
        theme = THEME_OTHER[1]
    return {"segment_id": sid, "participant": pid, "document": f"interview_{pid}.docx",
            "text": text, "code": code, "coder": coder, "item_id": item,
            "construct_id": construct, "theme": theme}


def build_rows() -> list[dict[str, str]]:
    """All codings, in transcript order; coder B's row follows coder A's."""
    known = {f"{i}/{k}" for i in ITEMS for k in ("fits", "unclear", "misread", "wording")}
    known |= set(MISSING) | {THEME_OTHER[0]}
    rows: list[dict[str, str]] = []
    n = 0
    for pid in sorted(INTERVIEWS):
        for seg in INTERVIEWS[pid][1]:
            code, text = seg[0], seg[1]
            code_b = seg[2] if len(seg) > 2 else code
            for c in (code, code_b):
                if c not in known:
                    raise ValueError(f"{pid}: unknown code {c!r}")
            n += 1
            sid = f"S{n:03d}"
            rows.append(_row(sid, pid, text, code, "A"))
            if pid in SECOND_CODER:
                rows.append(_row(sid, pid, text, code_b, "B"))
    return rows


def segments_csv(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def codebook_yaml() -> str:
    lines = [
        "# Codebook of the IAM coding example (instrval codebook format 1.0).",
        "# Each item has a-priori codes: ITEM/fits (supports), ITEM/unclear and ITEM/misread",
        "# (challenges), ITEM/wording (a wording suggestion). Inductive codes follow.",
        "# Generated by make_segments.py.",
        'format_version: "1.0"',
        "instrument: iam@2011",
        "codes:",
    ]
    for item in ITEMS:
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
    for code, (construct, theme) in MISSING.items():
        lines.append(f"  {code}: {{construct_id: {construct}, category: missing_concept, "
                     f"theme: \"{theme}\"}}")
    lines.append(f"  {THEME_OTHER[0]}: {{category: other, theme: \"{THEME_OTHER[1]}\"}}")
    return "\n".join(lines) + "\n"


def repeated_ngrams(texts: list[str], n: int = 6) -> Counter[str]:
    """How many of the texts contain each sequence of ``n`` words (case and punctuation
    ignored)."""
    counts: Counter[str] = Counter()
    for t in texts:
        words = [w.strip("'") for w in re.findall(r"[a-z0-9']+", t.lower())]
        words = [w for w in words if w]
        counts.update({" ".join(words[i:i + n]) for i in range(len(words) - n + 1)})
    return counts


def check_repetition(rows: list[dict[str, str]], *, n: int = 6, max_segments: int = 2,
                     show: int = 5) -> list[str]:
    """Print the most repeated ``n``-word sequences; return those in more than
    ``max_segments`` segments."""
    texts = list({r["segment_id"]: r["text"] for r in rows}.values())
    counts = repeated_ngrams(texts, n)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:show]
    print(f"{len(texts)} segments; most repeated {n}-word sequences (segments): "
          + "; ".join(f"'{g}' ({k})" for g, k in top))
    return [g for g, k in counts.items() if k > max_segments]


def main(argv: list[str]) -> int:
    rows = build_rows()
    csv_text, yaml_text = segments_csv(rows), codebook_yaml()
    too_often = check_repetition(rows)
    if too_often:
        print("repeated in more than two segments: " + "; ".join(sorted(too_often)))
        return 1
    n_a = sum(r["coder"] == "A" for r in rows)
    n_b = len(rows) - n_a
    if "--check" in argv:
        same = ((HERE / "segments.csv").read_bytes() == csv_text.encode("utf-8")
                and (HERE / "codebook.yaml").read_bytes() == yaml_text.encode("utf-8"))
        print("files are up to date" if same else "files differ from the generator")
        return 0 if same else 1
    (HERE / "segments.csv").write_bytes(csv_text.encode("utf-8"))
    (HERE / "codebook.yaml").write_bytes(yaml_text.encode("utf-8"))
    print(f"{n_a} segments by coder A, {n_b} by coder B")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
