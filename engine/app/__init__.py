"""The assembled application: configuration, clock, database engine, workflow.

Built once per command (or per daemon) and handed to whatever needs it, so nothing
reaches for globals and a test can build one on any database with any clock.
"""

from __future__ import annotations

import logging
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from engine.core import logs
from engine.core.clock import NOW_ENV, Clock, clock_for, moved_clock
from engine.core.db import check_schema, make_engine, read_scope, session_scope
from engine.core.errors import ConfigError, MeasuresError, WorkflowError
from engine.core.links import Signer
from engine.core.settings import Config, load_config
from engine.core.workcalendar import WorkCalendar
from engine.escalation.ladder import Ladder, load_ladders
from engine.escalation.nextstep import attach, refresh_if_changed
from engine.escalation.timeline import Planner, WorkingHours
from engine.lifecycle.fire import ADMINISTRATIVE, CASES, Lifecycle
from engine.lifecycle.workflow import WorkflowDef, load_workflow

if TYPE_CHECKING:  # letters, their rendering and delivery load with the first use
    from sqlmodel import Session

    from engine.cases.help import HelpTemplate
    from engine.cases.progress import CaseEngine
    from engine.cases.rules import CaseRules
    from engine.escalation.outbox import DeliveryResult
    from engine.escalation.sweep import Escalator
    from notifications import Mailer


@dataclass
class App:
    """``moved_clock`` is set when the door took the time from ``--now`` or
    ``$MEASURES_NOW``: then only a database marked as a simulation may be changed (see
    :meth:`writable_engine`)."""

    config: Config
    clock: Clock
    moved_clock: bool = False
    _checked: bool = field(default=False, repr=False)
    _writable: bool = field(default=False, repr=False)
    _next_steps_checked: bool = field(default=False, repr=False)

    @classmethod
    def load(cls, config_path: Path | None = None, now: str | None = None) -> App:
        config = load_config(config_path)
        logs.configure(str(config.settings.log.level), config.timezone)
        if config.settings.log.level != "DEBUG":  # libraries' per-step chatter is DEBUG detail
            for name in ("alembic", "transitions", "apscheduler", "matplotlib"):
                logging.getLogger(name).setLevel(logging.WARNING)
        return cls(config, clock_for(now, config.timezone), moved_clock=moved_clock(now))

    @cached_property
    def engine(self) -> Engine:
        """The database; its sessions keep ``Task.next_step_at`` with :attr:`planner`
        (engine.escalation.nextstep — the ladders are read when a task is first written)."""
        engine = make_engine(self.config.database_url)
        attach(engine, lambda: self.planner)
        return engine

    def ready_engine(self) -> Engine:
        """The engine, after checking the schema is this program's (once per process)."""
        if not self._checked:
            check_schema(self.engine)
            self._checked = True
        return self.engine

    def reading(self) -> AbstractContextManager[Session]:
        """A session for what only reads: pages, the API's GETs, the visitor of a request.

        On SQLite it begins DEFERRED. The default (IMMEDIATE, right for anything that may
        write) made every page view queue for the database's one write lock, across all web
        workers, waiting in SQLite's busy handler with sleeps of up to 100 ms: the p95 of
        20 concurrent clients was 4–12 × the median (bench/web.py). Nothing may be written
        through it.
        """
        return read_scope(self.ready_engine())

    def writable_engine(self) -> Engine:
        """The engine for a command that changes data.

        At a moved clock (``--now``) a change would be stamped with a moment that never
        happened — an audit row "made" inside a deputy's period, a letter "sent" next
        month. That is what simulations and tests want and what a working database must
        never get, so it is allowed only on a database made with ``measures init
        --simulation``.
        """
        engine = self.ready_engine()
        if self.moved_clock and not self._writable:
            from engine.core.flags import SIMULATION, get_flag

            with session_scope(engine) as session:
                simulated = get_flag(session, SIMULATION) is not None
            if not simulated:
                moment = self.clock.now().astimezone(self.config.timezone)
                raise MeasuresError(
                    f"--now / {NOW_ENV}: часы переведены на {moment:%d.%m.%Y %H:%M}, а база "
                    "данных рабочая: команда, которая что-то меняет, записала бы "
                    "ненастоящее время. Уберите --now или работайте с учебной базой "
                    "(measures init --simulation)."
                )
            self._writable = True
        return engine

    def engine_for(self, dry_run: bool) -> Engine:
        """A dry run only reads (any clock); a real change needs :meth:`writable_engine`."""
        return self.ready_engine() if dry_run else self.writable_engine()

    @cached_property
    def workflow(self) -> WorkflowDef:
        path = self.config.workflows_dir / "measure.toml"
        if not path.exists():
            raise WorkflowError(f"{path}: файл не найден (workflows.dir в настройках)")
        return load_workflow(path)

    @cached_property
    def calendar(self) -> WorkCalendar:
        try:
            return WorkCalendar(
                extra_holidays=self.config.extra_holidays,
                extra_working_days=self.config.extra_working_days,
                six_day_week=self.config.settings.calendar.six_day_week,
            )
        except ValueError as exc:
            raise ConfigError(f"{self.config.source}: [calendar]: {exc}") from None

    @cached_property
    def hours(self) -> WorkingHours:
        return WorkingHours(
            self.config.timezone, self.config.work_start, self.config.work_end, self.calendar
        )

    @cached_property
    def ladders(self) -> dict[str, Ladder]:
        from notifications import TEMPLATES

        path = self.config.workflows_dir / "escalation.toml"
        return load_ladders(path, self.workflow, TEMPLATES)

    def next_steps_current(self) -> int | None:
        """Once per process, before the first sweep: if the ladders, working hours or
        calendar changed since the stored ``next_step_at`` were computed, recompute them
        all (how many moved; None: nothing had changed or already checked)."""
        if self._next_steps_checked:
            return None
        moved = refresh_if_changed(self.writable_engine(), self.planner, self.clock.now())
        self._next_steps_checked = True
        return moved

    @cached_property
    def planner(self) -> Planner:
        """Which ladder a task follows and when its next step falls due."""
        return Planner(self.ladders, self.hours)

    @cached_property
    def escalator(self) -> Escalator:
        from engine.escalation.sweep import Escalator

        cfg = self.config
        web = cfg.settings.web
        sender = cfg.settings.mail.sender
        templates = cfg.settings.mail.templates_dir
        return Escalator(
            workflow=self.workflow,
            planner=self.planner,
            committee=cfg.settings.committee.name,
            base_url=self.base_url,
            mail_domain=sender.rpartition("@")[2] or "localhost",
            signer=self.signer,
            link_days=web.link_days,
            templates_dir=str(cfg.base_dir / templates) if templates else None,
        )

    @property
    def base_url(self) -> str:
        """Where people reach the web pages (the address in every emailed link)."""
        web = self.config.settings.web
        return (web.base_url or f"http://{web.host}:{web.port}").rstrip("/")

    @cached_property
    def signer(self) -> Signer:
        """Signs emailed links, sign-in links, session cookies and API tokens."""
        return Signer(self.config.secret_key())

    def mailer(self) -> Mailer:
        """The configured transport: the spool folder (default) or an SMTP server."""
        from notifications import SmtpMailer, SpoolMailer

        cfg = self.config
        if cfg.settings.mail.transport == "spool":
            return SpoolMailer(cfg.spool_dir)
        return SmtpMailer(
            cfg.settings.mail.smtp_host,
            cfg.settings.mail.smtp_port,
            starttls=cfg.settings.mail.smtp_starttls,
            username=cfg.settings.mail.smtp_username or None,
            password=cfg.settings.mail.smtp_password or None,
        )

    async def deliver(
        self, mailer: Mailer | None = None, stop: threading.Event | None = None
    ) -> DeliveryResult:
        """One delivery pass with the configured sender; a mailer made here is closed here.

        The daemon passes its long-lived mailer (one SMTP connection for many passes);
        ``measures sweep --send`` lets this method open and close one.
        """
        from engine.escalation.outbox import deliver
        from engine.escalation.sweep import refresh_letter

        cfg = self.config
        own = mailer is None
        used = self.mailer() if mailer is None else mailer
        try:
            return await deliver(
                self.writable_engine(),
                used,
                self.clock,
                self.hours,
                sender=cfg.settings.mail.sender,
                sender_name=cfg.settings.mail.sender_name or cfg.settings.committee.name,
                max_attempts=cfg.settings.mail.max_attempts,
                stop=stop,
                refresh=partial(refresh_letter, self.ready_engine(), self.escalator),
            )
        finally:
            closer = getattr(used, "aclose", None)
            if own and closer is not None:
                await closer()

    @cached_property
    def lifecycle(self) -> Lifecycle:
        """Tasks' lifecycle; a help task's case follows it in the same transaction."""
        return Lifecycle(
            self.workflow,
            self.clock,
            self.config.timezone,
            self.audit_key,
            observers=[lambda session, fired: self.cases.on_task_fired(session, fired)],
        )

    # -- school cases (engine.cases) ------------------------------------------------------

    def workflow_file(self, name: str) -> Path:
        """``name`` in the configured workflows folder, else the shipped one.

        A folder made for the task workflow alone keeps the shipped case rules.
        """
        from engine.core.settings import bundled_workflows_dir

        path = self.config.workflows_dir / name
        return path if path.exists() else bundled_workflows_dir() / name

    @cached_property
    def case_workflow(self) -> WorkflowDef:
        return load_workflow(self.workflow_file("school_case.toml"))

    @cached_property
    def admin_workflow(self) -> WorkflowDef:
        return load_workflow(self.workflow_file("administrative.toml"))

    @cached_property
    def case_rules(self) -> CaseRules:
        from engine.cases.rules import load_rules

        return load_rules(self.workflow_file("rules.toml"), self.case_workflow)

    @cached_property
    def help_template(self) -> HelpTemplate:
        from engine.cases.help import load_template

        return load_template(self.workflow_file("help_programme.toml"))

    @cached_property
    def admin_lifecycle(self) -> Lifecycle:
        return Lifecycle(
            self.admin_workflow, self.clock, self.config.timezone, self.audit_key, ADMINISTRATIVE
        )

    @cached_property
    def cases(self) -> CaseEngine:
        from engine.cases.progress import CaseEngine

        return CaseEngine(
            Lifecycle(self.case_workflow, self.clock, self.config.timezone, self.audit_key, CASES),
            self.workflow,
            self.admin_workflow,
            self.case_rules,
            self.clock,
        )

    @cached_property
    def audit_key(self) -> bytes:
        """The audit chain's HMAC key, derived from the instance secret."""
        from engine.lifecycle.audit import audit_key

        return audit_key(self.config.secret_key())
