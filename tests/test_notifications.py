"""Letters: every template renders in Russian, names the task, and carries its links."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from typing import Any

import pytest
from jinja2 import UndefinedError

from notifications.messages import Digest, DigestLine, TaskNotice
from notifications.render import (
    DIGEST_TEMPLATES,
    NOTICE_TEMPLATES,
    TEMPLATES,
    RenderedMessage,
    format_date_long,
    format_date_numeric,
    format_date_short,
    plural_ru,
    render,
    salutation,
    working_days,
)

DUE = date(2026, 11, 30)  # a Monday
HOSTILE_TITLE = "Анализ результатов ВПР <script>alert(1)</script> & выводы"
TASK_URL = "https://measures.example.org/tasks/7?from=mail&step=overdue"
REPORT_URL = "https://measures.example.org/l/7.report.c2lnbmVk"
LIST_URL = "https://measures.example.org/tasks?mine=1"
CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def make_notice(**changes: Any) -> TaskNotice:
    notice = TaskNotice(
        task_id=7,
        plan_title="План мероприятий по обеспечению объективности результатов ВПР",
        measure_number="2.3",
        measure_title=HOSTILE_TITLE,
        due=DUE,
        state_label="Выполняется",
        responsible_name="Иванова Мария Петровна",
        recipient_name="Иванова Мария Петровна",
        recipient_email="ivanova@example.org",
        committee_name="Комитет по образованию",
        step="overdue",
        links={"Открыть мероприятие": TASK_URL, "Представить отчёт": REPORT_URL},
        target="МБОУ «СОШ № 5»",
        expected_result="Аналитическая справка",
        supervisor_name="Петров Иван Сергеевич",
        days_left=2,
        days_overdue=3,
        days_waiting=4,
        reported_on=date(2026, 11, 24),
        report="Справка составлена и направлена в ОО.",
    )
    return dataclasses.replace(notice, **changes)


def make_line(number: str, days: int) -> DigestLine:
    return DigestLine(
        task_id=int(number.replace(".", "")),
        plan_title="Дорожная карта по повышению качества образования",
        measure_number=number,
        measure_title=HOSTILE_TITLE,
        due=DUE,
        state_label="Проверено",
        responsible_name="Иванова М. П.",
        url=f"https://measures.example.org/tasks/{number}?a=1&b=2",
        target="МБОУ «СОШ № 5»",
        working_days=days,
    )


def make_digest(**changes: Any) -> Digest:
    digest = Digest(
        recipient_name="Петров Иван Сергеевич",
        recipient_email="petrov@example.org",
        committee_name="Комитет по образованию",
        start=date(2026, 11, 23),
        end=date(2026, 11, 29),
        overdue=(make_line("1.1", 3),),
        due_soon=(make_line("1.2", 2),),
        awaiting_verification=(make_line("1.3", 5),),
        completed=(make_line("1.4", 0),),
        links={"Все мои мероприятия": LIST_URL},
    )
    return dataclasses.replace(digest, **changes)


def context_for(name: str) -> dict[str, object]:
    return {"notice": make_notice()} if name in NOTICE_TEMPLATES else {"digest": make_digest()}


def links_of(name: str) -> dict[str, str]:
    return dict(make_notice().links if name in NOTICE_TEMPLATES else make_digest().links)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_renders_a_russian_letter(name: str) -> None:
    letter = render(name, context_for(name))

    assert isinstance(letter, RenderedMessage)
    assert letter.subject.strip() == letter.subject
    assert CYRILLIC.search(letter.subject)
    assert "\n" not in letter.subject
    for body in (letter.text, letter.html):
        assert "Что нужно сделать:" in body
        assert "Комитет по образованию" in body
        assert "г.." not in body  # a long date ends in «г.»: no second full stop after it
    assert "г.</strong>." not in letter.html
    assert letter.html.startswith("<!DOCTYPE html>")
    assert f"<title>{letter.subject.split('«')[0]}" in letter.html


@pytest.mark.parametrize("name", sorted(NOTICE_TEMPLATES))
def test_task_letters_name_plan_measure_and_due_date(name: str) -> None:
    letter = render(name, {"notice": make_notice()})

    for body in (letter.text, letter.html):
        assert "План мероприятий по обеспечению объективности результатов ВПР" in body
        assert "№ 2.3" in body
        assert "30 ноября 2026 г." in body
        assert "Иванова Мария Петровна" in body
        assert "Уважаемая Мария Петровна!" in body
    assert HOSTILE_TITLE in letter.text
    assert "№ 2.3" in letter.subject


@pytest.mark.parametrize("name", sorted(DIGEST_TEMPLATES))
def test_digests_list_lines_with_short_russian_dates(name: str) -> None:
    letter = render(name, {"digest": make_digest()})

    for body in (letter.text, letter.html):
        assert "срок 30.11.2026 (пн)" in body
        assert "просрочено на 3 рабочих дня" in body
        assert "через 2 рабочих дня" in body
        assert "ожидает проверки 5 рабочих дней" in body
        assert "Уважаемый Иван Сергеевич!" in body
    for line in make_digest().overdue:
        assert line.url in letter.text
        assert f'href="{line.url.replace("&", "&amp;")}"' in letter.html


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_links_appear_in_text_and_as_html_anchors(name: str) -> None:
    letter = render(name, context_for(name))

    for label, url in links_of(name).items():
        assert f"{label}: {url}" in letter.text
        assert f'href="{url.replace("&", "&amp;")}"' in letter.html
        assert f">{label}</a>" in letter.html


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_html_escapes_measure_title(name: str) -> None:
    letter = render(name, context_for(name))

    assert "<script>" not in letter.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; выводы" in letter.html
    assert HOSTILE_TITLE in letter.text


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_missing_context_is_an_error(name: str) -> None:
    with pytest.raises(UndefinedError):
        render(name, {})


def test_notice_template_does_not_accept_a_digest() -> None:
    with pytest.raises(UndefinedError):
        render("overdue", {"digest": make_digest()})


def test_verification_letter_needs_the_report_date() -> None:
    with pytest.raises(TypeError, match="needs a date, got None"):
        render("verification_waiting", {"notice": make_notice(reported_on=None)})


def test_unknown_template_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown letter template 'overdu'"):
        render("overdu", {"notice": make_notice()})


def test_subjects_tell_the_letters_apart() -> None:
    subjects = {render(name, context_for(name)).subject for name in TEMPLATES}
    assert len(subjects) == len(TEMPLATES)


def test_long_measure_title_is_shortened_in_the_subject_only() -> None:
    title = "Организация и проведение " + "методических семинаров " * 10
    letter = render("overdue", {"notice": make_notice(measure_title=title)})

    assert "…»" in letter.subject
    assert len(letter.subject) < 140
    assert title.strip() in letter.text


def test_working_day_counts_agree_in_the_letters() -> None:
    one = render("overdue", {"notice": make_notice(days_overdue=1)})
    eleven = render("escalation_head", {"notice": make_notice(days_overdue=11)})

    assert "Просрочка составляет 1 рабочий день." in one.text
    assert "просрочено на 11 рабочих дней" in eleven.subject


def test_optional_fields_may_be_left_out() -> None:
    notice = make_notice(target="", expected_result="", supervisor_name="", report="")
    letter = render("escalation_head", {"notice": notice})

    assert "Организация:" not in letter.text
    assert "Ожидаемый результат" not in letter.html
    assert "Ответственный исполнитель (Иванова Мария Петровна) уведомлён" in letter.text


@pytest.mark.parametrize("name", sorted(DIGEST_TEMPLATES))
def test_empty_digest_says_so(name: str) -> None:
    digest = make_digest(overdue=(), due_soon=(), awaiting_verification=(), completed=())
    letter = render(name, {"digest": digest})

    assert digest.is_empty
    assert "нет" in letter.text
    assert "<ul" not in letter.html


def test_rendering_is_repeatable() -> None:
    assert render("reminder", context_for("reminder")) == render(
        "reminder", context_for("reminder")
    )


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "0 рабочих дней"),
        (1, "1 рабочий день"),
        (2, "2 рабочих дня"),
        (4, "4 рабочих дня"),
        (5, "5 рабочих дней"),
        (11, "11 рабочих дней"),
        (12, "12 рабочих дней"),
        (14, "14 рабочих дней"),
        (21, "21 рабочий день"),
        (22, "22 рабочих дня"),
        (25, "25 рабочих дней"),
        (101, "101 рабочий день"),
        (111, "111 рабочих дней"),
        (112, "112 рабочих дней"),
        (122, "122 рабочих дня"),
    ],
)
def test_working_days_plural(count: int, expected: str) -> None:
    assert working_days(count) == expected


def test_plural_picks_the_form_only() -> None:
    forms = ("задача", "задачи", "задач")
    assert [plural_ru(n, *forms) for n in (1, 3, 7, 13, 31, 1001)] == [
        "задача",
        "задачи",
        "задач",
        "задач",
        "задача",
        "задача",
    ]


def test_russian_dates() -> None:
    assert format_date_long(DUE) == "30 ноября 2026 г."
    assert format_date_long(date(2027, 1, 1)) == "1 января 2027 г."
    assert format_date_long(date(2027, 5, 9)) == "9 мая 2027 г."
    assert format_date_short(DUE) == "пн, 30.11.2026"
    assert format_date_short(date(2026, 12, 6)) == "вс, 06.12.2026"
    assert format_date_numeric(date(2027, 3, 8)) == "08.03.2027"


def test_salutation_follows_the_patronymic() -> None:
    assert salutation("Иванова Мария Петровна") == "Уважаемая Мария Петровна!"
    assert salutation("Петров Иван Сергеевич") == "Уважаемый Иван Сергеевич!"
    assert salutation("Мамедов Эльдар Рашид оглы") == "Здравствуйте, Мамедов Эльдар Рашид оглы!"
    assert salutation("МКУ «РМК»") == "Здравствуйте, МКУ «РМК»!"
    assert salutation("  ") == "Здравствуйте!"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/tasks/7", "ftp://example.org/x"])
def test_links_must_be_absolute_http(url: str) -> None:
    with pytest.raises(ValueError, match="not an absolute http"):
        make_notice(links={"Открыть": url})


def test_digest_period_must_not_run_backwards() -> None:
    with pytest.raises(ValueError, match="ends"):
        make_digest(start=date(2026, 11, 30), end=date(2026, 11, 29))


def _decision(**changes: Any) -> Any:
    from notifications.messages import DecisionLetter, DecisionLine

    fields: dict[str, Any] = {
        "measure_id": 3,
        "school": "МБОУ «СШ № 1»",
        "kind_label": "Внеплановая проверка",
        "risk_label": "признаки необъективности",
        "requested_by": "Лебедев П.А.",
        "requested_on": date(2026, 11, 25),
        "reason": "Сдвига нет <b>по математике</b>",
        "url": "https://measures.example.org/l/page/abc.def",
    }
    line = DecisionLine(**{**fields, **changes})
    return DecisionLetter("Петрова Анна Сергеевна", "petrova@example.org", "Комитет", line)


def test_the_decision_letter_in_both_parts() -> None:
    letter = render("decision_waiting", {"letter": _decision()})
    assert letter.subject == "Ожидает Вашего решения: внеплановая проверка — МБОУ «СШ № 1»"
    assert letter.text.startswith("Уважаемая Анна Сергеевна!")
    assert "Открыть меру воздействия: https://measures.example.org/l/page/abc.def" in letter.text
    assert "Сдвига нет <b>по математике</b>" in letter.text  # plain text: as written
    assert "Сдвига нет &lt;b&gt;по математике&lt;/b&gt;" in letter.html  # HTML: escaped
    assert 'href="https://measures.example.org/l/page/abc.def"' in letter.html
    assert "ОБХОД" not in letter.text
    override = render(
        "decision_waiting",
        {"letter": _decision(override=True, gate_reasons=("программа помощи не назначена",))},
    )
    assert override.subject.endswith("(в обход правила)")
    assert "Условия для мер воздействия не выполнены: программа помощи не назначена." in (
        override.text
    )
    with pytest.raises(ValueError, match="not an absolute http"):
        _decision(url="javascript:alert(1)")


def test_a_digest_with_only_a_decision_is_sent_and_lists_it() -> None:
    from notifications.messages import Digest

    decision = _decision().decision
    digest = Digest("Петрова Анна Сергеевна", "p@example.org", "Комитет", date(2026, 11, 25),
                    date(2026, 11, 25), decisions=(decision,))  # fmt: skip
    assert not digest.is_empty
    letter = render("daily_digest", {"digest": digest})
    assert letter.subject.endswith("ожидают проверки — 0, ожидают решения — 1")
    assert "Ожидают Вашего решения — меры административного воздействия (1):" in letter.text
    assert "Утвердите или отклоните запрошенные меры воздействия" in letter.text
    assert 'href="https://measures.example.org/l/page/abc.def"' in letter.html
