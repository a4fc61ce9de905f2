"""The config contract: keys as documented, paths relative to the config file, strict loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.errors import ConfigError
from watcher.settings import load_settings

CONTRACT = """
[database]
url = "sqlite:///watcher.db"
[slack]
channel = "#news-alerts"
base_url = "https://slack.com/api/"
[rules]
path = "rules"
[baseline]
path = "seeds"
[fetch]
allow_private_addresses = false
[[feeds]]
url = "https://example.org/world.rss"
"""


def test_the_contract_keys_work_and_paths_resolve_against_the_config_folder(tmp_path,
                                                                             monkeypatch):
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "w.toml").write_text(CONTRACT)
    monkeypatch.chdir(tmp_path)  # somewhere else than the config
    s = load_settings(folder / "w.toml")
    assert s.database_url == f"sqlite:///{folder / 'watcher.db'}"
    assert s.rules_dir == folder / "rules" and s.baseline_dir == folder / "seeds"
    assert s.slack.channel == "#news-alerts" and s.slack.base_url == "https://slack.com/api/"
    assert s.fetch.allow_private_addresses is False
    assert [f.url for f in s.feeds] == ["https://example.org/world.rss"]


def test_config_path_from_environment_and_default(tmp_path, monkeypatch):
    (tmp_path / "elsewhere.toml").write_text('[schedule]\ninterval = 42\n')
    monkeypatch.setenv("WATCHER_CONFIG", str(tmp_path / "elsewhere.toml"))
    assert load_settings().schedule.interval == 42
    monkeypatch.delenv("WATCHER_CONFIG")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "watcher.toml").write_text('[schedule]\ninterval = 7\n')
    assert load_settings().schedule.interval == 7
    (tmp_path / "watcher.toml").unlink()
    assert load_settings().schedule.interval == 300  # no config at all: the defaults


@pytest.mark.parametrize("text, message", [
    ("[fetch]\nallow_private_addresses = 'yes'\n",
     "'fetch.allow_private_addresses' must be bool"),
    ("[schedule]\ninterval = 1.5\n", "'schedule.interval' must be int"),
    ("[[feeds]]\nname = 'x'\n", "[feeds[0]]"),
    ("[nonsense]\n", "unknown section [nonsense]"),
    ("[[feeds]]\nurl = 'https://a'\nevery = 5\n", "unknown key 'every' in [feeds[0]]"),
])
def test_invalid_configs_name_the_key(tmp_path, text, message):
    (tmp_path / "w.toml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "w.toml")
    assert message in str(err.value) and str(tmp_path / "w.toml") in str(err.value)


def test_an_explicit_config_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(Path(tmp_path / "missing.toml"))
