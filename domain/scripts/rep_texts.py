"""What the rep reads (alert, summary, opener, checklist), per language, as data.

Known slots: name, first, title, company, size, timeline, use_case, need, needs, focus, score,
band, band_lead, reason, context, sentiment, rep_name, bot_name; plus the phrases below.
"""

from __future__ import annotations

from domain.scripts.render import Alternatives, Lang

PHRASES: dict[Lang, dict[str, Alternatives]] = {
    "en": {
        "role": ("{title} @ {company}", "{title}", "{company}"),
        "who": ("{name}, {role}", "{name}", "{role}"),
        "scope": ("{size}, {timeline}", "{size}", "{timeline}"),
        "greet": ("Hi {first}!", "Hi there!"),
        "focus": ("{need}", "{use_case}"),
        "for_org": (" for {company} ({size})", " for {company}", " for a team of {size}", ""),
        "aiming": (", aiming for {timeline}", ""),
    },
    "zh": {
        "role": ("{company} {title}", "{title}", "{company}"),
        "who": ("{name},{role}", "{name}", "{role}"),
        "scope": ("{size},{timeline}", "{size}", "{timeline}"),
        "greet": ("{first},您好!", "您好!"),
        "focus": ("{need}", "{use_case}"),
        "for_org": ("为{company}({size})", "为{company}", "为{size}规模的团队", ""),
        "aiming": (",目标是{timeline}", ""),
    },
}

HEADLINES: dict[Lang, dict[str, str]] = {
    "en": {"hot": "🔥 Hot transfer incoming", "warm": "Warm transfer incoming", "cool": "New transfer incoming"},
    "zh": {"hot": "🔥 高价值转接即将接入", "warm": "意向客户转接即将接入", "cool": "新转接即将接入"},
}
BAND_WORDS: dict[Lang, dict[str, str]] = {
    "en": {"hot": "hot", "warm": "warm", "cool": "cool"},
    "zh": {"hot": "热线索", "warm": "温线索", "cool": "冷线索"},
}
BAND_LEADS: dict[Lang, dict[str, str]] = {
    "en": {"hot": "Hot lead", "warm": "Warm lead", "cool": "Early-stage lead"},
    "zh": {"hot": "高价值线索", "warm": "意向线索", "cool": "待培育线索"},
}

# One "Label: value" line each, as in the seed's pre-transfer alert; a line without data is skipped.
ALERT_LINES: dict[Lang, tuple[Alternatives, ...]] = {
    "en": (
        ("Prospect: {who}",),
        ("Score: {score}/100 ({band})",),
        ("Context: {context}",),
        ("Sentiment: {sentiment}",),
        ("Transfer reason: {reason}",),
        ("Prospect's note: {notes}",),
    ),
    "zh": (
        ("潜在客户:{who}",),
        ("线索评分:{score}/100({band})",),
        ("上下文:{context}",),
        ("情绪:{sentiment}",),
        ("转接原因:{reason}",),
        ("客户补充:{notes}",),
    ),
}

ONE_LINER: dict[Lang, tuple[Alternatives, ...]] = {
    "en": (
        ("Incoming: {first} from {company}.", "Incoming: {first}.", "Incoming: a prospect from {company}.",
         "Incoming: a new prospect."),
        ("{scope}.",),
        ("{reason}.",),
        ("{band_lead}.",),
    ),
    "zh": (
        ("新转接:{company}的{first}。", "新转接:{first}。", "新转接:来自{company}的潜在客户。",
         "新转接:一位新的潜在客户。"),
        ("{scope}。",),
        ("{reason}。",),
        ("{band_lead}。",),
    ),
}

QUICK_SUMMARY: dict[Lang, tuple[Alternatives, ...]] = {
    "en": (
        ("{who} ({size}).", "{who}.", "New prospect, no details captured yet."),
        ("Wants {needs}; timeline: {timeline}.", "Wants {needs}.", "Timeline: {timeline}."),
        ("{band_lead} ({score}/100): {reason}.", "{band_lead} ({score}/100).", "{band_lead}: {reason}.",
         "{band_lead}."),
    ),
    "zh": (
        ("{who}({size})。", "{who}。", "新潜在客户,暂无详细信息。"),
        ("需求:{needs};时间线:{timeline}。", "需求:{needs}。", "时间线:{timeline}。"),
        ("{band_lead}({score}/100):{reason}。", "{band_lead}({score}/100)。", "{band_lead}:{reason}。",
         "{band_lead}。"),
    ),
}

OPENER: dict[Lang, tuple[Alternatives, ...]] = {
    "en": (
        ("{greet} I'm {rep_name}.", "{greet}"),
        ("{bot_name} filled me in on your conversation.", "I've read through your conversation so far."),
        (
            "It sounds like you're looking at {focus}{for_org}{aiming}. I'd love to help make that happen.",
            "Let's pick up right where you left off.",  # never "how can I help?": they would start over
        ),
    ),
    "zh": (
        ("{greet}我是{rep_name}。", "{greet}"),
        ("您与{bot_name}的对话我都已了解。", "您之前的对话我都已了解。"),
        ("听起来您正在{for_org}考虑{focus}{aiming}。我很乐意帮您实现这个目标。", "我们就从您刚才谈到的地方接着聊。"),
    ),
}

# Single list items for the checklist, talking points and things to avoid.
ITEMS: dict[Lang, dict[str, str]] = {
    "en": {
        "need": "{need} details",
        "concern": "{concern} (concern raised)",
        "decision": "Find out who else is involved in the decision",
        "timeline": "{timeline}: timeline feasibility",
        "next_step": "Next step: {step}",
        "prospect_note": "They asked you to know: {note}",
        "approach": "Recommended approach: {approach}",
        "pain": "Pain point: {pain}",
        "resonated": "What resonated: {notes}",
        "use_case": "Use case: {use_case}",
        "budget": "Budget: {budget}",
        "decision_maker": "You're talking to a decision maker",
        "entry_point": "Came in via: {entry_point}",
        "start_over": "Asking them to start over: you already have the full context",
        "brush_off": "Brushing off their concern: {concern}",
        "frustration": "A long pitch: they showed {level} frustration, so keep it short",
        "tone": "Jumping straight into a pitch: the tone so far was {tone}",
        "watch": "Watch out: {notes}",
    },
    "zh": {
        "need": "{need}的具体细节",
        "concern": "{concern}(客户曾提出顾虑)",
        "decision": "确认还有哪些人参与决策",
        "timeline": "{timeline}:时间线可行性",
        "next_step": "下一步:{step}",
        "prospect_note": "客户希望你了解:{note}",
        "approach": "建议策略:{approach}",
        "pain": "痛点:{pain}",
        "resonated": "打动客户的点:{notes}",
        "use_case": "使用场景:{use_case}",
        "budget": "预算:{budget}",
        "decision_maker": "对方是决策人",
        "entry_point": "来源:{entry_point}",
        "start_over": "让客户从头再讲一遍:你已掌握完整的上下文",
        "brush_off": "忽视客户的顾虑:{concern}",
        "frustration": "冗长的推销:客户表现出{level}程度的不满,请简明扼要",
        "tone": "直接开始推销:此前的对话氛围{tone}",
        "watch": "注意:{notes}",
    },
}

# Sentiment fields in words; "{level}" is a low / medium / high value of the package.
SENTIMENT_WORDS: dict[Lang, dict[str, str]] = {
    "en": {
        "positive": "positive", "neutral": "neutral", "negative": "negative", "mixed": "mixed",
        "low": "low", "medium": "medium", "high": "high",
        "intent": "{level} buying intent", "frustration": "{level} frustration",
    },
    "zh": {
        "positive": "积极", "neutral": "中立", "negative": "偏负面", "mixed": "好坏参半",
        "low": "低", "medium": "中等", "high": "高",
        "intent": "购买意向{level}", "frustration": "不满程度{level}",
    },
}

# The suggested next step: the first keyword found in the transfer reason wins, else buying intent.
NEXT_STEP_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("demo", ("demo", "演示")),
    ("trial", ("trial", "pilot", "试用")),
    ("contract", ("contract", "legal", "negotiat", "合同", "法务", "谈判")),
    ("proposal", ("pricing", "price", "quote", "proposal", "报价", "价格")),
)
NEXT_STEP_BY_INTENT: dict[str, str] = {"high": "meeting", "medium": "discovery", "low": "nurture"}
NEXT_STEPS: dict[Lang, dict[str, str]] = {
    "en": {
        "demo": "demo scheduling", "trial": "trial setup", "contract": "contract and legal review",
        "proposal": "pricing proposal", "meeting": "follow-up meeting", "discovery": "discovery call",
        "nurture": "agree on a follow-up",
    },
    "zh": {
        "demo": "安排演示", "trial": "开通试用", "contract": "合同与法务审核", "proposal": "报价方案",
        "meeting": "预约后续会议", "discovery": "需求沟通", "nurture": "约定后续跟进",
    },
}

LIST_JOINER: dict[Lang, str] = {"en": ", ", "zh": "、"}

# The offer's actions where the alert itself carries them (Slack): "{when}" is the expiry as the channel shows times.
OFFER_WORDS: dict[Lang, dict[str, str]] = {
    "en": {"accept": "Accept", "defer": "Defer to colleague", "anyone": "Whoever is free first",
           "callback": "Schedule callback: pick a day and time", "expires": "Expires {when}",
           "console": "Open in the console"},
    "zh": {"accept": "接受", "defer": "转交给同事", "anyone": "最先有空的同事", "callback": "预约回电:选择日期和时间",
           "expires": "{when}过期", "console": "在控制台中打开"},
}

# How an offer ended, as its alert is edited to say: by outcome, the first alternative whose fields are known.
OFFER_CLOSED: dict[Lang, dict[str, Alternatives]] = {
    "en": {
        "accepted": ("✅ Accepted by {rep}", "✅ Accepted"),
        "declined": ("Declined by {rep}, re-routed", "Declined, re-routed"),
        "deferred": ("↪️ Deferred to {colleague}", "↪️ Deferred by {rep}, re-routed", "↪️ Deferred, re-routed"),
        "callback": ("📞 Callback scheduled for {when}", "📞 Callback scheduled"),
        "expired": ("⌛ Expired, re-routed",),
        "withdrawn": ("The prospect left before anyone took over",),
    },
    "zh": {
        "accepted": ("✅ {rep}已接受", "✅ 已接受"),
        "declined": ("{rep}已拒绝,正在重新分配", "已拒绝,正在重新分配"),
        "deferred": ("↪️ 已转交给{colleague}", "↪️ {rep}已转交,正在重新分配", "↪️ 已转交,正在重新分配"),
        "callback": ("📞 已预约回电:{when}", "📞 已预约回电"),
        "expired": ("⌛ 已过期,正在重新分配",),
        "withdrawn": ("客户在有人接管前已离开",),
    },
}
