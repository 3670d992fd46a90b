"""Russian letters from templates: a subject, a plain-text part and an HTML part.

Each letter is a pair of templates, ``NAME.txt`` and ``NAME.html``. The subject is the
``{% block subject %}`` of the ``.txt`` template: it is written once, next to the text it
summarises, and rendered on its own (whitespace collapsed to one line, so a template can
never put a line break into the header). Both bodies then get the rendered ``subject``.

Undefined variables are errors (``StrictUndefined``): a letter with a silently empty due
date is worse than a failed render that the tests catch. The HTML part is autoescaped; the
text part is not, since it is not markup.

Task templates take ``notice`` (:class:`~notifications.messages.TaskNotice`); digest
templates take ``digest`` (:class:`~notifications.messages.Digest`); personal and
decision letters take ``letter``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)

from engine.core.words import WORKING_DAYS, count_ru, plural_ru

#: Templates about one task; the context is ``{"notice": TaskNotice}``.
NOTICE_TEMPLATES = frozenset(
    {
        "reminder",
        "due_today",
        "overdue",
        "escalation_supervisor",
        "escalation_head",
        "verification_waiting",
    }
)
#: Periodic summaries; the context is ``{"digest": Digest}``.
DIGEST_TEMPLATES = frozenset({"daily_digest", "weekly_summary"})
#: What ladders may send.
TEMPLATES = NOTICE_TEMPLATES | DIGEST_TEMPLATES
#: Letters to one person outside the ladders, the sign-in link and ``measures mail
#: test``; the context is ``{"letter": PersonalLetter}``.
PERSONAL_TEMPLATES = frozenset({"signin", "mail_test"})
#: A case decision waits for the recipient (an administrative measure to approve); the
#: context is ``{"letter": DecisionLetter}``.
DECISION_TEMPLATES = frozenset({"decision_waiting"})

_MONTHS_GENITIVE = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
_WEEKDAYS_SHORT = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
_WEEKDAYS = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")


@dataclass(frozen=True)
class RenderedMessage:
    """A letter in words, not yet an email: the outbox stores it, build_message wraps it."""

    subject: str
    text: str
    html: str


def _as_date(value: date, filter_name: str) -> date:
    # None reaches a filter when a notice lacks an optional date the template needs;
    # StrictUndefined cannot see that, so say which date is missing here.
    if not isinstance(value, date):
        raise TypeError(f"{filter_name} needs a date, got {value!r}")
    return value


def format_date_long(value: date) -> str:
    """«30 ноября 2026 г.» — the form of official letters."""
    day = _as_date(value, "format_date_long")
    return f"{day.day} {_MONTHS_GENITIVE[day.month - 1]} {day.year} г."


def format_date_short(value: date) -> str:
    """«пн, 30.11.2026» — for lists, where the weekday helps to plan the week."""
    day = _as_date(value, "format_date_short")
    return f"{_WEEKDAYS_SHORT[day.weekday()]}, {day:%d.%m.%Y}"


def format_date_day(value: date) -> str:
    """«28.02.2027 (вс)» — a deadline in a list, where the weekday shows a day off."""
    day = _as_date(value, "format_date_day")
    return f"{day:%d.%m.%Y} ({_WEEKDAYS_SHORT[day.weekday()]})"


def format_weekday(value: date) -> str:
    """«воскресенье»."""
    return _WEEKDAYS[_as_date(value, "format_weekday").weekday()]


def format_date_numeric(value: date) -> str:
    """«30.11.2026» — for subjects, where space is short."""
    return f"{_as_date(value, 'format_date_numeric'):%d.%m.%Y}"


def working_days(count: int) -> str:
    """«1 рабочий день», «2 рабочих дня», «5 рабочих дней» (nominative/accusative)."""
    return count_ru(count, *WORKING_DAYS)


_PATRONYMIC_FEMALE = re.compile(r"(вна|чна|кызы)$", re.IGNORECASE)
_PATRONYMIC_MALE = re.compile(r"(вич|ич|оглы)$", re.IGNORECASE)


def salutation(full_name: str) -> str:
    """«Уважаемая Мария Петровна!» from «Иванова Мария Петровна».

    Official Russian letters address a person by first name and patronymic, and the
    patronymic tells which form of «уважаемый» agrees. When the name is not
    «Фамилия Имя Отчество» (a position, an organisation) there is no safe guess, so the
    neutral «Здравствуйте» is used.
    """
    words = full_name.split()
    if len(words) == 3:
        name_and_patronymic = f"{words[1]} {words[2]}"
        if _PATRONYMIC_FEMALE.search(words[2]):
            return f"Уважаемая {name_and_patronymic}!"
        if _PATRONYMIC_MALE.search(words[2]):
            return f"Уважаемый {name_and_patronymic}!"
    return f"Здравствуйте, {full_name.strip()}!" if full_name.strip() else "Здравствуйте!"


@cache
def environment(override: str | None = None) -> Environment:
    """The template environment (one per override folder: compiled templates are cached).

    ``override``: the committee's folder (``mail.templates_dir``); a file there replaces
    the shipped template of the same name — a whole letter, or a shared part such as
    ``_base.html`` with the committee's letterhead.
    """
    shipped = PackageLoader("notifications", "templates")
    loader: BaseLoader = (
        ChoiceLoader([FileSystemLoader(override), shipped]) if override else shipped
    )
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # A committee's own files may change while the daemon runs, so with an override
        # folder every use checks them; the shipped ones cannot, and checking their
        # dates cost 6-9 % of a sweep (three stats per letter).
        auto_reload=bool(override),
    )
    env.filters.update(
        date_long=format_date_long,
        date_short=format_date_short,
        date_numeric=format_date_numeric,
        date_day=format_date_day,
        weekday=format_weekday,
        plural=plural_ru,
        count=count_ru,
        working_days=working_days,
        salutation=salutation,
    )
    return env


def render(
    template_name: str, context: Mapping[str, object], override: str | None = None
) -> RenderedMessage:
    """Render the letter ``template_name`` (one of :data:`TEMPLATES`) with ``context``;
    ``override`` is the folder of the committee's own templates, if any."""
    if template_name not in TEMPLATES | PERSONAL_TEMPLATES | DECISION_TEMPLATES:
        known = ", ".join(sorted(TEMPLATES | PERSONAL_TEMPLATES | DECISION_TEMPLATES))
        raise ValueError(f"unknown letter template {template_name!r}; known: {known}")
    env = environment(override or None)
    text_template = env.get_template(f"{template_name}.txt")
    subject_block = text_template.blocks.get("subject")
    if subject_block is None:
        raise LookupError(f"{template_name}.txt has no {{% block subject %}}")
    subject = " ".join("".join(subject_block(text_template.new_context(dict(context)))).split())
    if not subject:
        raise ValueError(f"{template_name}.txt rendered an empty subject")
    full = {**context, "subject": subject}
    text = text_template.render(full)
    html = env.get_template(f"{template_name}.html").render(full)
    return RenderedMessage(subject=subject, text=text, html=html)
