"""Settings: flag > environment > glasspane.toml in the data directory > default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from glasspane.errors import ConfigError
from glasspane.settings import BY_NAME, CONFIG_FILE, SETTINGS, Config, resolve


def write_config(data_dir: Path, text: str) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / CONFIG_FILE
    path.write_text(text)
    return path


def resolve_in(data_dir: Path, flags: dict[str, Any] | None = None, **env: str) -> Config:
    return resolve({"data_dir": str(data_dir), **(flags or {})}, environ=env)


# -- declarations ------------------------------------------------------------------------


def test_names_are_unique_and_indexed() -> None:
    assert len(BY_NAME) == len(SETTINGS)
    assert all(BY_NAME[s.name] is s for s in SETTINGS)


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_each_setting_is_declared_completely(setting: Any) -> None:
    assert setting.env == "GLASSPANE_" + setting.name.upper()
    assert setting.flag == "--" + setting.name.replace("_", "-")
    assert setting.help.strip()
    assert setting.type(setting.default) == setting.default  # the default is of its type


def test_documented_ingest_limits() -> None:
    MiB = 1024 * 1024
    assert BY_NAME["max_body_size"].default == 20 * MiB
    assert BY_NAME["max_decompressed_size"].default == 100 * MiB
    assert BY_NAME["max_item_size"].default == 10 * MiB
    assert BY_NAME["alert_interval"].default == 30.0
    assert BY_NAME["port"].default == 8000
    assert BY_NAME["host"].default == "127.0.0.1"


# -- precedence --------------------------------------------------------------------------

PORT_SOURCES = [
    pytest.param(9002, "9001", "port = 9000", 9002, id="flag-beats-all"),
    pytest.param(None, "9001", "port = 9000", 9001, id="env-beats-file"),
    pytest.param(None, None, "port = 9000", 9000, id="file-beats-default"),
    pytest.param(None, None, None, 8000, id="default"),
    pytest.param(9002, None, "port = 9000", 9002, id="flag-beats-file"),
    pytest.param(9002, "9001", None, 9002, id="flag-beats-env"),
]


@pytest.mark.parametrize(("flag", "env", "file", "expected"), PORT_SOURCES)
def test_precedence(
    tmp_path: Path, flag: int | None, env: str | None, file: str | None, expected: int
) -> None:
    if file is not None:
        write_config(tmp_path, file)
    environ = {"GLASSPANE_PORT": env} if env is not None else {}
    config = resolve({"data_dir": str(tmp_path), "port": flag}, environ=environ)
    assert config.port == expected
    assert isinstance(config.port, int)


def test_flag_given_as_none_means_not_given(tmp_path: Path) -> None:
    config = resolve_in(tmp_path, {"port": None, "host": None}, GLASSPANE_HOST="0.0.0.0")
    assert config.host == "0.0.0.0"
    assert config.port == 8000


def test_environment_values_are_converted_to_the_setting_type(tmp_path: Path) -> None:
    config = resolve_in(
        tmp_path,
        GLASSPANE_PORT="9100",
        GLASSPANE_ALERT_INTERVAL="2.5",
        GLASSPANE_MAX_ITEM_SIZE="1024",
        GLASSPANE_PUBLIC_URL="https://traces.example.com/",
    )
    assert (config.port, config.alert_interval, config.max_item_size) == (9100, 2.5, 1024)
    assert config.public_url == "https://traces.example.com/"


def test_file_values_of_every_type(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        'host = "0.0.0.0"\nport = 9300\nalert_interval = 5\napdex_threshold_ms = 250.5\n'
        'max_body_size = 1048576\nstore = "duckdb:///tmp/x.duckdb"\n',
    )
    config = resolve_in(tmp_path)
    assert config.host == "0.0.0.0"
    assert config.port == 9300
    assert config.alert_interval == 5.0 and isinstance(config.alert_interval, float)
    assert config.apdex_threshold_ms == 250.5
    assert config.max_body_size == 1048576
    assert config.store == "duckdb:///tmp/x.duckdb"


def test_file_is_read_from_the_data_dir_given_by_env(tmp_path: Path) -> None:
    write_config(tmp_path / "from-env", "port = 9400")
    write_config(tmp_path / "from-flag", "port = 9500")
    config = resolve({}, environ={"GLASSPANE_DATA_DIR": str(tmp_path / "from-env")})
    assert config.port == 9400
    config = resolve(
        {"data_dir": str(tmp_path / "from-flag")},
        environ={"GLASSPANE_DATA_DIR": str(tmp_path / "from-env")},
    )
    assert config.port == 9500
    assert config.data_path == tmp_path / "from-flag"


def test_default_data_dir_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path / "glasspane-data", "port = 9600")
    config = resolve({}, environ={})
    assert config.data_dir == "./glasspane-data"
    assert config.port == 9600


def test_missing_data_dir_is_fine(tmp_path: Path) -> None:
    config = resolve_in(tmp_path / "does" / "not" / "exist")
    assert {name: config.values[name] for name in BY_NAME if name != "data_dir"} == {
        s.name: s.default for s in SETTINGS if s.name != "data_dir"
    }


def test_unrelated_environment_is_ignored(tmp_path: Path) -> None:
    config = resolve_in(tmp_path, GLASSPANE_URL="http://x", GLASSPANE_TOKEN="t", PORT="1")
    assert config.port == 8000


def test_os_environ_is_the_default_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLASSPANE_PORT", "9700")
    assert resolve({"data_dir": str(tmp_path)}).port == 9700


# -- rejected ----------------------------------------------------------------------------


def test_unknown_key_in_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "port = 9000\nprot = 9001\nzzz = 1\n")
    with pytest.raises(ConfigError) as caught:
        resolve_in(tmp_path)
    message = str(caught.value)
    assert str(path) in message
    assert "prot, zzz" in message
    assert "port" in message  # the known names are listed


def test_unknown_flag() -> None:
    with pytest.raises(ConfigError, match=r"unknown setting.*bogus"):
        resolve({"bogus": 1}, environ={})


def test_invalid_toml(tmp_path: Path) -> None:
    path = write_config(tmp_path, "port = \n")
    with pytest.raises(ConfigError) as caught:
        resolve_in(tmp_path)
    assert f"{path} is not valid TOML" in str(caught.value)


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("GLASSPANE_PORT", "eighty"),
        ("GLASSPANE_PORT", "1.5"),
        ("GLASSPANE_PORT", ""),
        ("GLASSPANE_ALERT_INTERVAL", "soon"),
        ("GLASSPANE_MAX_ITEM_SIZE", "10MiB"),
    ],
)
def test_bad_environment_value_names_the_setting(tmp_path: Path, env: str, value: str) -> None:
    name = env.removeprefix("GLASSPANE_").lower()
    with pytest.raises(ConfigError) as caught:
        resolve_in(tmp_path, **{env: value})
    message = str(caught.value)
    assert f"Setting {name} from {env}" in message
    assert repr(value) in message


@pytest.mark.parametrize(
    ("line", "name"),
    [
        pytest.param('port = "eighty"', "port", id="int-from-word"),
        pytest.param("port = 1.5", "port", id="int-from-fraction"),
        pytest.param("port = true", "port", id="int-from-bool"),
        pytest.param("max_item_size = [1, 2]", "max_item_size", id="int-from-array"),
        pytest.param("alert_interval = true", "alert_interval", id="float-from-bool"),
        pytest.param('alert_interval = "often"', "alert_interval", id="float-from-word"),
        pytest.param('host = ["a", "b"]', "host", id="str-from-array"),
        pytest.param("host = {a = 1}", "host", id="str-from-table"),
    ],
)
def test_bad_file_value_names_the_setting(tmp_path: Path, line: str, name: str) -> None:
    write_config(tmp_path, line + "\n")
    with pytest.raises(ConfigError) as caught:
        resolve_in(tmp_path)
    message = str(caught.value)
    assert f"Setting {name} from {CONFIG_FILE}" in message


def test_bad_flag_value_names_the_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Setting port from --port must be int"):
        resolve_in(tmp_path, {"port": "eighty"})


# -- the resolved config -----------------------------------------------------------------


def test_config_attributes(tmp_path: Path) -> None:
    config = resolve_in(tmp_path)
    assert set(config.values) == set(BY_NAME)
    assert config.max_item_size == 10 * 1024 * 1024
    with pytest.raises(AttributeError):
        _ = config.no_such_setting


@pytest.mark.parametrize(
    ("host", "port", "public_url", "base_url"),
    [
        ("127.0.0.1", 8000, "", "http://127.0.0.1:8000"),
        ("0.0.0.0", 9000, "", "http://127.0.0.1:9000"),
        ("::", 9000, "", "http://127.0.0.1:9000"),
        ("localhost", 8000, "", "http://localhost:8000"),
        ("0.0.0.0", 8000, "https://traces.example.com/", "https://traces.example.com"),
        ("0.0.0.0", 8000, "https://example.com/gp/", "https://example.com/gp"),
    ],
)
def test_base_url(tmp_path: Path, host: str, port: int, public_url: str, base_url: str) -> None:
    config = resolve_in(tmp_path, {"host": host, "port": port, "public_url": public_url})
    assert config.base_url == base_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("false", False), ("0", False), ("off", False), ("True", True), ("yes", True)],
)
def test_boolean_settings_from_the_environment(tmp_path: Path, raw: str, expected: bool) -> None:
    assert resolve_in(tmp_path, GLASSPANE_SCRUB=raw).scrub is expected


def test_a_boolean_setting_that_is_not_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"scrub .* must be true or false"):
        resolve_in(tmp_path, GLASSPANE_SCRUB="maybe")
    write_config(tmp_path, "store_client_ips = false\n")
    assert resolve_in(tmp_path).store_client_ips is False
