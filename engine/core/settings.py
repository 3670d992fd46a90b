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
from dataclasses import dataclass, field, fields
from datetime import date, time
from pathlib import Path
from typing import Any, Literal, cast, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.core import tomlfile
from engine.core.errors import ConfigError

CONFIG_ENV = "MEASURES_CONFIG"
DATABASE_ENV = "MEASURES_DATABASE_URL"


def _setting(
    default: str | int | bool | tuple[str, ...],
    help: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> Any:
    """Declare one key: its default, help text and range, once.

    A key whose type is a ``Literal`` accepts exactly those values (see ``_declared``).
    """
    return field(default=default, metadata={"help": help, "minimum": minimum, "maximum": maximum})


@dataclass(frozen=True)
class Setting:
    """One key as the loader and the template see it (derived from the sections below)."""

    key: str  # dotted: "table.name"
    default: str | int | bool | tuple[str, ...]
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = _setting(
        "",
        "SQLAlchemy URL of the database. Empty: a SQLite file <data_dir>/measures.db. "
        "PostgreSQL: postgresql+psycopg://user:password@host/dbname. "
        "The environment variable MEASURES_DATABASE_URL overrides this key.",
    )


@dataclass(frozen=True)
class CommitteeSettings:
    name: str = _setting(
        "Комитет по образованию",
        "Name of the authority that runs the plans, as shown in pages and emails.",
    )
    timezone: str = _setting(
        "Europe/Moscow",
        "IANA time zone of the committee: working days, working hours and "
        "'today' are reckoned in it.",
    )


@dataclass(frozen=True)
class WorkingHoursSettings:
    start: str = _setting(
        "09:00", "Start of the working day (HH:MM, committee time); mail waits until then."
    )
    end: str = _setting(
        "18:00",
        "End of the working day (HH:MM, committee time); mail after it waits for "
        "the next working day.",
    )


@dataclass(frozen=True)
class CalendarSettings:
    extra_holidays: tuple[str, ...] = _setting(
        (),
        "Extra non-working days (YYYY-MM-DD) on top of the Russian production calendar: "
        "a new year's decree the calendar library does not know yet, a local holiday.",
    )
    extra_working_days: tuple[str, ...] = _setting(
        (),
        "Extra working days (YYYY-MM-DD), e.g. a decreed working Saturday the calendar "
        "library does not know yet.",
    )
    six_day_week: bool = _setting(
        False, "Count Saturdays as working days (schools on a six-day week)."
    )


@dataclass(frozen=True)
class ScheduleSettings:
    continuous_cadence: Literal["weekly", "monthly", "quarterly", "half_yearly", "yearly"] = (
        _setting(
            "quarterly",
            "How often a continuous measure ('Постоянно', 'В течение года') asks for a "
            "progress report.",
        )
    )


@dataclass(frozen=True)
class MailSettings:
    transport: Literal["spool", "smtp"] = _setting(
        "spool",
        "How mail leaves: 'spool' writes .eml files into mail.spool_dir "
        "(nothing is sent), 'smtp' sends through mail.smtp_host.",
    )
    spool_dir: str = _setting(
        "", "Folder for .eml files when mail.transport = 'spool'. Empty: <data_dir>/mail."
    )
    sender: str = _setting("measures@localhost", "From: address of every message.")
    smtp_host: str = _setting("localhost", "SMTP server host name.")
    smtp_port: int = _setting(25, "SMTP server port.", minimum=1, maximum=65535)
    smtp_starttls: bool = _setting(False, "Upgrade the SMTP connection with STARTTLS.")
    smtp_username: str = _setting("", "SMTP login; empty: no authentication.")
    smtp_password: str = _setting("", "SMTP password.")
    sender_name: str = _setting("", "Display name in From:. Empty: committee.name.")
    templates_dir: str = _setting(
        "",
        "Folder of letter templates that replace the shipped ones: a file there with the "
        "name of a shipped template (reminder.txt, _base.html, ...) is used instead. "
        "Empty: the shipped templates only.",
    )
    keep_days: int = _setting(
        90,
        "Days a sent (or dropped as out of date) letter stays in the outbox, and an .eml "
        "file in the spool folder; older ones are deleted once a day. 0: keep them forever.",
        minimum=0,
        maximum=36500,
    )
    max_attempts: int = _setting(
        8,
        "Delivery attempts for a message before it is marked failed (temporary errors "
        "only; a refused address fails at once).",
        minimum=1,
        maximum=100,
    )


@dataclass(frozen=True)
class DaemonSettings:
    sweep_seconds: int = _setting(
        60,
        "How often the daemon checks which reminders and escalations are due.",
        minimum=1,
        maximum=86400,
    )
    delivery_seconds: int = _setting(
        30, "How often the daemon sends what is waiting in the outbox.", minimum=1, maximum=86400
    )
    sweep_batch: int = _setting(
        500,
        "Tasks a sweep takes per transaction; daemons sharing one PostgreSQL divide the "
        "due work batch by batch.",
        minimum=1,
        maximum=10000,
    )


@dataclass(frozen=True)
class WebSettings:
    host: str = _setting(
        "127.0.0.1", "Address the web page listens on; 127.0.0.1 keeps it on this machine."
    )
    port: int = _setting(8080, "Port of the web page.", minimum=1, maximum=65535)
    base_url: str = _setting(
        "", "Public address used in emailed links. Empty: http://<web.host>:<web.port>."
    )
    link_days: int = _setting(
        14,
        "Days an action link in a letter (open, report, verify, return) stays valid.",
        minimum=1,
        maximum=365,
    )
    signin_minutes: int = _setting(
        30, "Minutes a sign-in link sent by email stays valid.", minimum=1, maximum=1440
    )
    session_hours: int = _setting(
        12, "Hours a web session lasts after signing in.", minimum=1, maximum=24 * 30
    )
    upload_max_mb: int = _setting(
        20,
        "Largest evidence file (PDF, DOCX, XLSX, PNG, JPEG) or import file accepted, in MiB.",
        minimum=1,
        maximum=1024,
    )
    rate_limit: int = _setting(
        20,
        "Requests per minute one client address may make to the sign-in and emailed-link "
        "pages, counted in each server process (with N workers a client may make up to N "
        "times as many); more are refused with 429.",
        minimum=1,
        maximum=10000,
    )
    workers: int = _setting(
        1,
        "Server processes of `measures web` sharing its port (each uses one core; any of "
        "them serves any request). `measures run` always serves its pages in its own "
        "single process.",
        minimum=1,
        maximum=32,
    )
    threads: int = _setting(
        2,
        "Requests one server process works on at once (the rest wait their turn in order). "
        "More threads do not add CPU: they share the process's interpreter lock, so with "
        "many at once every request costs more and the slowest wait longest. Two let a "
        "long download or import proceed while pages go on.",
        minimum=1,
        maximum=64,
    )


@dataclass(frozen=True)
class SecuritySettings:
    secret_key: str = _setting(
        "",
        "Key that signs emailed links and sessions and keys the audit chain (HMAC). "
        "Empty: a random key is generated on first start into <data_dir>/secret_key and "
        "reused afterwards. Changing it voids every link and session sent so far, and "
        "`measures audit verify` then needs the old key: keep it with the backups.",
    )


@dataclass(frozen=True)
class WorkflowsSettings:
    dir: str = _setting(
        "",
        "Folder with the workflow definitions (measure.toml, ...). Empty: the "
        "definitions shipped with the program.",
    )


@dataclass(frozen=True)
class ReportsSettings:
    docx_template: str = _setting(
        "",
        "Word file (.docx) with the committee's letterhead that reports start from: its "
        "page header, page setup and styles are kept and the report follows its body. "
        "Empty: a plain landscape A4 page. A relative path is taken from the folder of "
        "this config file.",
    )
    pdf_converter: Literal["auto", "libreoffice", "chromium"] = _setting(
        "auto",
        "What turns a report into PDF: 'libreoffice' converts the Word report (soffice "
        "--headless), 'chromium' prints the HTML report; 'auto' takes LibreOffice if "
        "installed, else Chromium.",
    )
    public_summary: bool = _setting(
        False,
        "Allow the public summary of a plan (measures, states and dates, no names or "
        "emails) for the committee's site: `measures report public` and the public page.",
    )


@dataclass(frozen=True)
class LogSettings:
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = _setting("INFO", "Log level on stderr.")


@dataclass(frozen=True)
class Settings:
    """Every key, typed: ``config.settings.mail.transport``.

    The top-level fields are keys outside any table; the others are the tables of
    config.toml, each a dataclass of its keys. The order here is the order of the
    generated config.toml.
    """

    data_dir: str = _setting(
        "data",
        "Folder for the SQLite file, the mail spool and the generated secret key. "
        "A relative path is taken from the folder of this config file.",
    )
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    committee: CommitteeSettings = field(default_factory=CommitteeSettings)
    working_hours: WorkingHoursSettings = field(default_factory=WorkingHoursSettings)
    calendar: CalendarSettings = field(default_factory=CalendarSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    web: WebSettings = field(default_factory=WebSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    workflows: WorkflowsSettings = field(default_factory=WorkflowsSettings)
    reports: ReportsSettings = field(default_factory=ReportsSettings)
    log: LogSettings = field(default_factory=LogSettings)


def _declared(cls: type, prefix: str = "") -> list[Setting]:
    found: list[Setting] = []
    hints = get_type_hints(cls)
    for item in fields(cls):
        if "help" in item.metadata:
            meta = item.metadata
            hint = hints[item.name]
            found.append(
                Setting(
                    prefix + item.name,
                    item.default,  # type: ignore[arg-type]
                    meta["help"],
                    get_args(hint) if get_origin(hint) is Literal else (),
                    meta["minimum"],
                    meta["maximum"],
                )
            )
        else:
            found.extend(_declared(cast(type, item.default_factory), f"{item.name}."))
    return found


#: Every key with its default and help, in config.toml order (derived from Settings).
SETTINGS: tuple[Setting, ...] = tuple(_declared(Settings))


def _typed(values: Mapping[str, Any]) -> Settings:
    """Build the typed tree from validated dotted values."""
    tables: dict[str, dict[str, Any]] = {}
    top: dict[str, Any] = {}
    for key, value in values.items():
        table, _, name = key.rpartition(".")
        (tables.setdefault(table, {}) if table else top)[name] = value
    sections = {
        item.name: cast(Any, item.default_factory)(**tables.get(item.name, {}))
        for item in fields(Settings)
        if "help" not in item.metadata
    }
    return Settings(**top, **sections)


_BY_KEY = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class Config:
    """Validated configuration with the derived paths resolved."""

    settings: Settings
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

    def secret_key(self) -> str:
        """The configured key, else the one stored in the data folder (made on first use)."""
        configured = self.settings.security.secret_key
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
            raise ConfigError(f"{where}: ожидается список строк, а не {value!r}")
        return tuple(value)
    # bool is a subclass of int: check it first so `port = true` is refused.
    if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{where}: ожидается целое число, а не {value!r}")
    if expected is not int and not isinstance(value, expected):
        raise ConfigError(
            f"{where}: ожидается {_TYPE_NAMES.get(expected, expected.__name__)}, а не {value!r}"
        )
    if setting.minimum is not None and value < setting.minimum:
        raise ConfigError(f"{where}: ожидается не меньше {setting.minimum}, а не {value!r}")
    if setting.maximum is not None and value > setting.maximum:
        raise ConfigError(f"{where}: ожидается не больше {setting.maximum}, а не {value!r}")
    if setting.choices and value not in setting.choices:
        raise ConfigError(
            f"{where}: ожидается одно из: {', '.join(setting.choices)}, а не {value!r}"
        )
    return value


_TYPE_NAMES = {str: "строка", bool: "true или false"}


def _parse_time(value: str, where: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{where}: ожидается время ЧЧ:ММ, а не {value!r}") from None


def _parse_dates(values: tuple[str, ...], where: str) -> tuple[date, ...]:
    try:
        return tuple(date.fromisoformat(v) for v in values)
    except ValueError:
        raise ConfigError(f"{where}: ожидаются даты ГГГГ-ММ-ДД, а не {list(values)!r}") from None


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
                raise ConfigError(f"{where}: неизвестный ключ; ключи настроек: {', '.join(known)}")
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
            f"{source or 'по умолчанию'}: committee.timezone: неизвестный часовой пояс "
            f"{values['committee.timezone']!r} (ожидается, например, Europe/Moscow)"
        ) from None
    start = _parse_time(str(values["working_hours.start"]), f"{source}: working_hours.start")
    end = _parse_time(str(values["working_hours.end"]), f"{source}: working_hours.end")
    if end <= start:
        raise ConfigError(f"{source}: working_hours.end должно быть позже working_hours.start")
    spool = str(values["mail.spool_dir"])
    workflows = str(values["workflows.dir"])
    return Config(
        settings=_typed(values),
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
