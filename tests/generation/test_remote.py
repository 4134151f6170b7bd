"""Remote models: alias resolution, key handling, and the real `openai` client against the local fake server."""

from __future__ import annotations

import time

import pytest
from helpers.fake_openai_server import FAKE_KEY
from helpers.paths import SUITE

from pytest_cudabench.errors import ConfigError, ModelError
from pytest_cudabench.generation.kinds import create_model
from pytest_cudabench.generation.models import GenerationRequest
from pytest_cudabench.generation.remote import RemoteModel, create_remote_model, resolve_model_config, scrub
from pytest_cudabench.tasks.loader import load_task


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


def test_retries_are_counted_and_latency_is_the_answering_request(fake_openai, key_env, task):
    """A rate limit (Retry-After honoured), a server error and a cut-off 200, then the answer: the answer says what
    it took, so that the run's usage can."""
    fake_openai.latency_s = 0.05
    fake_openai.each_prompt = [{"kind": "429", "retry_after": 1}, "500", "truncated"]
    model = create_remote_model("fake", fast(fake_openai.base_url))
    start = time.perf_counter()
    generation = model.generate(request_for(task))
    elapsed = time.perf_counter() - start
    assert fake_openai.request_count == 4 and "```" in generation.content
    assert (generation.http_requests, generation.rate_limited, generation.retried_errors,
            generation.malformed_200) == (4, 1, 2, 1)
    assert 1.0 <= generation.wait_s < elapsed
    assert 0.05 <= generation.latency_s < 0.5  # the answering request only
    assert generation.wait_s + 4 * 0.05 <= generation.total_latency_s <= elapsed


def test_a_refused_key_sends_one_request_however_many_threads_ask(fake_openai, monkeypatch, task):
    """401: until the server has accepted the key once, requests go one at a time; after the refusal none is sent,
    and each caller gets one message naming the model, the URL and the key's variable, never the key."""
    from concurrent.futures import ThreadPoolExecutor

    from pytest_cudabench.errors import ApiAccessDenied

    wrong = "sk-wrong-key-abcdefghijklmnop"
    monkeypatch.setenv("FAKE_KEY_ENV", wrong)
    fake_openai.latency_s = 0.2
    model = create_remote_model("fake", fast(fake_openai.base_url))
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(model.generate, request_for(task, sample=i)) for i in range(8)]
    errors = [f.exception() for f in futures]
    assert fake_openai.request_count == 1
    assert all(isinstance(e, ApiAccessDenied) for e in errors)
    message = str(errors[0]) if "not requested" not in str(errors[0]) else str(errors[1])
    assert "401 Incorrect API key provided" in message and "$FAKE_KEY_ENV" in message
    assert f"model fake-model at {fake_openai.base_url}" in message and "stopped for the whole run" in message
    assert all(wrong not in str(e) for e in errors)
    assert sum("not requested" in str(e) for e in errors) == 7
    # A key the server accepts: requests go out together again after the first answer.
    monkeypatch.setenv("FAKE_KEY_ENV", FAKE_KEY)
    fake_openai.reset()
    model = create_remote_model("fake", fast(fake_openai.base_url))
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(model.generate, [request_for(task, sample=i) for i in range(5)]))
    assert fake_openai.max_in_flight >= 2


def test_a_403_stops_the_model_too(fake_openai, key_env, task):
    from pytest_cudabench.errors import ApiAccessDenied

    fake_openai.faults.append({"kind": "403", "message": "this key may not use fake-model"})
    model = create_remote_model("fake", fast(fake_openai.base_url))
    with pytest.raises(ApiAccessDenied, match=r"^model API failed: 403 this key may not use fake-model: the API "
                                              r"refused access \(model fake-model at .*, the key in \$FAKE_KEY_ENV\)"):
        model.generate(request_for(task))
    with pytest.raises(ApiAccessDenied, match="^not requested: model API failed: 403"):
        model.generate(request_for(task, sample=1))
    assert fake_openai.request_count == 1


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


def test_malformed_200_bodies_are_retried_then_one_message(fake_openai, key_env, task):
    """A 200 whose body is not JSON (a proxy's page) or is cut off half-way is transient, like a 502."""
    model = create_remote_model("fake", fast(fake_openai.base_url))
    fake_openai.faults.extend(["badjson", "truncated"])
    assert "```" in model.generate(request_for(task)).content
    assert fake_openai.request_count == 3
    fake_openai.reset()
    fake_openai.faults.extend(["truncated"] * 5)
    with pytest.raises(ModelError, match=r"^model API failed: malformed response \(http://127.0.0.1:\d+/v1\): "
                                         r"the 200 body is not JSON \(Unterminated string"):
        model.generate(request_for(task))
    assert fake_openai.request_count == 4  # max_retries=3


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_endpoint_fails_fast_after_the_first_request(key_env, task):
    """The first request retries (a server may be starting); once it gave up without ever connecting, later
    requests fail at once with its reason, and requests waiting to retry give up too."""
    import threading

    model = create_remote_model("fake", fast(f"http://127.0.0.1:{closed_port()}/v1", max_retries=3,
                                             retry_base_s=0.4, retry_max_s=0.4))
    errors: list[str] = []

    def ask(sample):
        try:
            model.generate(request_for(task, sample=sample))
        except ModelError as exc:
            errors.append(str(exc))

    start = time.perf_counter()
    first = threading.Thread(target=ask, args=(0,))
    first.start()
    time.sleep(0.5)  # the second request starts while the first is retrying, then waits to retry itself
    second = threading.Thread(target=ask, args=(1,))
    second.start()
    first.join()
    second.join(timeout=0.3)
    assert not second.is_alive(), "a waiting request kept retrying an unreachable endpoint"
    first_done = time.perf_counter() - start
    assert 0.6 < first_done < 3, first_done
    made = model.requests_made
    later = time.perf_counter()
    for sample in range(2, 12):
        ask(sample)
    assert time.perf_counter() - later < 0.5 and model.requests_made == made  # nothing sent
    assert len(errors) == 12
    assert errors[0].startswith("model API failed: connection error (http://127.0.0.1:") and "ConnectError" in errors[0]
    for message in errors[1:]:
        assert message.startswith(errors[0]) and "an earlier request could not connect" in message, message


def test_an_endpoint_that_answered_once_keeps_its_retries(fake_openai, key_env, task):
    # Connection: close, so that stopping the server leaves no kept-alive connection to answer
    model = create_remote_model("fake", fast(fake_openai.base_url, max_retries=1, headers={"Connection": "close"}))
    model.generate(request_for(task))
    fake_openai.stop()
    for sample in (1, 2):
        with pytest.raises(ModelError, match="connection error"):
            model.generate(request_for(task, sample=sample))
    assert model.requests_made == 5  # 1 + 2 x (1 + 1 retry): a server that was up may come back
