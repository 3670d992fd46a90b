"""The assembled application: configuration, clock, database engine, workflow.

Built once per command (or per daemon) and handed to whatever needs it, so nothing
reaches for globals and a test can build one on any database with any clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from engine.clock import Clock, clock_for
from engine.db import check_schema, make_engine
from engine.errors import ConfigError, WorkflowError
from engine.lifecycle import Lifecycle
from engine.settings import Config, load_config
from engine.workcalendar import WorkCalendar
from engine.workflow import WorkflowDef, load_workflow


@dataclass
class App:
    config: Config
    clock: Clock
    _checked: bool = field(default=False, repr=False)

    @classmethod
    def load(cls, config_path: Path | None = None, now: str | None = None) -> App:
        config = load_config(config_path)
        logging.basicConfig(
            level=str(config["log.level"]),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        if config["log.level"] != "DEBUG":  # libraries' per-step chatter is DEBUG detail
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
                six_day_week=bool(self.config["calendar.six_day_week"]),
            )
        except ValueError as exc:
            raise ConfigError(f"{self.config.source}: [calendar]: {exc}") from None

    @cached_property
    def lifecycle(self) -> Lifecycle:
        return Lifecycle(self.workflow, self.clock, self.config.timezone)
