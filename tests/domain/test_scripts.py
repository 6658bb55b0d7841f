import re
from datetime import UTC, datetime
from typing import get_args

import pytest

from domain.context import ContextPackage
from domain.scripts import (
    BOT_LINE_KINDS,
    LineFacts,
    OfferOutcome,
    band_of,
    bot_line,
    checklist,
    format_when,
    language_of,
    offer_closed,
    opener,
    quick_summary,
    rep_alert,
    talking_points,
    things_to_avoid,
    written_in,
)
from tests import fixtures

NOW = datetime(2024, 1, 15, 14, 30, tzinfo=UTC)  # Monday; 09:30 in New York
TOMORROW_9_NY = datetime(2024, 1, 16, 14, 0, tzinfo=UTC)

FULL_FACTS = LineFacts(
    rep_name="Sarah Chen",
    rep_title="Senior Account Executive",
    rep_expertise="enterprise rollouts",
    team="enterprise",
    prospect_name="John Smith",
    bot_name="Ava",
    position=2,
    wait_seconds=170,
    at=TOMORROW_9_NY,
    prospect_timezone="America/New_York",
    phone="+1-555-123-4567",
    email="john@acme.com",
    recovery_minutes=5,
    now=NOW,
)
# Marks of a template that leaked a missing fact or a placeholder.
BROKEN = re.compile(r"None|\[|\]|\{|\}|\(\)|\uff08\uff09|,\s*[,.。]|\s[,.]|,\s*$|\s{2}|^\s|\s$")
GENDERED = re.compile(r"\b(he|she|him|her|his|hers)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def acme() -> ContextPackage:
    return ContextPackage.model_validate(fixtures.acme_context())


def assert_clean(text: str) -> None:
    assert text, "empty text"
    assert not BROKEN.search(text), text
    assert not GENDERED.search(text), text


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
@pytest.mark.parametrize("kind", BOT_LINE_KINDS)
@pytest.mark.parametrize("facts", [FULL_FACTS, LineFacts()], ids=["full", "empty"])
def test_every_bot_line_renders_clean(kind, locale, facts):
    assert_clean(bot_line(kind, locale, facts))


def test_bot_line_kinds_cover_the_view_literal():
    assert set(BOT_LINE_KINDS) >= {"prepare", "queued", "after_hours", "rerouting", "failed", "closing"}
    assert len(BOT_LINE_KINDS) == 14


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        LineFacts(at=datetime(2024, 1, 16, 9, 0))


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        bot_line("shout", "en", LineFacts())


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("zh", "zh"), ("zh-CN", "zh"), ("zh-Hans", "zh"), ("ZH-cn", "zh"), ("en", "en"), ("fr", "en"), ("", "en")],
)
def test_language_of(locale, expected):
    assert language_of(locale) == expected


@pytest.mark.parametrize(
    ("locale", "label"),
    [("en", "en"), ("en-GB", "en-GB"), ("zh-CN", "zh-CN"), ("zh_Hans", "zh_Hans"), ("fr", "en"), ("zh-TW", "en"),
     ("xx", "en"), ("", "en"), (None, "en")],
)
def test_text_is_labelled_with_the_language_it_is_written_in(locale, label):
    assert written_in(locale) == label
    assert language_of(label) == language_of(locale)  # the label never changes which lines are chosen


def test_chinese_lines_are_chinese():
    text = bot_line("connecting", "zh-Hans", FULL_FACTS)
    assert "Sarah Chen" in text and "无需重复" in text
    assert "Connecting" not in text


def test_prepare_introduces_rep_team_expertise_and_asks_for_more():
    text = bot_line("prepare", "en", FULL_FACTS)
    for part in ("Sarah Chen", "enterprise team", "enterprise rollouts", "Senior Account Executive", "?"):
        assert part in text


def test_prepare_without_rep_falls_back_gracefully():
    text = bot_line("prepare", "en", LineFacts(team="enterprise", rep_expertise="SSO"))
    assert "a specialist from our enterprise team" in text
    assert "They specialize in SSO." in text


def test_queued_gives_position_wait_and_three_options():
    text = bot_line("queued", "en", FULL_FACTS)
    assert "number 2" in text and "about 3 minutes" in text
    assert "wait" in text and "call you back" in text and "email" in text


def test_queued_with_only_a_wait_estimate():
    text = bot_line("queued", "en", LineFacts(wait_seconds=30))
    assert "about 1 minute." in text and "number" not in text


def test_callback_confirmed_in_prospect_time_zone():
    text = bot_line("callback_confirmed", "en", FULL_FACTS)
    assert "Sarah Chen will call you tomorrow at 9:00 AM on +1-555-123-4567." in text
    zh = bot_line("callback_confirmed", "zh", FULL_FACTS)
    assert "明天9:00" in zh and "+1-555-123-4567" in zh


def test_time_without_prospect_zone_says_utc():
    facts = FULL_FACTS.model_copy(update={"prospect_timezone": None})
    assert "tomorrow at 2:00 PM (UTC)" in bot_line("after_hours", "en", facts)
    bad_zone = FULL_FACTS.model_copy(update={"prospect_timezone": "Mars/Olympus"})
    assert "(UTC)" in bot_line("after_hours", "en", bad_zone)


def test_after_hours_names_next_opening_and_asks_channel():
    text = bot_line("after_hours", "en", FULL_FACTS)
    assert "tomorrow at 9:00 AM" in text and "email or phone" in text and "captured everything" in text


@pytest.mark.parametrize(
    ("at", "lang", "expected"),
    [
        (datetime(2024, 1, 15, 20, 5, tzinfo=UTC), "en", "today at 3:05 PM"),
        (datetime(2024, 1, 16, 5, 0, tzinfo=UTC), "en", "tomorrow at 12:00 AM"),
        (datetime(2024, 1, 18, 14, 0, tzinfo=UTC), "en", "on Thursday at 9:00 AM"),
        (datetime(2024, 1, 30, 14, 0, tzinfo=UTC), "en", "on January 30 at 9:00 AM"),
        (datetime(2024, 1, 18, 14, 0, tzinfo=UTC), "zh", "周四9:00"),
        (datetime(2024, 1, 30, 20, 0, tzinfo=UTC), "zh", "1月30日15:00"),
    ],
)
def test_format_when(at, lang, expected):
    assert format_when(at, "America/New_York", NOW, lang) == expected


def test_format_when_without_now_spells_out_the_date():
    assert format_when(TOMORROW_9_NY, "America/New_York", None, "en") == "on January 16 at 9:00 AM"


def test_failed_line_apologises_and_promises_a_call():
    text = bot_line("failed", "en", FULL_FACTS)
    assert "sorry" in text and "within 5 minutes" in text and "Sarah Chen" in text


@pytest.mark.parametrize(("locale", "cause"), [("en", "technical"), ("zh-CN", "技术问题")])
def test_the_apology_names_a_technical_issue_only_when_there_was_one(locale, cause):
    technical = bot_line("failed", locale, FULL_FACTS)
    not_taken_over = bot_line("failed", locale, FULL_FACTS.model_copy(update={"technical_failure": False}))
    assert cause in technical and cause not in not_taken_over
    assert_clean(not_taken_over)
    assert "Sarah Chen" in not_taken_over and "+1-555-123-4567" in not_taken_over  # the same call back


def test_rerouting_keeps_the_context():
    text = bot_line("rerouting", "en", FULL_FACTS)
    assert "Sarah Chen from our enterprise team" in text and "start over" in text


def test_acme_alert_is_hot(acme):
    alert = rep_alert(acme, "en")
    assert alert.band == "hot"
    assert alert.headline.startswith("🔥")
    text = "\n".join(alert.lines)
    assert "Prospect: John Smith, VP Sales @ Acme Corp" in alert.lines
    assert "Score: 85/100 (hot)" in alert.lines
    assert "Salesforce integration" in text and "Q2" in text
    assert "John" in alert.one_liner and "Acme Corp" in alert.one_liner and "Hot lead" in alert.one_liner
    for line in [*alert.lines, alert.one_liner]:
        assert_clean(line)


def test_alert_reason_overrides_context(acme):
    alert = rep_alert(acme, "en", reason="deferred by Alex")
    assert "Transfer reason: Deferred by Alex" in alert.lines


def test_the_alert_carries_what_the_prospect_added_before_the_offer(acme):
    assert not any(line.startswith("Prospect's note") for line in rep_alert(acme, "en").lines)
    notes = ["one", " ", "Please call my mobile", "We sign Friday", "CFO joins"]
    noted = acme.model_copy(update={"prospect_notes": notes})
    assert "Prospect's note: Please call my mobile; We sign Friday; CFO joins" in rep_alert(noted, "en").lines
    assert "客户补充:Please call my mobile; We sign Friday; CFO joins" in rep_alert(noted, "zh").lines


def test_acme_alert_in_chinese(acme):
    alert = rep_alert(acme, "zh-CN")
    assert "高价值" in alert.headline
    assert any(line.startswith("潜在客户:John Smith") for line in alert.lines)
    assert any("85/100" in line for line in alert.lines)


def test_acme_opener(acme):
    text = opener(acme, "Sarah", "Ava", "en")
    assert "John" in text and "500" in text and "Q2" in text and "Sarah" in text and "Ava" in text
    assert "Smith" not in text  # first name only
    assert_clean(text)
    zh = opener(acme, "Sarah", "Ava", "zh")
    assert "John" in zh and "500" in zh and "Q2" in zh


def test_acme_checklist(acme):
    items = checklist(acme, "en")
    assert "Salesforce integration details" in items
    assert any("migration" in item and "(concern raised)" in item for item in items)
    assert any("timeline feasibility" in item and "Q2" in item for item in items)
    assert items[-1] == "Next step: demo scheduling"


def test_next_step_falls_back_to_buying_intent():
    context = ContextPackage.model_validate({"sentiment": {"buying_intent": "high"}, "transfer_reason": "question"})
    assert checklist(context, "en")[-1] == "Next step: follow-up meeting"
    pricing = ContextPackage(transfer_reason="Asked for a price quote")
    assert checklist(pricing, "zh")[-1] == "下一步:报价方案"


def test_acme_talking_points_and_things_to_avoid(acme):
    points = talking_points(acme, "en")
    assert "Recommended approach: Focus on migration support and timeline" in points
    assert any("Impressed by Salesforce" in p for p in points)
    avoid = things_to_avoid(acme, "en")
    assert any("start over" in a for a in avoid)
    assert any("migration" in a for a in avoid)
    assert not any("Impressed" in a for a in avoid)  # positive notes are not a warning


def test_prospect_notes_lead_the_talking_points(acme):
    context = acme.model_copy(update={"prospect_notes": ["We also need a HIPAA BAA"]})
    assert talking_points(context, "en")[0] == "They asked you to know: We also need a HIPAA BAA"


def test_frustration_and_negative_notes_go_to_things_to_avoid():
    context = ContextPackage.model_validate(
        {"sentiment": {"overall": "negative", "frustration_level": "high", "notes": "Bot misunderstood twice"}}
    )
    avoid = things_to_avoid(context, "en")
    assert any("high frustration" in a for a in avoid)
    assert any("negative" in a for a in avoid)
    assert "Watch out: Bot misunderstood twice" in avoid


def test_acme_quick_summary_is_short(acme):
    text = quick_summary(acme, "en")
    assert "John Smith" in text and "Acme Corp" in text and "85/100" in text
    assert text.count(". ") <= 2 and len(text) < 300
    assert_clean(text)


@pytest.mark.parametrize(
    ("data", "band"),
    [
        ({"qualification": {"score": 80}}, "hot"),
        ({"qualification": {"score": 79}}, "warm"),
        ({"qualification": {"score": 50}}, "warm"),
        ({"qualification": {"score": 49}, "sentiment": {"buying_intent": "high"}}, "cool"),
        ({"sentiment": {"buying_intent": "high"}}, "hot"),
        ({"sentiment": {"buying_intent": "medium"}}, "warm"),
        ({"sentiment": {"buying_intent": "low"}}, "cool"),
        ({}, "warm"),
    ],
)
def test_band(data, band):
    context = ContextPackage.model_validate(data)
    assert band_of(context) == band
    assert rep_alert(context, "en").band == band


def test_cool_alert_is_calm():
    alert = rep_alert(ContextPackage.model_validate({"qualification": {"score": 10}}), "en")
    assert "🔥" not in alert.headline and "Hot" not in alert.headline


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_empty_context_yields_clean_texts(locale):
    empty = ContextPackage()
    alert = rep_alert(empty, locale)
    assert alert.lines == []
    for text in (
        alert.headline,
        alert.one_liner,
        quick_summary(empty, locale),
        opener(empty, None, None, locale),
        *checklist(empty, locale),
        *talking_points(empty, locale),
        *things_to_avoid(empty, locale),
    ):
        assert_clean(text)


def test_partial_prospect_has_no_dangling_separators():
    context = ContextPackage.model_validate({"prospect": {"company": "Acme Corp"}, "qualification": {"timeline": "Q3"}})
    alert = rep_alert(context, "en")
    assert "Prospect: Acme Corp" in alert.lines
    assert alert.one_liner.startswith("Incoming: a prospect from Acme Corp. Q3.")
    assert_clean(opener(context, "Sarah", None, "en"))


def test_texts_are_deterministic(acme):
    assert rep_alert(acme, "en") == rep_alert(acme, "en")
    assert bot_line("queued", "zh", FULL_FACTS) == bot_line("queued", "zh", FULL_FACTS)


def test_a_rep_is_named_in_full_once_then_by_first_name():
    text = bot_line("prepare", "en", LineFacts(rep_name="Priya Nair", rep_title="Account Executive", team="smb"))
    assert text.count("Priya Nair") == 1 and text.count("Priya") == 3


def test_team_acronyms_read_as_acronyms():
    assert "Our EMEA team" in bot_line("after_hours", "en", LineFacts(rep_name="Lena Fischer", team="emea"))


@pytest.mark.parametrize("locale", ["en", "zh"])
@pytest.mark.parametrize("outcome", get_args(OfferOutcome))
def test_every_end_of_an_offer_is_said_with_or_without_its_facts(outcome, locale):
    told = offer_closed(outcome, locale, rep="Sarah Chen", colleague="Alex Kim", when="Mar 3 10:30")
    bare = offer_closed(outcome, locale)
    assert told and bare and "{" not in told + bare and "None" not in told + bare


def test_the_end_of_an_offer_names_who_and_when():
    assert offer_closed("accepted", "en", rep="Sarah Chen") == "✅ Accepted by Sarah Chen"
    assert offer_closed("deferred", "en", rep="Sarah Chen", colleague="Alex Kim") == "↪️ Deferred to Alex Kim"
    assert offer_closed("deferred", "en", rep="Sarah Chen") == "↪️ Deferred by Sarah Chen, re-routed"
    assert offer_closed("callback", "zh", when="3月3日 10:30") == "📞 已预约回电:3月3日 10:30"
    assert offer_closed("expired", "en") == "⌛ Expired, re-routed"


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_the_queue_says_the_rep_is_with_another_customer_only_while_they_are(locale):
    busy = bot_line("queued", locale, LineFacts(rep_name="Sarah Chen", position=2))
    passed_over = bot_line("queued", locale, LineFacts(rep_name="Sarah Chen", rep_is_busy=False, position=2))
    assert busy.startswith("Sarah Chen")
    assert not passed_over.startswith("Sarah Chen") and "2" in passed_over
