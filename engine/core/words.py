"""Russian words that agree with numbers and kinds, for every person-facing sentence.

One place for «1 задача, 3 задачи, 5 задач» and for naming a thing in an error («задача
5 не найдена», «план 7 не найден»): the CLI, the letters and the web all use these, so a
form is fixed once.
"""

from __future__ import annotations


def plural_ru(count: int, one: str, few: str, many: str) -> str:
    """The noun form agreeing with ``count``: 1 день, 2 дня, 5 дней, 11 дней, 21 день."""
    tail = abs(count) % 100
    if 11 <= tail <= 14:
        return many
    tail %= 10
    if tail == 1:
        return one
    if 2 <= tail <= 4:
        return few
    return many


def count_ru(count: int, one: str, few: str, many: str) -> str:
    """«5 рабочих дней»: the number with its agreeing noun."""
    return f"{count} {plural_ru(count, one, few, many)}"


#: Noun forms (one, few, many) of the things the CLI counts.
TASKS = ("задача", "задачи", "задач")
STEPS = ("шаг", "шага", "шагов")
LETTERS = ("письмо", "письма", "писем")
ROWS = ("запись", "записи", "записей")
LINES = ("строка", "строки", "строк")  # of a file
WORKING_DAYS = ("рабочий день", "рабочих дня", "рабочих дней")
CALENDAR_DAYS = ("календарный день", "календарных дня", "календарных дней")
PEOPLE = ("человек", "человека", "человек")
SCHOOLS = ("школа", "школы", "школ")
PLANS = ("план", "плана", "планов")
EVENTS = ("событие", "события", "событий")
MEASURES = ("мероприятие", "мероприятия", "мероприятий")

#: What a lookup can miss, in the nominative, with the gender of «не найден(а/о)».
KINDS: dict[str, tuple[str, str]] = {
    "task": ("задача", "f"),
    "person": ("сотрудник", "m"),
    "plan": ("план", "m"),
    "measure": ("мероприятие", "n"),
    "school": ("школа", "f"),
    "event": ("событие", "n"),
    "ladder": ("лестница", "f"),
    "case": ("дело школы", "n"),
    "administrative measure": ("мера воздействия", "f"),
}
_NOT_FOUND = {"m": "не найден", "f": "не найдена", "n": "не найдено"}


def not_found(kind: str, ident: object) -> str:
    """«задача 5 не найдена», «план 7 не найден», «мероприятие 9 в плане 1 не найдено»."""
    noun, gender = KINDS.get(kind, (kind, "m"))
    return f"{noun} {ident!s} {_NOT_FOUND[gender]}"


#: Audit events that are not transitions of a workflow: the due date's history, a case
#: opened by a risk list, an administrative measure requested (through the gate or not).
AUDIT_EVENTS = {
    "deadline_request": "Запрошен перенос срока",
    "deadline_grant": "Срок перенесён",
    "deadline_refuse": "В переносе срока отказано",
    "open": "Дело открыто: школа в перечне",
    "request": "Запрошена мера воздействия",
    "override": "Запрошена мера воздействия В ОБХОД ПРАВИЛА (решение администратора)",
}

#: Workflow roles (workflows/measure.toml) as a sentence names them.
ROLE_NAMES = {
    "responsible": "ответственный исполнитель",
    "supervisor": "контролирующее лицо",
    "head": "председатель комитета",
    "admin": "администратор",
    "system": "система (автоматически)",
}


def initials(full_name: str) -> str:
    """«Иванова М.П.» from «Иванова Мария Петровна»: a name that needs no grammatical case
    in a list or a sentence; anything that is not «Фамилия Имя Отчество» stays as it is."""
    words = full_name.split()
    if len(words) in (2, 3) and all(w[:1].isupper() and w.isalpha() for w in words):
        return f"{words[0]} " + "".join(f"{w[0]}." for w in words[1:])
    return full_name.strip()
