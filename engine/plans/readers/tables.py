"""What every plan reader shares: header words, row assembly, plan details.

The readers (:mod:`~engine.plans.readers.text_table`, :mod:`~engine.plans.readers.docx_table`,
:mod:`~engine.plans.readers.sheet`) only turn a file into a flat list of :data:`Block` — the
paragraphs and raw table rows in document order — and :func:`assemble` does the rest. One
path for all formats is what makes a DOCX and its text export import to the same measures:
a rule learned from one sample (a page-break fragment, a phantom empty cell, a heading
row) then helps every format.

Reading rules, each taken from the sample plans:

* **Columns are found by their meaning**, never by position: the samples put the
  deadline, the responsible and the expected result in different orders, other plans
  head them in other words or not at all (:mod:`engine.plans.readers.columns`: a
  vocabulary per column, then the cells below). A column nobody recognises becomes a
  :class:`Problem` (its text is not imported) instead of silently landing in some
  field; a column taken by other than its usual word is a note of the review.
* **Outline rows are sections**: a numbered row («2.») directly followed by its children
  («2.1.») is the heading of those children, even when it carries a date or a
  responsible (said in a note, and given to children without their own) — unless it has
  an expected result or decisions of its own; a row numbered «I.», «II.» is a section.
* The responsible cell keeps its **lines** (a Word cell's paragraphs, ``<p>``): each
  line is an entry of its own (:mod:`engine.plans.resolve`).
* A row whose **number cell is empty** continues the row above (a page break split it,
  or Word merged the number cell vertically): its cells are appended column by column. A
  lone lower-case fragment in the first cell (the converter lost the empty number cell)
  continues the title.
* A row whose **only non-empty cell is the first one** (or is bold) is a heading — a
  section of the plan — unless it starts with a lower-case letter (then it is a fragment).
* Repeated headers after a page break (the column titles again, or ``1 2 3 4 5``) are
  skipped and do not interrupt a row that continues on the next page.
* Converters leave **phantom empty cells** (004 has six cells under five titles): surplus
  empty cells are dropped from the right before cells are matched to columns.
* Several plans in one document (an order with two appendices) are recognised when two or
  more plan headings ("План …", "Программа …") each precede a table: every plan then
  becomes a top-level :class:`SourceSection` and the headings inside it its children.

Plan details (title, issuer, order, period, controller, abbreviations) come from the
paragraphs outside the tables, or from explicit ``key: value`` fields of the
spreadsheet template, which win.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from engine.core.errors import InputError
from engine.plans.readers.columns import FIELD_NAMES, Guess, by_content, column_field, describe
from engine.plans.readers.document import Problem, SourceDocument, SourceRow, SourceSection

# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Paragraph:
    """Text outside the tables; ``emphasis`` is bold or a heading style."""

    location: str
    text: str
    emphasis: bool = False


@dataclass(frozen=True)
class CellRow:
    """One table row exactly as the file has it (tags, phantom cells and all).

    ``new_table`` marks the first row of a table (DOCX) or of a run of tab-separated lines
    after prose (text): a table that starts like a signature or an approval stamp rather
    than a plan row is page layout and is read as paragraphs instead.
    ``after_break``: a page break (a blank line in a text export) precedes the row, so a
    row with an empty number cell is the rest of the row above. Word and spreadsheets
    have no such fragments; there an empty number cell is a problem unless
    ``merged_above`` says the number cell is merged with the one above.
    ``merged_above`` holds the indices of cells that continue a vertically merged cell:
    they carry the merged text, which a new measure inherits and a continuation ignores.
    """

    location: str
    cells: tuple[str, ...]
    new_table: bool = False
    after_break: bool = False
    merged_above: frozenset[int] = frozenset()


def word_table_row(
    table: int, row: int, texts: Sequence[str], merged: Iterable[int] = ()
) -> CellRow:
    """A row of a word processor's table ("таблица T, строка R"): Word and OpenDocument."""
    return CellRow(
        f"таблица {table}, строка {row}",
        tuple(texts),
        new_table=row == 1,
        merged_above=frozenset(merged),
    )


@dataclass(frozen=True)
class MetaField:
    """An explicit plan detail from the spreadsheet template (``Название: …``)."""

    location: str
    key: str  # as written; normalised by :func:`meta_key`
    value: str


Block = Paragraph | CellRow | MetaField

# --------------------------------------------------------------------------- text

_BLOCK_TAG = re.compile(r"</?(?:p|br|li|ul|ol|div|tr|td|th|h[1-6])\b[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"</?[a-z][a-z0-9]*\b[^>]*>", re.IGNORECASE)
_BOLD_TAG = re.compile(r"<(?:b|strong)\b", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def clean_lines(text: str) -> str:
    """Like :func:`clean`, but the cell's own lines (paragraphs, ``<p>``, ``<br>``) kept."""
    text = _BLOCK_TAG.sub("\n", text)
    lines = (clean(line) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def clean(text: str) -> str:
    """Tags stripped, entities decoded, whitespace collapsed: how every cell is compared.

    Block tags (``<p>``, ``<br>``) separate words, inline ones (``<b>``) do not, so
    ``…независимых</p> <p>оценочных…`` keeps its word boundary and ``<b>Задача</b>`` does
    not gain spaces.
    """
    text = _BLOCK_TAG.sub(" ", text)
    text = _ANY_TAG.sub("", text)
    text = html.unescape(text)
    return _SPACE.sub(" ", text).strip()


def _starts_lowercase(text: str) -> bool:
    """A fragment of a sentence, not the start of a heading or a measure."""
    for char in text:
        if char.isalnum():
            return char.islower()
    return False


def read_text_file(path: Path, expected: str) -> str:
    """The file's text, refusing what is not text with a message a person can act on.

    UTF-8 first; Windows-1251 (what Russian Word and Excel save by default) second.
    Binary content is recognised by control characters, which no plan contains — a
    Windows-1251 decoding alone would accept almost any bytes.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}); expected {expected}") from None
    if not raw.strip():
        raise InputError(f"{path}: the file is empty; expected {expected}")
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        control = sum(1 for c in text if ord(c) < 32 and c not in "\t\n\r\f")
        if control == 0 or control * 100 < len(text):
            return text
        break
    raise InputError(f"{path}: binary content, not a text file; expected {expected}")


# --------------------------------------------------------------------------- columns

_TEXT_FIELDS = ("title", "deadline", "responsible", "expected_result", "decisions", "control")
_NUMBER = re.compile(r"^(\d+(?:\s*\.\s*\d+)*)\s*[.)]?$")
_ROMAN_NUMBER = re.compile(r"^(?=[IVXІ])(?:X{0,3})(?:IX|IV|V?[IІ]{0,3})\s*\.?$")


def normalise_number(text: str) -> str | None:
    """``"1. 1"`` → ``"1.1"``, ``"1."`` → ``"1"``; None when the text is not a number."""
    match = _NUMBER.match(clean(text))
    return _SPACE.sub("", match.group(1)) if match else None


@dataclass(frozen=True)
class _Header:
    location: str
    fields: tuple[str | None, ...]
    texts: tuple[str, ...]


def _recognise_header(cells: Sequence[str], location: str) -> _Header | None:
    """A header row, or None for a data row.

    A title column, at least two recognised columns and more recognised than unknown
    cells: a measure that mentions "мероприятия" and "сроки" has a number instead.
    Without a title word, three known columns and exactly one other make that one the
    title (:mod:`engine.plans.readers.columns`).
    """
    texts = tuple(clean(cell) for cell in cells)
    fields = [column_field(text) for text in texts]
    if any(normalise_number(text) for text in texts):
        return None
    known = sum(1 for f in fields if f)
    others = [i for i, (f, text) in enumerate(zip(fields, texts, strict=True)) if text and not f]
    if "title" not in fields and known >= 3 and len(others) == 1:
        fields[others[0]] = "title"
        known, others = known + 1, []
    elif "title" not in fields and known >= 3 and not others and fields.count("section") == 1:
        fields[fields.index("section")] = "title"  # «Направления работы»: the only text column
    if "title" not in fields or len({f for f in fields if f}) < 2 or len(others) >= known:
        return None
    return _Header(location, tuple(fields), texts)


def is_header_row(cells: Sequence[str]) -> bool:
    """Whether a spreadsheet reader has reached the column titles (metadata ends there)."""
    return _recognise_header(cells, "") is not None


def _is_column_numbers(texts: Sequence[str]) -> bool:
    """The ``1 2 3 4 5`` row Word repeats under the header on every page."""
    filled = [text for text in texts if text]
    return len(filled) >= 2 and filled == [str(i) for i in range(1, len(filled) + 1)]


# --------------------------------------------------------------------------- metadata

_META_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("название", "наименование", "наименование плана", "план", "title"),
    "issuer": ("орган", "организация", "издатель", "утвердил", "issuer"),
    "order": ("приказ", "распоряжение", "постановление", "документ", "утвержден", "order"),
    "period": ("период", "срок реализации", "период реализации", "учебный год", "period"),
    "controller": ("контроль", "контролирующий", "контролирует", "controller"),
}


def meta_key(raw: str) -> str | None:
    """The plan detail a template key names (``"Название:"`` → ``"title"``), or None."""
    key = clean(raw).strip("#:= ").lower()
    return next((name for name, words in _META_KEYS.items() if key in words), None)


_MONTHS = {
    "января": 1, "февраля": 2, "марта": 3, "апреля": 4, "мая": 5, "июня": 6, "июля": 7,
    "августа": 8, "сентября": 9, "октября": 10, "ноября": 11, "декабря": 12,
}  # fmt: skip
#: Dates as orders write them: «15» сентября 2021 г., « 15 » сентября, «15» 09. 2021 г.,
#: 15.09.2021, 15 . 09 . 2021, 15.09.21, 2021-09-15.
_DATE = re.compile(
    r"(?<!\d)(?P<d>\d{1,2})\s*[»\"'”]?\s+(?P<month>" + "|".join(_MONTHS) + r")\s+(?P<y>\d{4})"
    r"|(?<![\d.])(?P<d2>\d{1,2})\s*(?:[»\"'”]\s*\.?|\.)\s*(?P<m2>\d{1,2})\s*\.\s*"
    r"(?P<y2>\d{4}|\d{2})(?![\d.])"
    r"|(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2})",
    re.IGNORECASE,
)
_ORDER_NUMBER = re.compile(r"№\s*(?P<n>[0-9A-Za-zА-Яа-яЁё][0-9A-Za-zА-Яа-яЁё/\-.]*)")
_ORDER_KIND = re.compile(r"^(?:распоряжение|приказ|постановление)\b", re.IGNORECASE)
_ORDER_INLINE = re.compile(
    r"(?:распоряжени|приказ|постановлени)\w*\b[^№]{0,120}?\bот\s+[^№]{6,40}?"
    r"\s*(?:г\.|года|г\b)?\s*№\s*\S+",
    re.IGNORECASE,
)
_SCHOOL_YEAR = re.compile(
    r"(?P<a>\d{4})\s*[-–—/]\s*(?P<b>\d{4})\s*(?:гг?\.?\s*)?(?:учебн\w*|уч\.)\s*(?:год\w*|гг?\.?)",
    re.IGNORECASE,
)
_YEARS = re.compile(r"(?P<a>\d{4})\s*[-–—]\s*(?P<b>\d{4})\s*(?:год\w*|гг?\.?)", re.IGNORECASE)
_ONE_YEAR = re.compile(r"(?<=\bна\s)(?P<a>\d{4})\s*(?:год\b|г\.)", re.IGNORECASE)
_ISO_PERIOD = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})$")
_PERIOD_LINE = re.compile(r"^(?:срок|период)\w*\s+(?:реализации|действия|исполнения)", re.I)
_CONTROL = re.compile(
    r"контроль\s+(?:за\s+)?(?:исполнени|выполнени|реализаци)\w*[^.]*?"
    r"(?:возложить|возлагаю|оставляю|остается|оставить)\s+(?P<who>.+)$",
    re.IGNORECASE,
)
_ABBREVIATION = re.compile(
    r"^(?P<abbr>[A-ZА-ЯЁІЇЄ][\wІЇЄії]{0,11}(?:\s+[A-ZА-ЯЁІЇЄ][\wІЇЄії]{0,11}){0,2})"
    r"\s*[–—-]\s+(?P<full>\S.*)$"
)
_NAME = r"(?:[А-ЯЁ]\.\s?[А-ЯЁ]\.\s?[А-ЯЁ][а-яё-]+|[А-ЯЁ][а-яё-]+\s+[А-ЯЁ]\.\s?[А-ЯЁ]\.)"
_PERSON = re.compile(r"^[_\s]*" + _NAME + r"$")
#: "Начальник отдела образования ______ А.Б. Смирнова": position and name on one line.
_SIGNATURE = re.compile(r"^(?P<position>[А-ЯЁ][^_]*?)[\s_]+(?P<name>" + _NAME + r")$")
_PLAN_HEADING = re.compile(
    r"^(?:план|программа|дорожная\s+карта|комплекс\s+мер)(?:\s|$)", re.IGNORECASE
)
_ORDER_TITLE = re.compile(
    r"^об\s+утверждении\s+(?P<what>плана|программы|дорожной\s+карты)\b(?P<rest>.*)$",
    re.IGNORECASE,
)
_APPROVAL = re.compile(r"^утвержда(?:ю|ем)\b|^утвержден[оаы]?$", re.IGNORECASE)
_BODY = re.compile(r"^(?:комитет|управление|министерство|департамент|отдел)\b", re.IGNORECASE)
_HEAD = re.compile(
    r"^(?:председатель|начальник|руководитель|директор|заведующий)\s+"
    r"(?P<body>комитета|управления|департамента|министерства|отдела)\b(?P<rest>.*)$",
    re.IGNORECASE,
)
_BODY_NOMINATIVE = {
    "комитета": "Комитет", "управления": "Управление", "департамента": "Департамент",
    "министерства": "Министерство", "отдела": "Отдел",
}  # fmt: skip


def parse_date(text: str) -> date | None:
    """The first date in ``text``: "27 августа 2020", "«20» сентября 2021", "27.08.2020",
    "«15» 09. 2021 г.", "15.09.21"."""
    for match in _DATE.finditer(text):
        try:
            if match["month"]:
                return date(int(match["y"]), _MONTHS[match["month"].lower()], int(match["d"]))
            if match["y2"]:
                year = int(match["y2"]) + (2000 if len(match["y2"]) == 2 else 0)
                return date(year, int(match["m2"]), int(match["d2"]))
            return date(int(match["y3"]), int(match["m3"]), int(match["d3"]))
        except ValueError:
            continue
    return None


def parse_period(text: str) -> tuple[str, tuple[date, date]] | None:
    """The plan period a phrase names, with the phrase as found.

    "2020-2021 учебный год" (any case form, "/" too) is a school year, 1 September to 31
    August; "2021-2022 годы" and "на 2021 год" are calendar years; the template also takes
    ``YYYY-MM-DD..YYYY-MM-DD``. Ranges longer than ten years are not periods.
    """
    iso = _ISO_PERIOD.match(text.strip())
    if iso:
        try:
            first, last = date.fromisoformat(iso[1]), date.fromisoformat(iso[2])
        except ValueError:
            return None
        return (text.strip(), (first, last)) if first <= last else None
    for pattern, school in ((_SCHOOL_YEAR, True), (_YEARS, False), (_ONE_YEAR, False)):
        match = pattern.search(text)
        if not match:
            continue
        first_year = int(match["a"])
        last_year = int(match["b"]) if "b" in match.groupdict() and match["b"] else first_year
        if school and last_year == first_year:
            continue
        if not 0 <= last_year - first_year <= 10:
            continue
        if school:
            return match[0], (date(first_year, 9, 1), date(last_year, 8, 31))
        return match[0], (date(first_year, 1, 1), date(last_year, 12, 31))
    return None


def parse_order(text: str) -> tuple[str, date | None] | None:
    """Order number and date from "от 27 августа 2020 года № 149" or "149 от 2020-08-27"."""
    number = _ORDER_NUMBER.search(text)
    day = parse_date(text)
    if number:
        return number["n"].rstrip("."), day
    bare = re.match(r"^\s*(?P<n>[0-9][\w/\-]*)\s+от\s", text)
    if bare and day:
        return bare["n"], day
    return None


def _issuer_from_letterhead(lines: Sequence[str]) -> str:
    """The body first, then whose body it is: "Комитет образования администрации …".

    A letterhead reads "Администрация / … района / КОМИТЕТ ОБРАЗОВАНИЯ"; the official
    name of the issuer puts the committee first and the administration in the genitive.
    """
    body_at = next((i for i, line in enumerate(lines) if line.isupper() or _BODY.match(line)), None)
    if body_at is None:
        return " ".join(lines)
    body = lines[body_at]
    if body.isupper() and "«" not in body and '"' not in body:
        body = body.capitalize()
    rest = " ".join(line for i, line in enumerate(lines) if i != body_at)
    if not rest:
        return body
    if re.match(r"^администрация\b", rest, re.IGNORECASE):
        return f"{body} администрации{rest[len('администрация') :]}"
    if rest.startswith(("«", '"')):  # "Муниципальное казённое учреждение «Отдел …»"
        return f"{body} {rest}"
    return f"{body}, {rest}"


def _issuer_from_position(position: str) -> str:
    """The body a head's position names: "Министр образования …" → "Министерство …"."""
    if re.match(r"^министр\s", position, re.IGNORECASE):
        return "Министерство" + position[len("министр") :]
    head = _HEAD.match(position)
    if head:
        return _BODY_NOMINATIVE[head["body"].lower()] + head["rest"]
    return position


# --------------------------------------------------------------------------- assembly


def _as_paragraphs(row: CellRow) -> list[Paragraph]:
    """Cells of a layout table, one paragraph per line (a stamp is one cell of lines)."""
    return [
        Paragraph(row.location, clean(line), emphasis=bool(_BOLD_TAG.search(cell)))
        for cell in row.cells
        for line in cell.splitlines()
        if clean(line)
    ]


def _outside_plan(row: CellRow, fields: Sequence[str | None]) -> bool:
    """A signature or stamp line in the table area, not a measure.

    Text in the first cell that is not a number, something else filled, and either
    nothing under the title ("Председатель комитета ⇥ ⇥ Р.Н. Криксин") or, for the first
    row of a new table, another number of columns than the plan table has.
    """
    texts = [clean(cell) for cell in row.cells]
    if sum(1 for text in texts if text) < 2 or not texts[0] or _is_column_numbers(texts):
        return False
    if normalise_number(texts[0]) is not None:
        return False
    if row.new_table and len(texts) != len(fields):
        return True
    title_at = fields.index("title")
    return title_at >= len(texts) or not texts[title_at]


def _normalise(blocks: Iterable[Block]) -> list[Block]:
    """Layout tables → paragraphs, paragraph text cleaned, split headings joined.

    Rows before the first header, signature lines and tables that start like one
    (approval stamps, signatures) are page layout: their cells are read as paragraphs so
    their text still yields the plan's details. A heading spread over several lines
    ("**ПЛАН**" / "**мероприятий, …**", or one Word paragraph per line) is joined while
    the next line starts in lower case.
    """
    out: list[Block] = []
    fields: tuple[str | None, ...] | None = None  # the columns of the last header
    layout = False
    for block in blocks:
        if isinstance(block, CellRow):
            header = _recognise_header(block.cells, block.location)
            if header is not None:
                fields, layout = header.fields, False
                out.append(block)
                continue
            if fields is not None:
                outside = _outside_plan(block, fields)
                if block.new_table:
                    layout = outside
                if not (layout or outside):
                    out.append(block)
                    continue
            paragraphs = _as_paragraphs(block)
        elif isinstance(block, Paragraph):
            paragraphs = [Paragraph(block.location, clean(block.text), block.emphasis)]
        else:
            out.append(block)
            continue
        for paragraph in paragraphs:
            if not paragraph.text:
                continue
            previous = out[-1] if out else None
            if (
                isinstance(previous, Paragraph)
                and (previous.emphasis or _PLAN_HEADING.match(previous.text))
                and paragraph.emphasis == previous.emphasis
                and _starts_lowercase(paragraph.text)
            ):
                joined = f"{previous.text} {paragraph.text}"
                out[-1] = Paragraph(previous.location, joined, previous.emphasis)
            else:
                out.append(paragraph)
    return out


def _paragraph_kind(paragraph: Paragraph) -> str:
    """One of: plan heading, order title, heading (a section candidate), prose."""
    text = paragraph.text
    if _ORDER_TITLE.match(text) or (paragraph.emphasis and text.lower().startswith("об ")):
        return "order"
    if _PLAN_HEADING.match(text) and (
        paragraph.emphasis or (len(text) <= 300 and not text.endswith((".", ";")))
    ):
        return "plan"
    if paragraph.emphasis:
        return "heading"
    return "prose"


@dataclass
class _Draft:
    """A measure being assembled; page-break fragments are appended to ``parts``."""

    location: str
    section: int | None
    number: str
    parts: dict[str, list[str]] = field(default_factory=lambda: {f: [] for f in _TEXT_FIELDS})


@dataclass(frozen=True)
class _Cell:
    text: str  # cleaned
    merged: bool  # continues a vertically merged cell (carries its text)
    bold: bool
    lines: str = ""  # cleaned, the cell's own line breaks kept (the responsible cell)


@dataclass(frozen=True)
class _Outline:
    """An open outline section: «2.» while «2.1.», «2.2.» follow."""

    number: str
    index: int  # in SourceDocument.sections
    parent: int | None  # the section that was current before it
    parts: dict[str, list[str]]  # the heading row's cells: dates and persons to pass on


@dataclass
class _Assembler:
    """The table state machine: current header, section, plan and the row still open."""

    doc: SourceDocument
    plan_starts: set[int]
    refined: dict[tuple[str, ...], tuple[str | None, ...]] = field(default_factory=dict)
    header: _Header | None = None
    drafts: list[_Draft] = field(default_factory=list)
    open: _Draft | int | None = None  # what a fragment continues: a measure or a heading
    pending: Paragraph | None = None  # a bold paragraph that becomes a section with its rows
    plan: int | None = None  # the current plan's section (documents with several plans)
    section: int | None = None
    broken: bool = False  # a page break came before the repeated header rows just skipped
    outline: list[_Outline] = field(default_factory=list)  # open outline sections

    def problem(self, location: str, field_name: str, message: str, text: str = "") -> None:
        self.doc.problems.append(Problem(location, field_name, message, text))

    def header_of(self, row: CellRow) -> _Header | None:
        """The row's header with the columns recognised by content (see :func:`assemble`)."""
        header = _recognise_header(row.cells, row.location)
        if header is None:
            return None
        return _Header(header.location, self.refined.get(header.texts, header.fields), header.texts)

    def add_section(self, location: str, title: str, parent: int | None) -> int:
        self.doc.sections.append(SourceSection(location, title.rstrip(":").strip(), parent))
        self.section = len(self.doc.sections) - 1
        return self.section

    def paragraph(self, index: int, paragraph: Paragraph) -> None:
        """Prose ends any open row; a bold line waits to see whether rows follow it."""
        self.open = None
        self.outline = []
        if index in self.plan_starts:
            self.plan = self.add_section(paragraph.location, paragraph.text, None)
            self.pending = None
        elif _paragraph_kind(paragraph) == "heading":
            self.pending = paragraph
        else:
            self.pending = None

    def row_section(self) -> int | None:
        if self.pending is not None:
            self.add_section(self.pending.location, self.pending.text, self.plan)
            self.pending = None
        return self.section

    def set_header(self, header: _Header) -> None:
        if self.header is not None and header.fields == self.header.fields:
            return  # repeated after a page break: a split row may continue below it
        self.header = header
        self.open = None
        seen: dict[str, str] = {}
        for text, name in zip(header.texts, header.fields, strict=True):
            if text and name is None:
                self.problem(
                    header.location,
                    "header",
                    f"Столбец «{text}» не распознан: его текст не импортируется. "
                    "Ожидаются столбцы: № п/п, Мероприятие, Сроки, Ответственный, "
                    "Ожидаемый результат, Управленческие решения, Контроль.",
                    text,
                )
            elif name and name in seen:
                self.problem(
                    header.location,
                    "header",
                    f"Столбцы «{seen[name]}» и «{text}» означают одно и то же: "
                    "их тексты объединены.",
                    text,
                )
            elif name:
                seen[name] = text

    def fit(self, row: CellRow) -> list[_Cell]:
        """Cells matched to the header's width: phantom empty cells dropped from the right."""
        assert self.header is not None
        width = len(self.header.fields)
        cells = [
            _Cell(clean(raw), i in row.merged_above, bool(_BOLD_TAG.search(raw)), clean_lines(raw))
            for i, raw in enumerate(row.cells)
        ]
        i = len(cells) - 1
        while len(cells) > width and i > 0:
            if not cells[i].text:
                del cells[i]
            i -= 1
        if len(cells) > width:
            surplus = [cell.text for cell in cells[width - 1 :]]
            self.problem(
                row.location,
                "cells",
                f"В строке {len(cells)} ячеек, а столбцов в заголовке {width}: "
                "текст лишних ячеек добавлен к последнему столбцу.",
                " | ".join(surplus[1:]),
            )
            joined = " ".join(surplus)
            cells[width - 1 :] = [_Cell(joined, False, False, joined)]
        return cells + [_Cell("", False, False)] * (width - len(cells))

    def values(self, cells: Sequence[_Cell], own: bool) -> list[str]:
        """Each cell's text for its field; ``own``: without what a merged cell repeats."""
        assert self.header is not None
        return [
            "" if own and cell.merged else cell.lines if name == "responsible" else cell.text
            for cell, name in zip(cells, self.header.fields, strict=True)
        ]

    def row(self, row: CellRow) -> None:
        after_break, self.broken = row.after_break or self.broken, False
        header = self.header_of(row)
        if header is not None:
            repeated = self.header is not None and header.fields == self.header.fields
            self.broken = after_break and repeated
            self.set_header(header)
            return
        if self.header is None:
            return
        cells = self.fit(row)
        if _is_column_numbers([cell.text for cell in cells]):
            self.broken = after_break
            return
        # a fragment ignores what a vertically merged cell repeats from above
        own = self.values(cells, own=True)
        filled = [i for i, text in enumerate(own) if text]
        if not filled:
            return
        fields = self.header.fields
        number_at = fields.index("number") if "number" in fields else None
        if len(filled) == 1 and (filled[0] == 0 or cells[filled[0]].bold):
            text = own[filled[0]]
            if not cells[filled[0]].bold and _starts_lowercase(text):
                self.fragment(row, text)
                return
            if filled[0] != number_at or normalise_number(text) is None:
                self.heading(row, text)
                return
        if number_at is not None and _ROMAN_NUMBER.match(own[number_at]):
            self.roman(row, own, number_at)
            return
        if number_at is None:
            # no number column: only a lower-case fragment after a page break continues
            if isinstance(self.open, _Draft) and after_break and _starts_lowercase(own[filled[0]]):
                self.append(self.open, own)
                return
            number = ""
        elif not own[number_at]:
            if isinstance(self.open, _Draft) and (after_break or cells[number_at].merged):
                self.append(self.open, own)
                return
            self.problem(
                row.location,
                "number",
                "Строка таблицы без номера мероприятия: импортирована без номера; "
                "проверьте, не продолжение ли это другой строки.",
                own[fields.index("title")],
            )
            number = ""
        else:
            normal = normalise_number(own[number_at])
            if normal is None:
                self.problem(
                    row.location,
                    "number",
                    f"Номер мероприятия «{own[number_at]}» не распознан: оставлен как написан.",
                    own[number_at],
                )
            number = normal if normal is not None else own[number_at]
        texts = self.values(cells, own=False)
        self.switch_section(row, texts)
        self.follow_outline(number)
        draft = _Draft(row.location, self.row_section(), number)
        self.append(draft, texts)
        self.inherit(draft)
        self.drafts.append(draft)
        self.open = draft

    def follow_outline(self, number: str) -> None:
        """«2.» followed by «2.1.»: the row above was the heading of an outline section.

        Unless it has an expected result or decisions of its own — then it is a measure
        and its sub-rows measures of their own. Its date and responsible, if any, are
        said in a note and go to the sub-rows that have none (:meth:`inherit`).
        """
        previous = self.drafts[-1] if self.drafts else None
        if (
            number
            and previous is not None
            and previous is self.open
            and previous.number
            and number.startswith(previous.number + ".")
            and not previous.parts["expected_result"]
            and not previous.parts["decisions"]
        ):
            self.drafts.pop()
            title = " ".join(previous.parts["title"])
            index = self.add_section(
                previous.location, f"{previous.number}. {title}".strip(), previous.section
            )
            self.outline.append(_Outline(previous.number, index, previous.section, previous.parts))
            self.dropped(previous.location, f"{previous.number}.", previous.parts)
        while self.outline and not number.startswith(self.outline[-1].number + "."):
            self.section = self.outline.pop().parent
        if self.outline:
            self.section = self.outline[-1].index

    def inherit(self, draft: _Draft) -> None:
        """A sub-row without a date or a responsible takes its outline section's."""
        for name in ("deadline", "responsible"):
            if draft.parts[name]:
                continue
            given = next((o.parts[name] for o in reversed(self.outline) if o.parts[name]), [])
            draft.parts[name].extend(given)

    def roman(self, row: CellRow, own: Sequence[str], number_at: int) -> None:
        """ "I." in the number column: a section of the plan, with the title beside it."""
        assert self.header is not None
        fields = self.header.fields
        title = " ".join(
            text for text, name in zip(own, fields, strict=True) if text and name == "title"
        )
        roman = own[number_at].rstrip(". ") + "."
        self.heading(row, f"{roman} {title}".strip())
        parts = {name: [text] for text, name in zip(own, fields, strict=True) if text and name}
        self.dropped(row.location, roman, parts)

    def dropped(self, location: str, number: str, parts: dict[str, list[str]]) -> None:
        """A section row's other cells, said in a note: they make no task of their own."""
        said = [
            f"{FIELD_NAMES[name]} «{' '.join(texts)}»"
            for name, texts in parts.items()
            if texts and name not in ("title", "number", "section")
        ]
        if said:
            self.doc.notes.append(
                Problem(
                    location,
                    "section",
                    f"Строка «{number}» прочитана как раздел (за ней идут её подпункты), "
                    f"отдельной задачи нет; её {', '.join(said)} — для подпунктов, у которых "
                    "нет своего.",
                )
            )

    def switch_section(self, row: CellRow, texts: Sequence[str]) -> None:
        """The template's "section" column: a new value starts a new section."""
        assert self.header is not None
        if "section" not in self.header.fields:
            return
        title = texts[self.header.fields.index("section")]
        current = self.doc.sections[self.section].title if self.section is not None else None
        if title and title != current:
            self.pending = None
            self.outline = []
            self.add_section(row.location, title, self.plan)

    def append(self, draft: _Draft, texts: Sequence[str]) -> None:
        assert self.header is not None
        for text, name in zip(texts, self.header.fields, strict=True):
            if text and name in draft.parts:
                draft.parts[name].append(text)

    def fragment(self, row: CellRow, text: str) -> None:
        """A lower-case piece alone in the first cell: the end of the row above."""
        if isinstance(self.open, _Draft):
            self.open.parts["title"].append(text)
        elif isinstance(self.open, int):
            old = self.doc.sections[self.open]
            self.doc.sections[self.open] = SourceSection(
                old.location, f"{old.title} {text}", old.parent
            )
        else:
            self.problem(
                row.location,
                "row",
                "Фрагмент текста без начала строки (не продолжает ни одно мероприятие): "
                "не импортирован.",
                text,
            )

    def heading(self, row: CellRow, text: str) -> None:
        self.pending = None
        self.outline = []
        self.open = self.add_section(row.location, text, self.plan)


def _find_order(texts: Sequence[str], doc: SourceDocument) -> int | None:
    """Order number and date; returns the index of the order's kind line, if any.

    Either a kind line ("РАСПОРЯЖЕНИЕ") with the date and number on the lines below it,
    or a sentence naming both ("утверждён приказом от 1 сентября 2023 г. № 57").
    """
    for i, text in enumerate(texts):
        if _ORDER_KIND.match(text) and len(text) <= 80:
            found = parse_order(" ".join(texts[i : i + 4]))
            at: int | None = i
        else:
            inline = _ORDER_INLINE.search(text)
            found = parse_order(text[inline.start() :]) if inline else None
            at = None
        if found and found[1] is not None:
            doc.order_number, doc.order_date = found
            return at
    return None


def _find_issuer(texts: Sequence[str], kind_at: int | None, doc: SourceDocument) -> None:
    """The letterhead above the order's kind line, or the head's position in the stamp.

    The approval stamp (УТВЕРЖДАЮ / Министр … / В.Г. Хлебникова / от «20» сентября 2021 г.)
    also dates the plan when there is no order: that date then becomes ``order_date``,
    the day the plan was adopted, with no order number.
    """
    if kind_at is not None and 0 < kind_at <= 8:
        doc.issuer = _issuer_from_letterhead(texts[:kind_at])
    stamp = next((i for i, text in enumerate(texts) if _APPROVAL.match(text)), None)
    if stamp is None:
        return
    position: list[str] = []
    signed = False
    for following in texts[stamp + 1 : stamp + 8]:
        day = parse_date(following)
        if day is not None:
            if doc.order_date is None and not re.search(r"№", following):
                doc.order_date = day
            continue
        if _PERSON.match(following):
            signed = True
            continue
        if signed or _PLAN_HEADING.match(following) or _ORDER_KIND.match(following):
            break
        if re.match(r"^(?:приказ|распоряжени|постановлени)", following, re.IGNORECASE):
            break
        position.append(following)
    if position and not doc.issuer:
        doc.issuer = _issuer_from_position(" ".join(position))


def _find_controller(texts: Sequence[str], doc: SourceDocument) -> None:
    """Who the order puts in control; for "оставляю за собой" that is the signer's position."""
    for at, text in enumerate(texts):
        match = _CONTROL.search(text)
        if not match:
            continue
        who = re.sub(r"^(?:на|за)\s+", "", match["who"].strip())
        if not re.search(r"\b[А-ЯЁ]\.$", who):
            who = who.rstrip(". ")
        if re.fullmatch(r"(?:за\s+)?собой", who, re.IGNORECASE):
            who = _signer(texts, at + 1) or "за собой"
        doc.controller_text = who
        return


def _signer(texts: Sequence[str], start: int) -> str | None:
    """Who signs the order below line ``start``: "position name", as the signature reads.

    The position and the name on one line ("Начальник отдела ____ А.Б. Смирнова"), or the
    name on a line of its own under the position.
    """
    for j in range(start, len(texts)):
        one_line = _SIGNATURE.match(texts[j])
        if one_line:
            return f"{one_line['position'].strip()} {one_line['name']}"
        if j > start and _PERSON.match(texts[j]) and not _PERSON.match(texts[j - 1]):
            return f"{texts[j - 1]} {texts[j].strip(' _')}"
    return None


def _find_abbreviations(units: Sequence[Block], doc: SourceDocument) -> None:
    """The lines "ОИВ – …" under "Перечень сокращений:", up to the first other line."""
    listing = False
    for unit in units:
        text = unit.text if isinstance(unit, Paragraph) else ""
        if re.search(r"сокращени", text, re.IGNORECASE) and len(text) <= 60:
            listing = True
            continue
        if not listing:
            continue
        match = _ABBREVIATION.match(text)
        if match is None or sum(1 for c in match["abbr"] if c.isupper()) < 2:
            listing = False
            continue
        doc.abbreviations[match["abbr"]] = match["full"].rstrip(";. ")


def _find_period(candidates: Iterable[str], doc: SourceDocument) -> None:
    for candidate in candidates:
        found = parse_period(candidate) if candidate else None
        if found:
            doc.period_text, doc.period = found
            return


def _find_title(units: Sequence[Block], plan_at: Sequence[int], several: bool) -> str:
    """The plan heading; for several plans the subject of the order that approves them.

    "Об утверждении плана мероприятий по … и …" names what both appendices are together,
    so "План мероприятий по … и …" is the document's title; each plan's own heading is its
    top-level section.
    """
    order_title = next(
        (u.text for u in units if isinstance(u, Paragraph) and _paragraph_kind(u) == "order"), ""
    )
    derived = _ORDER_TITLE.match(order_title)
    if derived and (several or not plan_at):
        what = _SPACE.sub(" ", derived["what"].lower())
        noun = {"плана": "План", "программы": "Программа"}.get(what, "Дорожная карта")
        return noun + derived["rest"]
    if plan_at:
        heading = units[plan_at[0]]
        assert isinstance(heading, Paragraph)
        return heading.text
    return order_title


def _apply_meta(fields: Sequence[MetaField], doc: SourceDocument) -> None:
    """The template's explicit details override what the prose suggested."""
    for meta in fields:
        key, value = meta_key(meta.key), clean(meta.value)
        if key is None:
            doc.problems.append(
                Problem(
                    meta.location,
                    "document",
                    f"Неизвестное поле «{meta.key}»: ожидаются Название, Орган, Приказ, "
                    "Период, Контроль.",
                    meta.value,
                )
            )
        elif key == "title":
            doc.title = value
        elif key == "issuer":
            doc.issuer = value
        elif key == "controller":
            doc.controller_text = value
        elif key == "order":
            order = parse_order(value)
            if order is None:
                doc.problems.append(
                    Problem(
                        meta.location,
                        "order",
                        "Не удалось прочитать номер и дату документа: ожидается "
                        "«№ 149 от 27.08.2020».",
                        value,
                    )
                )
            else:
                doc.order_number, doc.order_date = order
        elif key == "period":
            period = parse_period(value)
            if period is None:
                doc.problems.append(
                    Problem(
                        meta.location,
                        "period",
                        "Не удалось прочитать период: ожидается «2020-2021 учебный год» "
                        "или «2020-09-01..2021-08-31».",
                        value,
                    )
                )
            else:
                doc.period_text, doc.period = value, period[1]


def _refine_headers(
    units: Sequence[Block], doc: SourceDocument
) -> dict[tuple[str, ...], tuple[str | None, ...]]:
    """Columns whose header says nothing we know, recognised by the cells below them.

    Keyed by the header's texts (a header repeated after a page break is the same
    table). The review gets a note saying which column was taken for what whenever that
    was not the column's usual word; a column with text that stays unknown is a problem.
    """
    refined: dict[tuple[str, ...], tuple[str | None, ...]] = {}
    for index, unit in enumerate(units):
        if not isinstance(unit, CellRow):
            continue
        header = _recognise_header(unit.cells, unit.location)
        if header is None or header.texts in refined:
            continue
        rows: list[list[str]] = []
        for later in units[index + 1 : index + 80]:
            if not isinstance(later, CellRow):
                continue
            if _recognise_header(later.cells, later.location) is not None:
                break
            texts = [clean(cell) for cell in later.cells]
            if sum(1 for text in texts if text) >= 2 and not _is_column_numbers(texts):
                rows.append(texts)
        fields = list(header.fields)
        guesses: dict[int, Guess] = {}
        for i, name in enumerate(fields):
            if name is not None:
                continue
            column = [row[i] if i < len(row) else "" for row in rows]
            guess = by_content(column)
            if guess is not None and guess.field not in fields:
                fields[i], guesses[i] = guess.field, guess
            elif not header.texts[i] and sum(1 for text in column if text) >= 2:
                doc.problems.append(
                    Problem(
                        unit.location,
                        "header",
                        f"Столбец {i + 1} без заголовка не распознан ни по словам, ни по "
                        "содержанию: его текст не импортируется.",
                        " | ".join(text for text in column if text)[:200],
                    )
                )
        refined[header.texts] = tuple(fields)
        note = describe(header.texts, fields, guesses)
        if note is not None:
            doc.notes.append(Problem(unit.location, "header", note))
    return refined


def assemble(path: Path, blocks: Iterable[Block]) -> SourceDocument:
    """The neutral form of a document from its blocks; the one reading path of all formats.

    Raises InputError when the document has no plan table at all: then the file is not a
    plan (or not one we can read) and a list of problems would only hide that.
    """
    units = _normalise(blocks)
    doc = SourceDocument(source_name=path.name)

    # several plans: two or more plan headings, each followed by a table of its own
    plan_at = [
        i for i, u in enumerate(units) if isinstance(u, Paragraph) and _paragraph_kind(u) == "plan"
    ]
    with_table = []
    for n, start in enumerate(plan_at):
        end = plan_at[n + 1] if n + 1 < len(plan_at) else len(units)
        if any(
            isinstance(u, CellRow) and _recognise_header(u.cells, u.location)
            for u in units[start:end]
        ):
            with_table.append(start)
    several = len(with_table) >= 2

    prose = [u for u in units if isinstance(u, Paragraph)]
    texts = [p.text for p in prose]
    doc.title = _find_title(units, with_table or plan_at, several)
    kind_at = _find_order(texts, doc)
    _find_issuer(texts, kind_at, doc)
    _find_controller(texts, doc)
    _find_abbreviations(units, doc)
    _apply_meta([u for u in units if isinstance(u, MetaField)], doc)
    if doc.period is None:
        order_titles = [p.text for p in prose if _paragraph_kind(p) == "order"]
        period_lines = [t for t in texts if _PERIOD_LINE.match(t)]
        _find_period([doc.title, *order_titles, *period_lines], doc)

    refined = _refine_headers(units, doc)
    assembler = _Assembler(doc, set(with_table) if several else set(), refined)
    for index, unit in enumerate(units):
        if isinstance(unit, Paragraph):
            assembler.paragraph(index, unit)
        elif isinstance(unit, CellRow):
            assembler.row(unit)

    if assembler.header is None:
        raise InputError(
            f"{path}: no plan table found; expected a table whose header row names the "
            "columns (№ п/п, Мероприятие or Наименование, Сроки, Ответственный, ...)"
        )
    if not assembler.drafts:
        raise InputError(
            f"{path}: the plan table has no measures; expected numbered rows below its header row"
        )
    for draft in assembler.drafts:
        text = {name: " ".join(parts) for name, parts in draft.parts.items()}
        if not text["title"]:
            doc.problems.append(
                Problem(draft.location, "title", "У мероприятия нет текста.", draft.number)
            )
        doc.rows.append(
            SourceRow(
                location=draft.location,
                section=draft.section,
                number=draft.number,
                title=text["title"],
                deadline=text["deadline"],
                responsible=text["responsible"],
                expected_result=text["expected_result"],
                decisions=text["decisions"],
                control=text["control"],
            )
        )
    if not doc.title:
        doc.problems.append(
            Problem(
                "документ",
                "title",
                "Название плана не найдено: ожидается заголовок «План мероприятий …».",
            )
        )
    return doc
