"""What the rep sees before and while taking over: alert, 10-second summary, opener, checklist."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from domain.context import ContextPackage
from domain.scripts.render import Lang, Slots, compose, derive, first_name, known, language_of, pick, sentence_case
from domain.scripts.rep_texts import (
    ALERT_LINES,
    BAND_LEADS,
    BAND_WORDS,
    HEADLINES,
    ITEMS,
    LIST_JOINER,
    NEXT_STEP_BY_INTENT,
    NEXT_STEP_KEYWORDS,
    NEXT_STEPS,
    OFFER_CLOSED,
    OFFER_WORDS,
    ONE_LINER,
    OPENER,
    PHRASES,
    QUICK_SUMMARY,
    SENTIMENT_WORDS,
)

Band = Literal["hot", "warm", "cool"]
OfferOutcome = Literal["accepted", "declined", "deferred", "callback", "expired", "withdrawn"]
BAND_BY_INTENT: dict[str, Band] = {"high": "hot", "medium": "warm", "low": "cool"}


class RepAlert(BaseModel):
    band: Band
    headline: str
    lines: list[str]
    one_liner: str


def band_of(context: ContextPackage) -> Band:
    """Score >= 80 hot, >= 50 warm, else cool; without a score, buying intent; else warm."""
    score = context.qualification.score
    if score is not None:
        return "hot" if score >= 80 else "warm" if score >= 50 else "cool"
    return BAND_BY_INTENT.get(context.sentiment.buying_intent or "", "warm")


def _present(values: list[str]) -> list[str]:
    return [value.strip() for value in values if value and value.strip()]


def _sentiment(context: ContextPackage, lang: Lang) -> str | None:
    words, sentiment = SENTIMENT_WORDS[lang], context.sentiment
    parts = []
    if sentiment.overall:
        parts.append(words[sentiment.overall])
    if sentiment.buying_intent:
        parts.append(words["intent"].format(level=words[sentiment.buying_intent]))
    if sentiment.frustration_level in ("medium", "high"):
        parts.append(words["frustration"].format(level=words[sentiment.frustration_level]))
    return sentence_case(LIST_JOINER[lang].join(parts))


def _slots(context: ContextPackage, lang: Lang, **extra: str | None) -> Slots:
    prospect, qualification = context.prospect, context.qualification
    needs = _present(context.summary.key_needs)
    band = band_of(context)
    joiner = LIST_JOINER[lang]
    facts = known(
        name=prospect.name,
        first=first_name(prospect.name),
        title=prospect.title,
        company=prospect.company,
        size=qualification.company_size,
        timeline=qualification.timeline,
        use_case=qualification.use_case,
        need=needs[0] if needs else None,
        needs=joiner.join(needs),
        score=qualification.score,
        band=BAND_WORDS[lang][band],
        band_lead=BAND_LEADS[lang][band],
        reason=sentence_case(context.transfer_reason),
        context=joiner.join(_present([qualification.company_size or "", *needs[:2], qualification.timeline or ""])),
        sentiment=_sentiment(context, lang),
    )
    return derive(facts | known(**extra), PHRASES[lang])


ALERT_NOTES = 3


def rep_alert(context: ContextPackage, locale: str, reason: str | None = None) -> RepAlert:
    """The push alert. `reason`, when given, replaces context.transfer_reason (e.g. a deferral)."""
    lang = language_of(locale)
    band = band_of(context)
    # What the prospect added for the rep before the offer, latest last: the rep reads it before accepting.
    notes = "; ".join(_present(context.prospect_notes)[-ALERT_NOTES:])
    slots = _slots(context, lang, reason=sentence_case(reason), notes=notes)
    lines = [line for line in (pick(alternatives, slots) for alternatives in ALERT_LINES[lang]) if line]
    return RepAlert(
        band=band, headline=HEADLINES[lang][band], lines=lines, one_liner=compose(ONE_LINER[lang], slots, lang)
    )


def alert_email(alert: RepAlert, link: str | None = None) -> tuple[str, str]:
    """The same alert as an e-mail (subject, plain-text body), so every channel says the same thing."""
    body = "\n".join([alert.one_liner, "", *alert.lines, *([""] + [link] if link else [])])
    return alert.headline, body + "\n"


def alert_chat(alert: RepAlert, link: str | None = None) -> str:
    """The same alert as a chat message (Slack mrkdwn; what the prospect said is escaped, so it can neither
    mention anyone nor make a link)."""
    lines = [f"*{alert.headline}*", alert.one_liner, *(f"• {line}" for line in alert.lines)]
    return "\n".join([*map(mrkdwn_escape, lines)] + ([f"<{link}|{link}>"] if link else []))


def mrkdwn_escape(text: str) -> str:
    """`text` as Slack mrkdwn shows it literally: &, < and > are its only control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def offer_words(locale: str) -> dict[str, str]:
    """The offer's actions and expiry in the rep's language, for a channel whose alert carries them (Slack)."""
    return OFFER_WORDS[language_of(locale)]


def offer_closed(outcome: OfferOutcome, locale: str, rep: str | None = None, colleague: str | None = None,
                 when: str | None = None) -> str:
    """How an offer ended, in the rep's language: "Accepted by Sarah Chen", "Deferred to Alex Kim", "Expired,
    re-routed"; `when` is the callback's time as the channel shows it. Each outcome's last wording needs no facts."""
    return pick(OFFER_CLOSED[language_of(locale)][outcome], known(rep=rep, colleague=colleague, when=when))


def quick_summary(context: ContextPackage, locale: str) -> str:
    """Who, what they want, how hot and why: scannable in ten seconds."""
    lang = language_of(locale)
    return compose(QUICK_SUMMARY[lang], _slots(context, lang), lang)


def opener(context: ContextPackage, rep_name: str | None, bot_name: str | None, locale: str) -> str:
    """A suggested first message for the rep that shows the prospect they were heard."""
    lang = language_of(locale)
    return compose(OPENER[lang], _slots(context, lang, rep_name=rep_name, bot_name=bot_name), lang)


def _next_step(context: ContextPackage) -> str:
    reason = (context.transfer_reason or "").lower()
    for step, keywords in NEXT_STEP_KEYWORDS:
        if any(keyword in reason for keyword in keywords):
            return step
    return NEXT_STEP_BY_INTENT.get(context.sentiment.buying_intent or "", "discovery")


def checklist(context: ContextPackage, locale: str) -> list[str]:
    """Key points to address: each need, each concern raised, decision makers, timeline, next step."""
    lang = language_of(locale)
    items = ITEMS[lang]
    points = [items["need"].format(need=need) for need in _present(context.summary.key_needs)]
    points += [items["concern"].format(concern=c) for c in _present(context.summary.objections_raised)]
    if context.qualification.decision_maker is False:
        points.append(items["decision"])
    if context.qualification.timeline:
        points.append(items["timeline"].format(timeline=context.qualification.timeline))
    points.append(items["next_step"].format(step=NEXT_STEPS[lang][_next_step(context)]))
    return points


def talking_points(context: ContextPackage, locale: str) -> list[str]:
    """What to build on: the prospect's own additions first, then approach, pains and what landed."""
    items = ITEMS[language_of(locale)]
    summary, qualification, sentiment = context.summary, context.qualification, context.sentiment
    points = [items["prospect_note"].format(note=note) for note in _present(context.prospect_notes)]
    if context.recommended_approach and context.recommended_approach.strip():
        points.append(items["approach"].format(approach=context.recommended_approach.strip()))
    points += [items["pain"].format(pain=pain) for pain in _present(summary.pain_points)]
    if sentiment.notes and sentiment.overall == "positive":
        points.append(items["resonated"].format(notes=sentiment.notes))
    if qualification.use_case:
        points.append(items["use_case"].format(use_case=qualification.use_case))
    if qualification.budget:
        points.append(items["budget"].format(budget=qualification.budget))
    if qualification.decision_maker:
        points.append(items["decision_maker"])
    if summary.entry_point:
        points.append(items["entry_point"].format(entry_point=summary.entry_point))
    return points


def things_to_avoid(context: ContextPackage, locale: str) -> list[str]:
    """Pitfalls: making them repeat themselves, dismissing concerns, pitching into frustration."""
    lang = language_of(locale)
    items, words, sentiment = ITEMS[lang], SENTIMENT_WORDS[lang], context.sentiment
    avoid = [items["start_over"]]
    avoid += [items["brush_off"].format(concern=c) for c in _present(context.summary.objections_raised)]
    if sentiment.frustration_level in ("medium", "high"):
        avoid.append(items["frustration"].format(level=words[sentiment.frustration_level]))
    if sentiment.overall in ("negative", "mixed"):
        avoid.append(items["tone"].format(tone=words[sentiment.overall]))
    if sentiment.notes and sentiment.overall != "positive":
        avoid.append(items["watch"].format(notes=sentiment.notes))
    return avoid
