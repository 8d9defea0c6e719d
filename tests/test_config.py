"""Configuration is one object; flags win over the environment, read in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.config import DEFAULT_OPENAI_MODEL, load_config
from extractor.errors import ConfigError


def test_environment_is_read_when_flags_are_absent() -> None:
    env = {"EXTRACTOR_MODEL": "m", "EXTRACTOR_BASE_URL": "http://h/v1/", "OPENAI_API_KEY": "k"}
    config = load_config(environ=env)
    assert (config.model, config.base_url, config.api_key) == ("m", "http://h/v1", "k")
    assert not config.embedded


def test_flags_win_over_environment() -> None:
    config = load_config(
        model="flag", base_url="http://flag/v1", environ={"EXTRACTOR_MODEL": "env"}
    )
    assert (config.model, config.base_url) == ("flag", "http://flag/v1")


def test_no_base_url_means_embedded_and_url_without_model_gets_default() -> None:
    assert load_config(environ={}).embedded
    assert load_config(base_url="http://x/v1", environ={}).model == DEFAULT_OPENAI_MODEL


def test_bad_combinations_are_config_errors(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(ConfigError, match="--gguf"):
        load_config(gguf=gguf, base_url="http://x/v1", environ={})
    with pytest.raises(ConfigError, match="not found"):
        load_config(gguf=tmp_path / "missing.gguf", environ={})
    with pytest.raises(ConfigError, match="temperature"):
        load_config(temperature=5, environ={})


def test_generation_params_hold_what_changes_the_answer() -> None:
    params = load_config(temperature=0.5, max_completion_tokens=100, environ={}).generation_params()
    assert params["temperature"] == 0.5
    assert params["max_tokens"] == 100
