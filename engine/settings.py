"""The configuration: one table of keys, each with its default and help text.

Every key is declared once in :data:`SETTINGS` (the datasette habit). ``config.toml`` at
the repository root is *rendered* from this table (``measures config template``) and a
test compares the two, so an undocumented key cannot slip in. Loading refuses unknown
keys and wrong types with the file, line and key named: a typo in a key must not
silently fall back to a default.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine import tomlfile
from engine.errors import ConfigError

CONFIG_ENV = "MEASURES_CONFIG"
DATABASE_ENV = "MEASURES_DATABASE_URL"


@dataclass(frozen=True)
class Setting:
    key: str  # dotted: "table.name"
    default: str | int | bool | tuple[str, ...]
    help: str
    choices: tuple[str, ...] = ()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir",
        "data",
        "Folder for the SQLite file, the mail spool and the generated secret key. "
        "A relative path is taken from the folder of this config file.",
    ),
    Setting(
        "database.url",
        "",
        "SQLAlchemy URL of the database. Empty: a SQLite file <data_dir>/measures.db. "
        "PostgreSQL: postgresql+psycopg://user:password@host/dbname. "
        "The environment variable MEASURES_DATABASE_URL overrides this key.",
    ),
    Setting(
        "committee.name",
        "Комитет по образованию",
        "Name of the authority that runs the plans, as shown in pages and emails.",
    ),
    Setting(
        "committee.timezone",
        "Europe/Moscow",
        "IANA time zone of the committee: working days, working hours and "
        "'today' are reckoned in it.",
    ),
    Setting(
        "working_hours.start",
        "09:00",
        "Start of the working day (HH:MM, committee time); mail waits until then.",
    ),
    Setting(
        "working_hours.end",
        "18:00",
        "End of the working day (HH:MM, committee time); mail after it waits for "
        "the next working day.",
    ),
    Setting(
        "calendar.extra_holidays",
        (),
        "Extra non-working days (YYYY-MM-DD) on top of the Russian production calendar: "
        "a new year's decree the calendar library does not know yet, a local holiday.",
    ),
    Setting(
        "calendar.extra_working_days",
        (),
        "Extra working days (YYYY-MM-DD), e.g. a decreed working Saturday the calendar "
        "library does not know yet.",
    ),
    Setting(
        "calendar.six_day_week",
        False,
        "Count Saturdays as working days (schools on a six-day week).",
    ),
    Setting(
        "schedule.continuous_cadence",
        "quarterly",
        "How often a continuous measure ('Постоянно', 'В течение года') asks for a "
        "progress report.",
        choices=("weekly", "monthly", "quarterly", "half_yearly", "yearly"),
    ),
    Setting(
        "mail.transport",
        "spool",
        "How mail leaves: 'spool' writes .eml files into mail.spool_dir "
        "(nothing is sent), 'smtp' sends through mail.smtp_host.",
        choices=("spool", "smtp"),
    ),
    Setting(
        "mail.spool_dir",
        "",
        "Folder for .eml files when mail.transport = 'spool'. Empty: <data_dir>/mail.",
    ),
    Setting("mail.sender", "measures@localhost", "From: address of every message."),
    Setting("mail.smtp_host", "localhost", "SMTP server host name."),
    Setting("mail.smtp_port", 25, "SMTP server port."),
    Setting("mail.smtp_starttls", False, "Upgrade the SMTP connection with STARTTLS."),
    Setting("mail.smtp_username", "", "SMTP login; empty: no authentication."),
    Setting("mail.smtp_password", "", "SMTP password."),
    Setting(
        "mail.sender_name",
        "",
        "Display name in From:. Empty: committee.name.",
    ),
    Setting(
        "mail.max_attempts",
        8,
        "Delivery attempts for a message before it is marked failed (temporary errors "
        "only; a refused address fails at once).",
    ),
    Setting(
        "daemon.sweep_seconds",
        60,
        "How often the daemon checks which reminders and escalations are due.",
    ),
    Setting(
        "daemon.delivery_seconds",
        30,
        "How often the daemon sends what is waiting in the outbox.",
    ),
    Setting(
        "web.host",
        "127.0.0.1",
        "Address the web page listens on; 127.0.0.1 keeps it on this machine.",
    ),
    Setting("web.port", 8080, "Port of the web page."),
    Setting(
        "web.base_url",
        "",
        "Public address used in emailed links. Empty: http://<web.host>:<web.port>.",
    ),
    Setting(
        "security.secret_key",
        "",
        "Key that signs emailed links. Empty: a random key is generated on first "
        "start into <data_dir>/secret_key and reused afterwards.",
    ),
    Setting(
        "workflows.dir",
        "",
        "Folder with the workflow definitions (measure.toml, ...). Empty: the "
        "definitions shipped with the program.",
    ),
    Setting(
        "log.level", "INFO", "Log level on stderr.", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    ),
)

_BY_KEY = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class Config:
    """Validated configuration with the derived paths resolved."""

    values: Mapping[str, Any]
    source: Path | None
    base_dir: Path
    data_dir: Path
    database_url: str
    timezone: ZoneInfo
    work_start: time
    work_end: time
    extra_holidays: tuple[date, ...]
    extra_working_days: tuple[date, ...]
    spool_dir: Path
    workflows_dir: Path
    overrides: tuple[str, ...] = field(default=())

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def secret_key(self) -> str:
        """The configured key, else the one stored in the data folder (made on first use)."""
        configured = str(self.values["security.secret_key"])
        if configured:
            return configured
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48) + "\n", encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and not any(s.key == dotted for s in SETTINGS):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def _check_value(setting: Setting, value: Any, where: str) -> Any:
    expected = type(setting.default)
    if expected is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of texts, got {value!r}")
        return tuple(value)
    # bool is a subclass of int: check it first so `port = true` is refused.
    if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{where}: expected a whole number, got {value!r}")
    if expected is not int and not isinstance(value, expected):
        raise ConfigError(f"{where}: expected {expected.__name__}, got {value!r}")
    if setting.choices and value not in setting.choices:
        raise ConfigError(f"{where}: expected one of {', '.join(setting.choices)}, got {value!r}")
    return value


def _parse_time(value: str, where: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{where}: expected a time HH:MM, got {value!r}") from None


def _parse_dates(values: tuple[str, ...], where: str) -> tuple[date, ...]:
    try:
        return tuple(date.fromisoformat(v) for v in values)
    except ValueError:
        raise ConfigError(f"{where}: expected dates YYYY-MM-DD, got {list(values)!r}") from None


def default_config_path() -> Path:
    """``$MEASURES_CONFIG``, else ``config.toml`` in the current folder."""
    return Path(os.environ.get(CONFIG_ENV) or "config.toml")


def load_config(path: Path | None = None, *, required: bool = False) -> Config:
    """Read and validate the configuration.

    Without an explicit path a missing ``config.toml`` means "all defaults": the program
    runs from a bare checkout. An explicitly named file must exist.
    """
    explicit = path is not None or bool(os.environ.get(CONFIG_ENV))
    path = path or default_config_path()
    values: dict[str, Any] = {s.key: s.default for s in SETTINGS}
    source: Path | None = None
    if path.exists() or explicit or required:
        data, text = tomlfile.load(path, ConfigError)
        source = path
        for key, value in _flatten(data).items():
            table, _, name = key.rpartition(".")
            where = tomlfile.where(path, text, table, name)
            setting = _BY_KEY.get(key)
            if setting is None:
                known = sorted(s.key for s in SETTINGS)
                raise ConfigError(f"{where}: unknown key; known keys are {', '.join(known)}")
            values[key] = _check_value(setting, value, where)
    base_dir = (source.parent if source else Path.cwd()).resolve()
    overrides: list[str] = []
    if os.environ.get(DATABASE_ENV):
        values["database.url"] = os.environ[DATABASE_ENV]
        overrides.append(DATABASE_ENV)
    data_dir = (base_dir / str(values["data_dir"])).resolve()
    url = str(values["database.url"]) or f"sqlite:///{data_dir / 'measures.db'}"
    try:
        zone = ZoneInfo(str(values["committee.timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{source or 'defaults'}: committee.timezone: unknown time zone "
            f"{values['committee.timezone']!r} (expected e.g. Europe/Moscow)"
        ) from None
    start = _parse_time(str(values["working_hours.start"]), f"{source}: working_hours.start")
    end = _parse_time(str(values["working_hours.end"]), f"{source}: working_hours.end")
    if end <= start:
        raise ConfigError(f"{source}: working_hours.end must be later than working_hours.start")
    spool = str(values["mail.spool_dir"])
    workflows = str(values["workflows.dir"])
    return Config(
        values=values,
        source=source,
        base_dir=base_dir,
        data_dir=data_dir,
        database_url=url,
        timezone=zone,
        work_start=start,
        work_end=end,
        extra_holidays=_parse_dates(
            values["calendar.extra_holidays"], f"{source}: calendar.extra_holidays"
        ),
        extra_working_days=_parse_dates(
            values["calendar.extra_working_days"], f"{source}: calendar.extra_working_days"
        ),
        spool_dir=(base_dir / spool).resolve() if spool else data_dir / "mail",
        workflows_dir=(base_dir / workflows).resolve() if workflows else bundled_workflows_dir(),
        overrides=tuple(overrides),
    )


def bundled_workflows_dir() -> Path:
    import workflows

    return Path(workflows.__file__).parent


def _toml_value(value: str | int | bool | tuple[str, ...]) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_template() -> str:
    """The documented config.toml: every key, its help and its default."""
    import textwrap

    lines = [
        "# measures configuration. Every key is shown with its default value;",
        "# delete a line to keep the default. Generated by `measures config template`.",
        "# Another file: `measures --config PATH` or MEASURES_CONFIG=PATH.",
    ]
    current_table: str | None = None
    for setting in SETTINGS:
        table, _, name = setting.key.rpartition(".")
        if table != current_table:
            lines.append("")
            if table:
                lines.append(f"[{table}]")
            current_table = table
        lines.extend("# " + row for row in textwrap.wrap(setting.help, 86))
        lines.append(f"{name} = {_toml_value(setting.default)}")
    return "\n".join(lines) + "\n"
