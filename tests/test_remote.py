"""Remote models: alias resolution, key handling, and the real `openai` client against the local fake server."""

from __future__ import annotations

import time

import pytest

from pytest_cudabench.errors import ConfigError, ModelError
from pytest_cudabench.generation.kinds import create_model
from pytest_cudabench.generation.models import GenerationRequest
from pytest_cudabench.generation.remote import RemoteModel, create_remote_model, resolve_model_config, scrub
from pytest_cudabench.tasks.loader import load_task

try:
    from fake_openai_server import FAKE_KEY, fake_openai  # noqa: F401 - fixture
except ImportError:  # tests/ as a package
    from tests.fake_openai_server import FAKE_KEY, fake_openai  # type: ignore[no-redef]  # noqa: F401

from conftest import SUITE


@pytest.fixture(scope="module")
def task():
    return load_task(SUITE / "basics" / "vector_add", SUITE)


def request_for(task, sample=0, text="write it"):
    msgs = [{"role": "system", "content": "rules"}, {"role": "user", "content": text}]
    return GenerationRequest(task=task, level=1, sample=sample, messages=msgs, prompt_hash="h")


def fast(base_url, **extra):
    """A project table naming the fake server, with quick retries."""
    table = {"base_url": base_url, "model": "fake-model", "api_key_env": "FAKE_KEY_ENV", "timeout": 1.0,
             "max_retries": 3, "retry_base_s": 0.01, "retry_max_s": 2.0, **extra}
    return {"models": {"fake": table}}


@pytest.fixture
def key_env(monkeypatch):
    monkeypatch.setenv("FAKE_KEY_ENV", FAKE_KEY)


# ----------------------------------------------------------------------------- resolution


def test_builtin_aliases_resolve_without_configuration():
    claude = resolve_model_config("claude")
    assert claude.base_url == "https://api.anthropic.com/v1/" and claude.api_key_env == "ANTHROPIC_API_KEY"
    assert claude.model.startswith("claude-")
    gpt = resolve_model_config("gpt-4o")
    assert (gpt.model, gpt.base_url, gpt.api_key_env) == ("gpt-4o", "https://api.openai.com/v1", "OPENAI_API_KEY")
    assert gpt.max_tokens_param == "max_completion_tokens" and gpt.temperature is None
    deepseek = resolve_model_config("deepseek")
    assert (deepseek.model, deepseek.api_key_env) == ("deepseek-chat", "DEEPSEEK_API_KEY")
    local = resolve_model_config("local")
    assert local.base_url == "http://127.0.0.1:8000/v1" and local.api_key_optional
    assert resolve_model_config("local:qwen2.5-coder").model == "qwen2.5-coder"


def test_ad_hoc_spec():
    config = resolve_model_config("openai:my-model@http://127.0.0.1:9999/v1")
    assert (config.model, config.base_url, config.api_key_env) == ("my-model", "http://127.0.0.1:9999/v1",
                                                                    "OPENAI_API_KEY")
    assert resolve_model_config("openai:gpt-4.1").base_url == "https://api.openai.com/v1"
    # A [models.openai] table configures every ad-hoc model.
    config = resolve_model_config("openai:m@http://h/v1", {"models": {"openai": {"api_key_env": "OTHER"}}})
    assert config.api_key_env == "OTHER"
    with pytest.raises(ConfigError, match="openai:<model>@<base_url>"):
        resolve_model_config("openai:@http://h/v1")
    with pytest.raises(ConfigError, match="http"):
        resolve_model_config("openai:m@ftp://h")


def test_project_tables_override_and_extend():
    project = {"models": {
        "claude": {"model": "claude-opus-4-1", "price_input": 15, "price_output": 75},
        "mine": {"extends": "deepseek", "temperature": 0.7, "headers": {"X-Team": "gpu"}, "params": {"top_p": 0.9}},
        "server": {"base_url": "http://gpu-box:8000/v1", "model": "qwen", "api_key_env": "BOX_KEY",
                   "temperature": "default"},
    }}
    claude = resolve_model_config("claude", project)
    assert claude.model == "claude-opus-4-1" and claude.base_url == "https://api.anthropic.com/v1/"
    assert claude.cost(1_000_000, 100_000) == pytest.approx(15 + 7.5)
    mine = resolve_model_config("mine", project)
    assert (mine.base_url, mine.model, mine.temperature) == ("https://api.deepseek.com/v1", "deepseek-chat", 0.7)
    assert mine.headers == {"X-Team": "gpu"} and mine.params == {"top_p": 0.9}
    assert mine.cost(10, 10) is None
    assert resolve_model_config("server", project).temperature is None


@pytest.mark.parametrize("table, match", [
    ({"base_url": "http://h/v1", "model": "m", "api_key": "sk-secret"}, "environment variable"),
    ({"base_url": "http://h/v1", "model": "m", "api_key_env": "sk-abc/def"}, "NAME of an environment variable"),
    ({"base_url": "http://h/v1", "model": "m", "temprature": 0.1}, "unknown key 'temprature'"),
    ({"base_url": "http://h/v1", "model": "m", "max_tokens": "many"}, "'max_tokens' must be int"),
    ({"model": "m"}, "'base_url' is not set"),
    ({"extends": "nonesuch"}, "unknown model"),
    ({"extends": "x"}, "loops"),
])
def test_bad_model_tables(table, match):
    with pytest.raises(ConfigError, match=match):
        resolve_model_config("x", {"models": {"x": table}})


def test_unknown_alias_lists_what_exists():
    with pytest.raises(ConfigError) as info:
        create_model("nonesuch", {"models": {"mine": {"base_url": "http://h/v1", "model": "m"}}})
    message = str(info.value)
    assert "nonesuch" in message and "claude" in message and "mine" in message and "openai:<model>@<base_url>" in message


def test_missing_key_fails_with_one_clear_message(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY") as info:
        create_model("claude", {})
    assert str(info.value).count("\n") == 0
    monkeypatch.delenv("LOCAL_API_KEY", raising=False)
    assert isinstance(create_model("local", {}), RemoteModel)  # the key is optional there


# ----------------------------------------------------------------------------- calls against the fake server


def test_answer_usage_latency_cost(fake_openai, key_env, task):
    fake_openai.latency_s = 0.05
    model = create_remote_model("fake", fast(fake_openai.base_url, price_input=2.0, price_output=10.0))
    generation = model.generate(request_for(task))
    assert "```cuda" in generation.content and generation.finish_reason == "stop"
    assert generation.model == "fake-model" and generation.tokens_in == 3 and generation.tokens_out > 0
    assert generation.latency_s >= 0.05
    assert generation.cost_usd == pytest.approx((3 * 2.0 + generation.tokens_out * 10.0) / 1e6)
    sent = fake_openai.requests[0]
    assert sent["headers"]["authorization"] == f"Bearer {FAKE_KEY}"
    assert sent["body"]["model"] == "fake-model" and sent["body"]["temperature"] == 0.2
    assert sent["body"]["max_tokens"] == 8192


def test_headers_params_and_token_parameter(fake_openai, key_env, task):
    project = fast(fake_openai.base_url, headers={"X-Team": "gpu"}, params={"top_p": 0.5, "seed": 7},
                   temperature="default", max_tokens=100, max_tokens_param="max_completion_tokens")
    create_remote_model("fake", project).generate(request_for(task))
    sent = fake_openai.requests[0]
    assert sent["headers"]["x-team"] == "gpu"
    assert sent["body"]["top_p"] == 0.5 and sent["body"]["seed"] == 7
    assert "temperature" not in sent["body"] and "max_tokens" not in sent["body"]
    assert sent["body"]["max_completion_tokens"] == 100


def test_rate_limit_honours_retry_after(fake_openai, key_env, task):
    model = create_remote_model("fake", fast(fake_openai.base_url))
    fake_openai.faults.append({"kind": "429", "retry_after": 0.6})
    start = time.perf_counter()
    generation = model.generate(request_for(task))
    assert time.perf_counter() - start >= 0.6  # the backoff alone would be ~0.01 s
    assert fake_openai.request_count == 2 and "```" in generation.content


def test_retry_after_is_capped(fake_openai, key_env, task):
    model = create_remote_model("fake", fast(fake_openai.base_url, retry_max_s=0.2))
    fake_openai.faults.append({"kind": "429", "retry_after": 3600})
    start = time.perf_counter()
    model.generate(request_for(task))
    assert time.perf_counter() - start < 2


def test_server_errors_and_timeouts_are_retried(fake_openai, key_env, task):
    model = create_remote_model("fake", fast(fake_openai.base_url, timeout=0.3))
    fake_openai.faults.extend(["500", "503", {"kind": "timeout", "sleep": 1.0}])
    generation = model.generate(request_for(task))
    assert "```" in generation.content
    assert fake_openai.request_count == 4 and model.requests_made == 4


def test_after_the_last_try_the_error_names_status_and_message(fake_openai, key_env, task):
    model = create_remote_model("fake", fast(fake_openai.base_url, max_retries=2))
    fake_openai.faults.extend(["500"] * 5)
    with pytest.raises(ModelError, match=r"^model API failed: 500 injected 500$"):
        model.generate(request_for(task))
    assert fake_openai.request_count == 3


def test_timeouts_exhausted(fake_openai, key_env, task):
    model = create_remote_model("fake", fast(fake_openai.base_url, max_retries=1, timeout=0.2))
    fake_openai.faults.extend([{"kind": "timeout", "sleep": 1.0}] * 2)
    with pytest.raises(ModelError, match=r"^model API failed: timeout after 0.2 s"):
        model.generate(request_for(task))


def test_client_errors_are_not_retried(fake_openai, key_env, task):
    model = create_remote_model("fake", fast(fake_openai.base_url))
    fake_openai.faults.append("400")
    with pytest.raises(ModelError, match="model API failed: 400 injected 400"):
        model.generate(request_for(task))
    assert fake_openai.request_count == 1


def test_wrong_key_is_a_401_and_the_key_is_scrubbed(fake_openai, monkeypatch, task):
    monkeypatch.setenv("FAKE_KEY_ENV", "sk-wrong-key-abcdefghijklmnop")
    model = create_remote_model("fake", fast(fake_openai.base_url))
    with pytest.raises(ModelError) as info:
        model.generate(request_for(task))
    assert str(info.value).startswith("model API failed: 401")
    # A server that echoes the key in its error message: the message is scrubbed.
    monkeypatch.setenv("FAKE_KEY_ENV", FAKE_KEY)
    model = create_remote_model("fake", fast(fake_openai.base_url, max_retries=0))
    fake_openai.faults.append({"kind": "500", "message": f"bad key {FAKE_KEY} for you"})
    with pytest.raises(ModelError) as info:
        model.generate(request_for(task))
    assert FAKE_KEY not in str(info.value) and "***" in str(info.value)
    assert FAKE_KEY not in repr(model) and FAKE_KEY not in str(vars(model.config))


def test_connection_refused(key_env, task):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model = create_remote_model("fake", fast(f"http://127.0.0.1:{port}/v1", max_retries=1))
    with pytest.raises(ModelError, match="model API failed: connection error"):
        model.generate(request_for(task))


def test_truncated_and_codeless_answers_are_returned_as_they_are(fake_openai, key_env, task):
    model = create_remote_model("fake", fast(fake_openai.base_url))
    fake_openai.faults.extend(["length", "nocode", "empty"])
    truncated = model.generate(request_for(task))
    assert truncated.finish_reason == "length" and truncated.content.count("```") == 1
    assert "```" not in model.generate(request_for(task)).content
    assert model.generate(request_for(task)).content == ""


def test_scrub():
    text = "key sk-abcdefghijklmnop, header Authorization: Bearer abc.def.ghijklmnop and secret hunter22"
    cleaned = scrub(text, ["hunter22"])
    assert "sk-abcdefghijklmnop" not in cleaned and "abc.def.ghijklmnop" not in cleaned and "hunter22" not in cleaned
    assert scrub("nothing to hide") == "nothing to hide"
