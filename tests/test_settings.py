"""Configuration: documented defaults, strict keys, environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import ConfigError
from engine.core.settings import SETTINGS, Config, Settings, load_config, render_template
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MEASURES_CONFIG", "MEASURES_DATABASE_URL", "MEASURES_NOW"):
        monkeypatch.delenv(name, raising=False)


def test_shipped_config_is_the_rendered_table() -> None:
    # config.toml is generated from SETTINGS: an undocumented key cannot exist.
    assert (ROOT / "config.toml").read_text(encoding="utf-8") == render_template()


def _value(config: Config, key: str) -> object:
    found: object = config.settings
    for part in key.split("."):
        found = getattr(found, part)
    return found


def test_every_setting_has_help_and_the_template_loads_to_the_defaults(tmp_path: Path) -> None:
    assert all(s.help.strip() for s in SETTINGS)
    path = tmp_path / "config.toml"
    path.write_text(render_template(), encoding="utf-8")
    config = load_config(path)
    assert config.settings == Settings()
    assert all(s.default == _value(config, s.key) for s in SETTINGS)
    assert config.database_url == f"sqlite:///{tmp_path / 'data' / 'measures.db'}"
    assert str(config.timezone) == "Europe/Moscow"
    assert config.spool_dir == tmp_path / "data" / "mail"


def test_defaults_without_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config()
    assert config.source is None
    assert config.data_dir == tmp_path / "data"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[web]\nprot = 8080\n", r"config.toml:2: web.prot: неизвестный ключ"),
        ('[web]\nport = "8080"\n', r"config.toml:2: web.port: ожидается целое число"),
        ("[web]\nport = true\n", r"config.toml:2: web.port: ожидается целое число"),
        ('[mail]\ntransport = "pigeon"\n', r"mail.transport: ожидается одно из: spool, smtp"),
        # A zero or negative interval made the daemon spin (issue 8): numbers have ranges.
        (
            "[daemon]\nsweep_seconds = 0\n",
            r"config.toml:2: daemon.sweep_seconds: ожидается не меньше 1",
        ),
        ("[daemon]\ndelivery_seconds = -5\n", r"daemon.delivery_seconds: ожидается не меньше 1"),
        ("[web]\nport = 70000\n", r"config.toml:2: web.port: ожидается не больше 65535"),
        ("[mail]\nmax_attempts = 0\n", r"mail.max_attempts: ожидается не меньше 1"),
        (
            '[committee]\ntimezone = "Mars/Olympus"\n',
            r"committee.timezone: неизвестный часовой пояс",
        ),
        ('[working_hours]\nstart = "9 утра"\n', r"working_hours.start: ожидается время"),
        ('[working_hours]\nstart = "18:00"\nend = "09:00"\n', r"должно быть позже"),
        ("[web\nport = 1\n", r"config.toml: ошибка синтаксиса TOML"),
        ('colour = "red"\n', r"config.toml:1: colour: неизвестный ключ"),
    ],
)
def test_malformed_config_names_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_explicit_config_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEASURES_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"missing\.toml: файл не найден"):
        load_config()


def test_environment_points_to_config_and_overrides_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "other.toml"
    path.write_text('[database]\nurl = "sqlite:////nowhere/file.db"\n', encoding="utf-8")
    monkeypatch.setenv("MEASURES_CONFIG", str(path))
    assert load_config().database_url == "sqlite:////nowhere/file.db"
    monkeypatch.setenv("MEASURES_DATABASE_URL", "postgresql+psycopg://u@h/db")
    config = load_config()
    assert config.database_url == "postgresql+psycopg://u@h/db"
    assert config.overrides == ("MEASURES_DATABASE_URL",)


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("", encoding="utf-8")
    config = load_config(path)
    first = config.secret_key()
    assert len(first) >= 40
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0
    assert load_config(path).secret_key() == first
    other = tmp_path / "b"
    other.mkdir()
    (other / "config.toml").write_text("", encoding="utf-8")
    assert load_config(other / "config.toml").secret_key() != first


def test_calendar_corrections(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[calendar]\nextra_holidays = ["2027-01-09"]\n', encoding="utf-8")
    config = load_config(path)
    from datetime import date

    assert config.extra_holidays == (date(2027, 1, 9),)
    assert config.extra_working_days == ()
    path.write_text('[calendar]\nextra_holidays = ["9 января"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"calendar\.extra_holidays: ожидаются даты"):
        load_config(path)
    path.write_text('[calendar]\nextra_working_days = "2027-01-09"\n', encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"config\.toml:2: calendar\.extra_working_days: ожидается список"
    ):
        load_config(path)
