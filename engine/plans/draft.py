"""A starter directory from a plan: every name the import could not place, as draft rows.

A committee importing its first plan has no directory yet, so every responsible is
unresolved. ``measures import PLAN --people-draft people.csv`` writes each unresolved
entry of the responsible cells (and the controller) once, as a row of the people CSV
(``engine.directory.people``): a person named with initials gets the name as written
and the words around it as the position; an abbreviation or an organisation goes to
``organisation`` (with the plan's own expansion of an abbreviation); anything else is a
position. The text as the plan wrote it is always an alias, so once the committee fills
in the names and e-mails and imports the file, the same plan resolves to these rows.
Emails are blank: they are the committee's to fill in.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from slugify import slugify

from engine.directory.people import COLUMNS
from engine.plans.importing import Review
from engine.plans.resolve import normalise, person_mentions, same_surname

_POSITION = re.compile(
    r"^(?:директор|заместител|руководител|специалист|начальник|председател|методист|учител"
    r"|педагог|главн|ведущ|инспектор|эксперт|заведующ|консультант|координатор)",
    re.IGNORECASE,
)
_ORGANISATION = re.compile(
    r"(?<![а-яё])(?:мку|мбу|мбоу|маоу|мкоу|моу|гбу|гку|гау|кгбу|кгку|кгау|ано|комитет|управлени"
    r"|отдел|министерств|департамент|центр|кабинет|служб|объединени|организаци|учреждени"
    r"|институт)",
    re.IGNORECASE,
)
_ABBREVIATION = re.compile(r"^[А-ЯЁA-Z][А-ЯЁA-Z\s\-]{1,11}$")


@dataclass(frozen=True)
class DraftPerson:
    key: str
    name: str
    position: str
    organisation: str
    aliases: tuple[str, ...]

    def row(self) -> dict[str, str]:
        return {
            "key": self.key,
            "name": self.name,
            "position": self.position,
            "organisation": self.organisation,
            "email": "",
            "roles": "",
            "aliases": "; ".join(self.aliases),
            "deputies": "",
        }


def _draft(entry: str, abbreviations: dict[str, str]) -> tuple[str, str, str, tuple[str, ...]]:
    """(name, position, organisation, identity) an entry of a responsible cell stands for.

    The identity is what makes two entries one row: a person's surname and initials
    («А.Б.Смирнова» and «Смирновой А.Б.» are one person), otherwise the text.
    """
    mentions = person_mentions(entry)
    if len(mentions) == 1:
        mention = mentions[0]
        name = entry[mention.start : mention.end].strip()
        rest = (entry[: mention.start] + " " + entry[mention.end :]).strip(" ,;:-–—")
        person: tuple[str, ...] = ("person", mention.surname, mention.first, mention.middle)
        return name, " ".join(rest.split()), "", person
    identity: tuple[str, ...] = (normalise(entry),)
    if entry in abbreviations:
        return "", "", abbreviations[entry], identity
    if _POSITION.match(entry):
        return "", entry, "", identity
    if _ABBREVIATION.match(entry) or _ORGANISATION.search(entry):
        return "", "", entry, identity
    return "", entry, "", identity


def _same(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """One row for both: the same text, or the same person in another grammatical case."""
    if a[0] == "person" and b[0] == "person":
        return a[2:] == b[2:] and same_surname(a[1], b[1])
    return a == b


def people_draft(review: Review) -> list[DraftPerson]:
    """Every unresolved responsible entry and controller of the review, once each."""
    abbreviations = review.document.abbreviations
    entries = [e for m in review.measures for e in m.unresolved] + review.controller_unresolved
    found: dict[tuple[str, ...], DraftPerson] = {}
    keys: set[str] = set()
    for entry in entries:
        name, position, organisation, identity = _draft(entry, abbreviations)
        identity = next((i for i in found if _same(i, identity)), identity)
        known = found.get(identity)
        if known is not None:
            aliases = tuple(dict.fromkeys((*known.aliases, entry)))
            found[identity] = DraftPerson(
                known.key,
                known.name,
                known.position or position,
                known.organisation or organisation,
                aliases,
            )
            continue
        base = slugify(name or organisation or position, max_length=56) or "person"
        key, n = base, 1
        while key in keys:
            n += 1
            key = f"{base}-{n}"
        keys.add(key)
        found[identity] = DraftPerson(key, name, position, organisation, (entry,))
    return list(found.values())


def draft_csv(drafts: list[DraftPerson]) -> str:
    """The people CSV (UTF-8, comma-separated, header row) of the drafts."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for draft in drafts:
        writer.writerow(draft.row())
    return out.getvalue()
