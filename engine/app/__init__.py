"""The assembled application: configuration, clock, database engine, workflow.

Built once per command (or per daemon) and handed to whatever needs it, so nothing
reaches for globals and a test can build one on any database with any clock.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from engine.core.clock import Clock, clock_for
from engine.core.db import check_schema, make_engine
from engine.core.errors import ConfigError, WorkflowError
from engine.core.settings import Config, load_config
from engine.core.workcalendar import WorkCalendar
from engine.escalation.ladder import Ladder, load_ladders
from engine.escalation.outbox import DeliveryResult, deliver
from engine.escalation.sweep import Escalator
from engine.escalation.timeline import WorkingHours
from engine.lifecycle.fire import ADMINISTRATIVE, CASES, Lifecycle
from engine.lifecycle.workflow import WorkflowDef, load_workflow
from notifications import Mailer

if TYPE_CHECKING:
    from engine.cases.help import HelpTemplate
    from engine.cases.progress import CaseEngine
    from engine.cases.rules import CaseRules


@dataclass
class App:
    config: Config
    clock: Clock
    _checked: bool = field(default=False, repr=False)

    @classmethod
    def load(cls, config_path: Path | None = None, now: str | None = None) -> App:
        config = load_config(config_path)
        logging.basicConfig(
            level=str(config.settings.log.level),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        if config.settings.log.level != "DEBUG":  # libraries' per-step chatter is DEBUG detail
            for name in ("alembic", "transitions", "apscheduler"):
                logging.getLogger(name).setLevel(logging.WARNING)
        return cls(config, clock_for(now, config.timezone))

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.config.database_url)

    def ready_engine(self) -> Engine:
        """The engine, after checking the schema is this program's (once per process)."""
        if not self._checked:
            check_schema(self.engine)
            self._checked = True
        return self.engine

    @cached_property
    def workflow(self) -> WorkflowDef:
        path = self.config.workflows_dir / "measure.toml"
        if not path.exists():
            raise WorkflowError(f"{path}: file not found (workflows.dir in the configuration)")
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

    @cached_property
    def escalator(self) -> Escalator:
        cfg = self.config
        web = cfg.settings.web
        base = web.base_url or f"http://{web.host}:{web.port}"
        sender = cfg.settings.mail.sender
        return Escalator(
            workflow=self.workflow,
            ladders=self.ladders,
            hours=self.hours,
            committee=cfg.settings.committee.name,
            base_url=base.rstrip("/"),
            mail_domain=sender.rpartition("@")[2] or "localhost",
        )

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
        cfg = self.config
        own = mailer is None
        used = self.mailer() if mailer is None else mailer
        try:
            return await deliver(
                self.ready_engine(),
                used,
                self.clock,
                self.hours,
                sender=cfg.settings.mail.sender,
                sender_name=cfg.settings.mail.sender_name or cfg.settings.committee.name,
                max_attempts=cfg.settings.mail.max_attempts,
                stop=stop,
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
        return Lifecycle(self.admin_workflow, self.clock, self.config.timezone, ADMINISTRATIVE)

    @cached_property
    def cases(self) -> CaseEngine:
        from engine.cases.progress import CaseEngine

        return CaseEngine(
            Lifecycle(self.case_workflow, self.clock, self.config.timezone, CASES),
            self.workflow,
            self.admin_workflow,
            self.case_rules,
            self.clock,
        )
