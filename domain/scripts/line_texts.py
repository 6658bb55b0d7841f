"""What the bot says to the prospect, per language, as data (see render.py for the rules).

Known slots: rep_name, rep_first (the rep's first name, for a second mention), busy_rep (the rep's name while they
are with other customers), rep_title, rep_expertise,
team, first (prospect's first name), position,
wait, recovery, when, phone, email; and the phrases derived below from them.
"""

from __future__ import annotations

from domain.scripts.render import Alternatives, Lang

# Derived phrases: how to refer to the rep (gender neutral) and to a contact, with fallbacks.
PHRASES: dict[Lang, dict[str, Alternatives]] = {
    "en": {
        "rep": ("{rep_name}", "one of our specialists"),
        "Rep": ("{rep_name}", "One of our specialists"),
        "rep_intro": (
            "{rep_name} from our {team} team",
            "{rep_name}",
            "a specialist from our {team} team",
            "one of our specialists",
        ),
        "contact": ("{phone}", "{email}"),
    },
    "zh": {
        "rep": ("{rep_name}", "我们的一位专员"),
        "Rep": ("{rep_name}", "我们的一位专员"),
        "rep_intro": ("我们{team}团队的{rep_name}", "{rep_name}", "我们{team}团队的一位专员", "我们的一位专员"),
        "contact": ("{phone}", "{email}"),
    },
}

# After a failed transfer: the rep calls back. Shared by the apology for a technical failure ("failed") and the one
# for a rep who accepted but did not take over ("not_taken_over"), which names no cause it does not know.
_EN_CALLBACK: tuple[Alternatives, ...] = (
    ("{Rep} will call you directly within {recovery}.", "{Rep} will call you directly as soon as possible."),
    ("Is {phone} the best number to reach you?", "What's the best number to reach you?"),
)
_ZH_CALLBACK: tuple[Alternatives, ...] = (
    ("{Rep}会在{recovery}内直接致电您。", "{Rep}会尽快直接致电您。"),
    ("{phone}是联系您的最佳号码吗?", "请问联系您的最佳电话是多少?"),
)

SENTENCES: dict[Lang, dict[str, tuple[Alternatives, ...]]] = {
    "en": {
        "prepare": (
            ("Based on what you're looking for, I think {rep_intro} is the right person to help.",),
            (
                "{rep_first} is our {rep_title} and specializes in {rep_expertise}.",
                "{rep_first} specializes in {rep_expertise}.",
                "{rep_first} is our {rep_title}.",
                "They specialize in {rep_expertise}.",
            ),
            (
                "Before I bring {rep_first} in, is there anything else you'd like them to know?",
                "Before I connect you, is there anything else you'd like me to pass on?",
            ),
        ),
        "available": (
            ("Good news, {first}: {rep} is free right now.", "Good news: {rep} is free right now."),
            ("Let me connect you.",),
        ),
        "queued": (
            ("{busy_rep} is with another customer right now.", "Our team is helping other customers right now."),
            (
                "You're number {position} in line, and the wait should be about {wait}.",
                "You're number {position} in line.",
                "The wait should be about {wait}.",
            ),
            (
                "Would you like to wait, have {rep_first} call you back at a time that suits you, "
                "or get a follow-up by email?",
                "Would you like to wait, have us call you back at a time that suits you, "
                "or get a follow-up by email?",
            ),
        ),
        "queue_update": (
            (
                "Quick update: you're now number {position} in line, about {wait} to go.",
                "Quick update: you're now number {position} in line.",
                "Quick update: about {wait} to go.",
                "You're still in line. Thanks for your patience.",
            ),
        ),
        "callback_offered": (
            ("Happy to set up a call instead.",),
            (
                "What time suits you for {rep_name} to call, and on which number?",
                "What time suits you for a call, and on which number?",
            ),
        ),
        "callback_confirmed": (
            (
                "You're all set: {rep} will call you {when} on {phone}.",
                "You're all set: {rep} will call you {when}.",
                "You're all set: {rep} will call you on {phone} shortly.",
                "You're all set: {rep} will call you shortly.",
            ),
            ("They'll already have everything we discussed.",),
        ),
        "email_confirmed": (
            (
                "Done: {rep} will follow up at {email} with everything we discussed.",
                "Done: {rep} will follow up by email with everything we discussed.",
            ),
            ("You can expect it {when}.",),
        ),
        "after_hours": (
            (
                "Our {team} team isn't available right now, but I've captured everything we discussed.",
                "Our team isn't available right now, but I've captured everything we discussed.",
            ),
            ("{Rep} will reach out {when}.", "{Rep} will reach out as soon as the team is back."),
            ("Is email or phone better for you?",),
        ),
        "async_confirmed": (
            ("Thanks, {first}, you're all set.", "Thanks, you're all set."),
            (
                "{Rep} has the full context and will get in touch {when} at {contact}.",
                "{Rep} has the full context and will get in touch {when}.",
                "{Rep} has the full context and will get in touch soon at {contact}.",
                "{Rep} has the full context and will get in touch soon.",
            ),
        ),
        "connecting": (
            ("Connecting you now.",),
            ("{Rep} has the full context of our conversation, so you won't need to repeat anything.",),
        ),
        "rerouting": (
            ("The specialist I mentioned can't take this after all, so {rep_intro} will take it from here.",),
            ("They have the full context too, so there's no need to start over.",),
        ),
        "failed": (("I'm sorry, we're having a technical issue connecting you.",), *_EN_CALLBACK),
        "not_taken_over": (("I'm sorry, I couldn't get you connected just now.",), *_EN_CALLBACK),
        "connected": (
            ("You're now connected with {rep}.",),
            ("It was a pleasure chatting with you, {first}!", "It was a pleasure chatting with you!"),
        ),
        "closing": (
            ("Thanks for your time, {first}.", "Thanks for your time."),
            ("If anything else comes up, I'm right here.",),
        ),
    },
    "zh": {
        "prepare": (
            ("根据您的需求,我认为{rep_intro}最适合为您提供帮助。",),
            (
                "{rep_name}是我们的{rep_title},专注于{rep_expertise}。",
                "{rep_name}专注于{rep_expertise}。",
                "{rep_name}是我们的{rep_title}。",
                "这位专员专注于{rep_expertise}。",
            ),
            ("在为您转接之前,还有什么需要我转告{rep_name}的吗?", "在为您转接之前,还有什么需要我转告的吗?"),
        ),
        "available": (
            ("好消息,{first}:{rep}现在就有空。", "好消息:{rep}现在就有空。"),
            ("正在为您接通。",),
        ),
        "queued": (
            ("{busy_rep}正在服务其他客户。", "我们的团队正在服务其他客户。"),
            ("您目前排在第{position}位,预计等待约{wait}。", "您目前排在第{position}位。", "预计等待约{wait}。"),
            (
                "您希望继续等待、预约{rep_name}在您方便的时间回电,还是通过邮件跟进?",
                "您希望继续等待、预约我们在您方便的时间回电,还是通过邮件跟进?",
            ),
        ),
        "queue_update": (
            (
                "最新进度:您现在排在第{position}位,预计还需约{wait}。",
                "最新进度:您现在排在第{position}位。",
                "最新进度:预计还需约{wait}。",
                "您仍在队列中,感谢您的耐心等待。",
            ),
        ),
        "callback_offered": (
            ("没问题,我来为您安排回电。",),
            ("您希望{rep_name}在什么时间、拨打哪个号码联系您?", "您希望我们在什么时间、拨打哪个号码联系您?"),
        ),
        "callback_confirmed": (
            (
                "已为您安排好:{rep}将于{when}拨打{phone}与您联系。",
                "已为您安排好:{rep}将于{when}致电您。",
                "已为您安排好:{rep}将尽快拨打{phone}与您联系。",
                "已为您安排好:{rep}将尽快致电您。",
            ),
            ("我们的对话内容已全部同步给对方。",),
        ),
        "email_confirmed": (
            (
                "好的,{rep}将发送邮件至{email},跟进我们讨论的全部内容。",
                "好的,{rep}将通过邮件跟进我们讨论的全部内容。",
            ),
            ("预计{when}送达。",),
        ),
        "after_hours": (
            (
                "我们的{team}团队目前不在工作时间,但我已记录下我们讨论的全部内容。",
                "我们的团队目前不在工作时间,但我已记录下我们讨论的全部内容。",
            ),
            ("{Rep}会在{when}与您联系。", "{Rep}会在团队上班后第一时间与您联系。"),
            ("您更希望通过邮件还是电话联系?",),
        ),
        "async_confirmed": (
            ("谢谢{first},已为您安排妥当。", "谢谢,已为您安排妥当。"),
            (
                "{Rep}已掌握完整的上下文,将于{when}通过{contact}与您联系。",
                "{Rep}已掌握完整的上下文,将于{when}与您联系。",
                "{Rep}已掌握完整的上下文,将尽快通过{contact}与您联系。",
                "{Rep}已掌握完整的上下文,将尽快与您联系。",
            ),
        ),
        "connecting": (
            ("正在为您转接。",),
            ("{Rep}已了解我们的完整对话,您无需重复任何内容。",),
        ),
        "rerouting": (
            ("之前为您安排的专员暂时无法接待,接下来由{rep_intro}为您服务。",),
            ("对方同样掌握完整的上下文,您无需从头再说一遍。",),
        ),
        "failed": (("非常抱歉,转接时遇到了技术问题。",), *_ZH_CALLBACK),
        "not_taken_over": (("非常抱歉,刚才没能为您接通。",), *_ZH_CALLBACK),
        "connected": (
            ("您已与{rep}接通。",),
            ("很高兴与您交流,{first}!", "很高兴与您交流!"),
        ),
        "closing": (
            ("感谢您抽出时间,{first}。", "感谢您抽出时间。"),
            ("如果还有其他问题,随时在这里找我。",),
        ),
    },
}

# Relative and absolute times; "{when}" in SENTENCES is built from these.
TIME_WORDS: dict[Lang, dict[str, str]] = {
    "en": {
        "clock": "{hour12}:{minute:02d} {meridiem}",
        "today": "today at {clock}",
        "tomorrow": "tomorrow at {clock}",
        "weekday": "on {weekday} at {clock}",
        "date": "on {month_name} {day} at {clock}",
        "utc": "{when} (UTC)",
    },
    "zh": {
        "clock": "{hour}:{minute:02d}",
        "today": "今天{clock}",
        "tomorrow": "明天{clock}",
        "weekday": "{weekday}{clock}",
        "date": "{month}月{day}日{clock}",
        "utc": "{when}(UTC时间)",
    },
}
WEEKDAY_NAMES: dict[Lang, tuple[str, ...]] = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
}
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
MERIDIEM = ("AM", "PM")

# (singular, plural) of a number of minutes.
MINUTES: dict[Lang, tuple[str, str]] = {"en": ("{n} minute", "{n} minutes"), "zh": ("{n}分钟", "{n}分钟")}

# Team tags are English routing keys; common ones read better translated.
TEAM_NAMES: dict[Lang, dict[str, str]] = {
    "en": {"smb": "SMB", "emea": "EMEA", "apac": "APAC", "amer": "AMER", "latam": "LATAM", "dach": "DACH",
           "anz": "ANZ"},
    "zh": {
        "enterprise": "企业客户",
        "sales": "销售",
        "smb": "中小企业",
        "mid-market": "中型企业",
        "support": "客户支持",
        "partnerships": "合作伙伴",
    },
}
