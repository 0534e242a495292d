"""jiceng.toml: validated, typo-proof, secrets from the environment."""

from __future__ import annotations

import pytest

from jiceng.core.config import ConfigError, load_settings, write_starter


def test_unknown_keys_and_bad_values_are_all_reported_with_their_path(tmp_path):
    path = tmp_path / "jiceng.toml"
    path.write_text(
        'environment = "development"\nsever_port = 1\n[server]\nport = "eighty"\n[security]\nhttps_onyl = true\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    problems = {p.field: p for p in caught.value.problems}
    assert set(problems) == {"sever_port", "server.port", "security.https_onyl"}
    assert problems["sever_port"].message == "未知字段，请检查拼写。"
    assert problems["server.port"].message_en == "Must be a whole number."


def test_placeholder_secret_is_refused_in_production(tmp_path, monkeypatch):
    monkeypatch.delenv("JICENG_SECRET_KEY", raising=False)
    path = tmp_path / "jiceng.toml"
    path.write_text('environment = "production"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert [p.field for p in caught.value.problems] == ["secret_key"]
    monkeypatch.setenv("JICENG_SECRET_KEY", "s" * 40)
    assert load_settings(path).secret_key.get_secret_value() == "s" * 40


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    path = tmp_path / "jiceng.toml"
    write_starter(path, database_url="sqlite:///from-file.db")
    monkeypatch.setenv("JICENG_DATABASE_URL", "postgresql://db.internal/jiceng")
    assert load_settings(path).database_url == "postgresql://db.internal/jiceng"


def test_starter_file_is_valid_and_never_overwritten(tmp_path):
    path = tmp_path / "jiceng.toml"
    assert write_starter(path)
    first = path.read_text(encoding="utf-8")
    assert not write_starter(path)
    assert path.read_text(encoding="utf-8") == first
    settings = load_settings(path, required=True)
    assert len(settings.secret_key.get_secret_value()) >= 32


def test_not_toml_is_one_clear_problem(tmp_path):
    path = tmp_path / "jiceng.toml"
    path.write_text("this is = = not toml", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems[0].field == "(file)"
    assert "TOML" in caught.value.problems[0].message


def test_config_check_command(tmp_path, cli):
    good = tmp_path / "good.toml"
    write_starter(good)
    assert cli("config", "check", str(good)).exit_code == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('environment = "staging"\n[server]\nprot = 80\n', encoding="utf-8")
    result = cli("config", "check", str(bad))
    assert result.exit_code == 1
    assert "environment" in result.output and "server.prot" in result.output
    assert "2" in result.output
    missing = cli("config", "check", str(tmp_path / "absent.toml"))
    assert missing.exit_code == 1
