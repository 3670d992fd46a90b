"""Who is acting: sign-in by emailed link, sessions, API tokens, links from letters.

The web door calls these; they hold the rules, so the API and the pages cannot differ:

* a sign-in link is asked for by email address or login, sent through the outbox like
  every letter, valid ``web.signin_minutes`` and usable once (``LinkUse``);
* a session is a signed cookie naming the person, its expiry and the CSRF token of its
  forms; an API token is the same kind of signed claim, for ``Authorization: Bearer``;
* a link from a letter (engine.escalation.sweep) names task, action, person, expiry and
  the task's version; :func:`check_link` says whether it may still be used and why not;
* a page link (:func:`page_url`: a case decision's approval page, in a letter and the
  digest) names a person, a path and an expiry: opened, it signs that person in and
  shows the page, where the decision is a form like any other.

Every refusal is a :class:`LinkRefused` with a Russian sentence for the page.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session, col, func, or_, select

from engine.app import App
from engine.core.db import session_scope
from engine.core.errors import MeasuresError
from engine.core.links import BadLink, Claim, Purpose, new_nonce
from engine.core.models import LinkUse, Person, Task, pk
from engine.escalation.sweep import queue_message
from notifications import PersonalLetter

log = logging.getLogger(__name__)

Why = Literal["forged", "expired", "used", "changed", "inactive", "revoked"]

_EXPLAIN: dict[Why, str] = {
    "forged": "Ссылка повреждена или не была выдана системой: возможно, она скопирована "
    "не полностью.",
    "expired": "Срок действия ссылки истёк.",
    "used": "Эта ссылка уже была использована: каждое действие по ссылке из письма "
    "выполняется один раз.",
    "changed": "После отправки письма задача изменилась (её уже обработали), поэтому "
    "действие по этой ссылке больше не выполняется.",
    "inactive": "Пользователь, которому адресована ссылка, отключён в справочнике.",
    "revoked": "Ссылка отозвана: её владелец получил новую. Новая ссылка — на странице "
    "«На исполнение».",
}


class LinkRefused(MeasuresError):
    """A link that cannot be used now; ``str()`` explains why, in Russian."""

    def __init__(self, why: Why) -> None:
        super().__init__(_EXPLAIN[why])
        self.why = why


class Visitor:
    """The person behind a request (None: anonymous) and their session's CSRF token.

    A session's person is read from the database on first use, not when the cookie is
    checked: the web's middleware checks the signature on the event loop, and the
    handler that needs the person reads it in its own thread, so a request crosses into
    the thread pool once (two crossings per request cost a fifth of a page's time under
    load, bench/web.py). A person since deactivated reads as None: anonymous.
    """

    __slots__ = ("_app", "_person", "_person_id", "csrf", "expires")

    def __init__(
        self,
        person: Person | None,
        csrf: str,
        expires: datetime | None = None,
        *,
        app: App | None = None,
        person_id: int = 0,
    ) -> None:
        self._person = person
        self._app = app
        self._person_id = person_id
        self.csrf = csrf
        self.expires = expires

    @property
    def person(self) -> Person | None:
        if self._app is not None:
            with self._app.reading() as session:
                self._person = _active(session, self._person_id)
            self._app = None
        return self._person

    @property
    def roles(self) -> set[str]:
        person = self.person
        return set(person.roles) if person else set()


def read_claim(app: App, purpose: Purpose, token: str) -> Claim:
    try:
        return app.signer.read(purpose, token, app.clock.now())
    except BadLink as exc:
        raise LinkRefused(exc.reason) from None


def _active(session: Session, person_id: int) -> Person | None:
    person = session.get(Person, person_id)
    return person if person is not None and person.active else None


# -- sessions and API tokens -----------------------------------------------------------


def new_session(app: App, person: Person | None) -> tuple[str, Visitor]:
    """A session cookie for ``person`` (None: an anonymous visitor with a CSRF token)."""
    hours = app.config.settings.web.session_hours
    expires = app.clock.now() + timedelta(hours=hours)
    csrf = secrets.token_urlsafe(24)
    claim = Claim(person_id=pk(person) if person else 0, expires=expires, extra=csrf)
    return app.signer.make("session", claim), Visitor(person, csrf, expires)


def visitor(app: App, cookie: str | None) -> Visitor | None:
    """The visitor a session cookie names; None when there is no usable cookie.

    Only the signature and expiry are checked here (no database): the person is read
    when first asked for (:class:`Visitor`)."""
    if not cookie:
        return None
    try:
        claim = app.signer.read("session", cookie, app.clock.now())
    except BadLink:
        return None
    if not claim.extra:
        return None
    if claim.person_id == 0:
        return Visitor(None, claim.extra, claim.expires)
    return Visitor(None, claim.extra, claim.expires, app=app, person_id=claim.person_id)


def api_token(app: App, ident: str, days: int) -> str:
    """A bearer token for the JSON API acting as this person (``measures web token``)."""
    from engine.directory.people import find_person

    with session_scope(app.ready_engine()) as session:
        person = find_person(session, ident)
    claim = Claim(person_id=pk(person), expires=app.clock.now() + timedelta(days=days))
    return app.signer.make("api", claim)


def bearer(app: App, token: str) -> Person | None:
    try:
        claim = app.signer.read("api", token, app.clock.now())
    except BadLink:
        return None
    with app.reading() as session:
        return _active(session, claim.person_id)


# -- sign-in by email ------------------------------------------------------------------


def signin_url(app: App, person: Person) -> str:
    """A one-time sign-in link for ``person`` (also printed by ``./dev start``)."""
    minutes = app.config.settings.web.signin_minutes
    claim = Claim(
        person_id=pk(person),
        expires=app.clock.now() + timedelta(minutes=minutes),
        nonce=new_nonce(),
    )
    return f"{app.base_url}/signin/{app.signer.make('signin', claim)}"


def request_signin(app: App, ident: str) -> bool:
    """Queue a sign-in letter to the person with this email or login.

    Returns whether a letter was queued; the page says the same thing either way, so
    nobody learns which addresses are known.
    """
    ident = ident.strip()
    if not ident or len(ident) > 200:
        return False
    now = app.clock.now()
    with session_scope(app.ready_engine()) as session:
        person = session.exec(
            select(Person).where(
                or_(col(Person.key) == ident, func.lower(col(Person.email)) == ident.lower()),
                Person.active,
            )
        ).first()
        if person is None or not person.email:
            log.info("sign-in asked for unknown or mail-less %r", ident)
            return False
        url = signin_url(app, person)
        letter = PersonalLetter(
            recipient_name=person.name,
            recipient_email=person.email,
            committee_name=app.config.settings.committee.name,
            url=url,
            minutes=app.config.settings.web.signin_minutes,
        )
        queue_message(
            session,
            app.escalator,
            dedupe=f"signin:{url.rsplit('.', 1)[-1][:40]}",
            template="signin",
            context={"letter": letter},
            person=person,
            now=now,
            not_before=now,
        )
        session.commit()
    log.info("sign-in link queued for %s", person.key)
    return True


def signin_person(app: App, token: str) -> Person:
    """Who a sign-in link is for, if it can still be used (GET: the confirm page)."""
    claim = read_claim(app, "signin", token)
    with session_scope(app.ready_engine()) as session:
        return _usable(session, claim)


def redeem_signin(app: App, token: str) -> Person:
    """Use a sign-in link (POST from the confirm page): once."""
    claim = read_claim(app, "signin", token)
    with session_scope(app.ready_engine()) as session:
        person = _usable(session, claim)
        session.add(
            LinkUse(nonce=claim.nonce, kind="signin", person_id=pk(person), used_at=app.clock.now())
        )
        _commit_once(session)
    log.info("%s signed in by emailed link", person.key)
    return person


def _usable(session: Session, claim: Claim) -> Person:
    if claim.nonce and session.get(LinkUse, claim.nonce) is not None:
        raise LinkRefused("used")
    person = _active(session, claim.person_id)
    if person is None:
        raise LinkRefused("inactive")
    return person


def _commit_once(session: Session) -> None:
    from sqlalchemy.exc import IntegrityError

    try:
        session.commit()
    except IntegrityError:  # the same link used twice at once: the other request won
        raise LinkRefused("used") from None


# -- links from letters ----------------------------------------------------------------


@dataclass(frozen=True)
class ActionLink:
    claim: Claim
    person: Person
    task: Task


def check_link(app: App, token: str) -> ActionLink:
    """The link's claim, person and task, if it may still be used (refusal says why)."""
    claim = read_claim(app, "action", token)
    if claim.task_id is None or claim.action is None:
        raise LinkRefused("forged")
    with session_scope(app.ready_engine()) as session:
        person = _usable(session, claim)
        task = session.get(Task, claim.task_id)
        if task is None:
            raise LinkRefused("changed")
        if claim.changes_state and task.version != claim.version:
            raise LinkRefused("changed")
        return ActionLink(claim, person, task)


def link_use(app: App, link: ActionLink) -> LinkUse:
    """The row that, committed with the action, makes the link single-use."""
    return LinkUse(
        nonce=link.claim.nonce,
        kind=str(link.claim.action)[:20],
        task_id=link.claim.task_id,
        person_id=pk(link.person),
        used_at=app.clock.now(),
    )


# -- page links (a case decision's approval page) ----------------------------------------


def page_url(app: App, path: str, person: Person, now: datetime) -> str:
    """A signed link that opens ``path`` as ``person``, valid ``web.link_days``.

    It changes nothing by itself (the page's forms do, with their CSRF token), so it is
    not single-use; opening it signs the person in, like a task link that opens a task.
    """
    claim = Claim(
        person_id=pk(person),
        expires=now + timedelta(days=app.config.settings.web.link_days),
        extra=path,
    )
    return f"{app.base_url}/l/page/{app.signer.make('page', claim)}"


@dataclass(frozen=True)
class PageLink:
    person: Person
    path: str


def local_path(path: str) -> bool:
    """A path on this site: never another host (``//evil``) or a scheme."""
    return path.startswith("/") and not path.startswith("//") and "\\" not in path


def check_page_link(app: App, token: str) -> PageLink:
    """The person and page of a page link, if it may still be used (refusal says why)."""
    claim = read_claim(app, "page", token)
    if not local_path(claim.extra):
        raise LinkRefused("forged")
    with session_scope(app.ready_engine()) as session:
        return PageLink(_usable(session, claim), claim.extra)
