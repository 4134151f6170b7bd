"""Remote models: any server that speaks the OpenAI chat-completions protocol, through the `openai` package.

Naming a model (``--cudabench-model=SPEC``)
-------------------------------------------

``SPEC`` is one of:

* an alias configured in ``[tool.cudabench.models.<alias>]`` of ``pyproject.toml`` (or ``[models.<alias>]`` of a
  ``cudabench.toml`` next to it);
* a built-in alias (below), usable without any configuration;
* ``openai:<model>@<base_url>``: ad hoc, e.g. ``openai:qwen2.5-coder@http://127.0.0.1:8000/v1``
  (``openai:<model>`` alone means the OpenAI API). The key is read from ``OPENAI_API_KEY`` unless a
  ``[tool.cudabench.models.openai]`` table says otherwise (its settings apply to every ad-hoc model);
* ``local:<model>``: the ``local`` alias with that model name.

Built-in aliases (a project table of the same name overrides or extends them, key by key):

==============  ====================================  =====================  ===================================
alias           base_url                              model                  key (environment variable)
==============  ====================================  =====================  ===================================
``claude``      https://api.anthropic.com/v1/         claude-sonnet-4-5      ``ANTHROPIC_API_KEY``
``gpt-*``       https://api.openai.com/v1             the alias, e.g. gpt-4o ``OPENAI_API_KEY``
``deepseek``    https://api.deepseek.com/v1           deepseek-chat          ``DEEPSEEK_API_KEY``
``local``       http://127.0.0.1:8000/v1 (vLLM,       ``default``            ``LOCAL_API_KEY``, optional
                Ollama: use port 11434)                                      (``none`` is sent when unset)
==============  ====================================  =====================  ===================================

A model table (every key optional for a built-in alias; ``base_url`` and ``model`` required otherwise)::

    [tool.cudabench.models.my-model]
    extends = "claude"               # start from another alias (built-in or configured)
    base_url = "https://..."         # OpenAI-compatible endpoint, up to /v1
    model = "provider-model-name"
    api_key_env = "MY_PROVIDER_KEY"  # NAME of the environment variable holding the key; never the key itself
    api_key_optional = false         # true: send "none" when the variable is unset (local servers)
    temperature = 0.2                # "default": do not send it (the server's default)
    max_tokens = 8192
    max_tokens_param = "max_tokens"  # or "max_completion_tokens" (newer OpenAI models)
    headers = { "anthropic-beta" = "..." }   # extra HTTP headers
    params = { top_p = 0.95 }        # extra request parameters, sent as they are in the JSON body
    price_input = 3.0                # USD per million input tokens (enables cost in the report)
    price_output = 15.0              # USD per million output tokens
    timeout = 600                    # seconds per request
    max_retries = 6                  # retries on 429, 408/409, 5xx, timeouts, connection errors and
                                     # malformed 200 bodies (not JSON, cut off, without choices)
    retry_base_s = 1.0               # exponential backoff base (doubles each retry, with jitter) ...
    retry_max_s = 60.0               # ... capped here; a server's Retry-After is honoured up to this cap

A missing key or an unknown alias raises ConfigError when the model is created (once, at session start).
Keys never appear in caches, reports, logs or exceptions: every message that leaves this module is scrubbed.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiAccessDenied, ConfigError, MalformedResponse, ModelError, RequestCancelled
from .models import Generation, GenerationRequest

DEFAULT_TEMPERATURE = 0.2
DEFAULT_MAX_TOKENS = 8192
DEFAULT_TIMEOUT_S = 600.0
DEFAULT_MAX_RETRIES = 6

BUILTIN_ALIASES: dict[str, dict[str, Any]] = {
    "claude": {"base_url": "https://api.anthropic.com/v1/", "model": "claude-sonnet-4-5",
               "api_key_env": "ANTHROPIC_API_KEY"},
    "gpt-*": {"base_url": "https://api.openai.com/v1", "api_key_env": "OPENAI_API_KEY",
              # Newer OpenAI models reject max_tokens and any temperature but their default.
              "max_tokens_param": "max_completion_tokens", "temperature": "default"},
    "deepseek": {"base_url": "https://api.deepseek.com/v1", "model": "deepseek-chat", "api_key_env": "DEEPSEEK_API_KEY"},
    "local": {"base_url": "http://127.0.0.1:8000/v1", "model": "default", "api_key_env": "LOCAL_API_KEY",
              "api_key_optional": True},
    "openai": {"base_url": "https://api.openai.com/v1", "api_key_env": "OPENAI_API_KEY"},  # the ad-hoc form
}

_KEYS: dict[str, tuple[type, ...]] = {
    "extends": (str,), "base_url": (str,), "model": (str,), "api_key_env": (str,), "api_key_optional": (bool,),
    "temperature": (int, float, str), "max_tokens": (int,), "max_tokens_param": (str,), "headers": (dict,),
    "params": (dict,), "price_input": (int, float), "price_output": (int, float), "timeout": (int, float),
    "max_retries": (int,), "retry_base_s": (int, float), "retry_max_s": (int, float),
}

# Headers whose values are credentials: never part of a cache key, never printed.
_SECRET_HEADERS = {"authorization", "x-api-key", "api-key", "proxy-authorization", "cookie"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ModelConfig:
    """A resolved model: everything needed to call it, except the key (read from the environment)."""

    name: str  # what the user typed (alias or ad-hoc spec): the report's and cache's model name
    base_url: str
    model: str
    api_key_env: str | None = None
    api_key_optional: bool = False
    temperature: float | None = DEFAULT_TEMPERATURE
    max_tokens: int | None = DEFAULT_MAX_TOKENS
    max_tokens_param: str = "max_tokens"
    headers: dict[str, str] = field(default_factory=dict, hash=False)
    params: dict[str, Any] = field(default_factory=dict, hash=False)
    price_input: float | None = None  # USD per million tokens
    price_output: float | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES
    retry_base_s: float = 1.0
    retry_max_s: float = 60.0

    def request_parameters(self) -> dict[str, Any]:
        """What, besides the messages, determines the answer: part of every cache key."""
        return {
            "base_url": self.base_url.rstrip("/"), "model": self.model, "temperature": self.temperature,
            "max_tokens": self.max_tokens, "max_tokens_param": self.max_tokens_param, "params": self.params,
            "headers": {k.lower(): v for k, v in sorted(self.headers.items()) if k.lower() not in _SECRET_HEADERS},
        }

    def cost(self, tokens_in: int | None, tokens_out: int | None) -> float | None:
        if self.price_input is None and self.price_output is None:
            return None
        if tokens_in is None and tokens_out is None:
            return None
        return round(((tokens_in or 0) * (self.price_input or 0.0) + (tokens_out or 0) * (self.price_output or 0.0))
                     / 1e6, 8)


# ----------------------------------------------------------------------------- resolving a spec


def resolve_model_config(spec: str, project: dict[str, Any] | None = None) -> ModelConfig:
    """The ModelConfig named by `spec` (see the module docstring); ConfigError if unknown or malformed."""
    project = project or {}
    configured = project.get("models", {})
    if not isinstance(configured, dict):
        raise ConfigError("[tool.cudabench.models] must be a table of model tables")
    spec = spec.strip()
    if spec.startswith("openai:"):
        rest = spec.removeprefix("openai:")
        model, _, base_url = rest.partition("@")
        if not model:
            raise ConfigError(f"--cudabench-model={spec}: expected openai:<model>@<base_url>, "
                              "e.g. openai:gpt-4o@https://api.openai.com/v1")
        table = _merged("openai", configured, spec)
        table["model"] = model
        if base_url:
            if not re.match(r"^https?://", base_url):
                raise ConfigError(f"--cudabench-model={spec}: the base URL must start with http:// or https://")
            table["base_url"] = base_url
        return _build(spec, table)
    if spec.startswith("local:") and "local" not in configured:
        table = _merged("local", configured, spec)
        table["model"] = spec.removeprefix("local:")
        return _build(spec, table)
    return _build(spec, _merged(spec, configured, spec))


def _builtin(alias: str) -> dict[str, Any] | None:
    if alias in BUILTIN_ALIASES and alias != "gpt-*":
        return dict(BUILTIN_ALIASES[alias])
    if alias.startswith("gpt-") and len(alias) > 4:
        return {**BUILTIN_ALIASES["gpt-*"], "model": alias}
    return None


def _merged(alias: str, configured: dict[str, Any], spec: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """The settings of `alias`: its built-in defaults, then what it extends, then its own project table."""
    if alias in seen:
        raise ConfigError(f"[tool.cudabench.models.{alias}]: 'extends' loops ({' -> '.join((*seen, alias))})")
    own = configured.get(alias)
    if own is not None and not isinstance(own, dict):
        raise ConfigError(f"[tool.cudabench.models.{alias}] must be a table")
    base = _builtin(alias)
    if own is None and base is None:
        names = sorted(set(configured) | {a for a in BUILTIN_ALIASES if a != "openai"})
        raise ConfigError(
            f"--cudabench-model={spec}: unknown model. Use 'reference', 'replay:PATH', a configured or built-in alias "
            f"({', '.join(names)}; gpt-* means any OpenAI model), or openai:<model>@<base_url>")
    own = dict(own or {})
    for key, value in own.items():
        if key == "api_key":
            raise ConfigError(f"[tool.cudabench.models.{alias}]: do not put the key in the configuration; "
                              "put it in an environment variable and name that variable with api_key_env")
        if key not in _KEYS:
            raise ConfigError(f"[tool.cudabench.models.{alias}]: unknown key '{key}' "
                              f"(known: {', '.join(sorted(_KEYS))})")
        kinds = _KEYS[key]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise ConfigError(f"[tool.cudabench.models.{alias}]: '{key}' must be "
                              f"{' or '.join(k.__name__ for k in kinds)}, not {value!r}")
    merged: dict[str, Any] = {}
    parent = own.pop("extends", None)
    if parent is not None:
        merged.update(_merged(parent, configured, spec, (*seen, alias)))
    elif base is not None:
        merged.update(base)
    merged.update(own)
    return merged


def _build(name: str, table: dict[str, Any]) -> ModelConfig:
    where = f"model '{name}'"
    for required in ("base_url", "model"):
        if not table.get(required):
            raise ConfigError(f"{where}: '{required}' is not set in [tool.cudabench.models.{name}]")
    env = table.get("api_key_env")
    if env is not None and not _ENV_NAME.match(env):
        raise ConfigError(f"{where}: api_key_env must be the NAME of an environment variable (like MY_API_KEY), "
                          "not the key itself")
    temperature = table.get("temperature", DEFAULT_TEMPERATURE)
    if isinstance(temperature, str):
        if temperature != "default":
            raise ConfigError(f"{where}: temperature must be a number or \"default\"")
        temperature = None
    max_tokens_param = table.get("max_tokens_param", "max_tokens")
    if max_tokens_param not in ("max_tokens", "max_completion_tokens"):
        raise ConfigError(f"{where}: max_tokens_param must be max_tokens or max_completion_tokens")
    headers = table.get("headers", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise ConfigError(f"{where}: headers must map header names to strings")
    numbers = {k: table[k] for k in ("max_tokens", "timeout", "max_retries", "retry_base_s", "retry_max_s",
                                     "price_input", "price_output") if k in table}
    for key, value in numbers.items():
        if value < 0 or (key in ("max_tokens", "timeout") and value == 0):
            raise ConfigError(f"{where}: '{key}' must be positive")
    return ModelConfig(
        name=name, base_url=table["base_url"], model=table["model"], api_key_env=env,
        api_key_optional=bool(table.get("api_key_optional", False)),
        temperature=None if temperature is None else float(temperature),
        max_tokens=table.get("max_tokens", DEFAULT_MAX_TOKENS), max_tokens_param=max_tokens_param,
        headers=dict(headers), params=dict(table.get("params", {})),
        price_input=_opt_float(table.get("price_input")), price_output=_opt_float(table.get("price_output")),
        timeout_s=float(table.get("timeout", DEFAULT_TIMEOUT_S)),
        max_retries=int(table.get("max_retries", DEFAULT_MAX_RETRIES)),
        retry_base_s=float(table.get("retry_base_s", 1.0)), retry_max_s=float(table.get("retry_max_s", 60.0)),
    )


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


# ----------------------------------------------------------------------------- scrubbing

_TOKEN_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
    re.compile(r"(?i)((?:api[_-]?key|x-api-key|authorization)[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9._~+/=-]{8,}"),
)


def scrub(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """`text` with the given secrets, and anything shaped like a bearer token or API key, replaced by ***."""
    if not text:
        return text
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text


# ----------------------------------------------------------------------------- the model


class RemoteModel:
    """One OpenAI-compatible endpoint. Thread-safe: the service calls `generate` from several threads."""

    cacheable = True

    def __init__(self, config: ModelConfig, api_key: str):
        try:
            import openai  # imported here: offline runs never need it
        except ImportError:
            raise ModelError(f"model {config.name!r} speaks the OpenAI protocol through the `openai` package, "
                             "which is not installed: pip install 'pytest-cudabench[remote]'") from None

        self.config = config
        self.name = config.name
        self.cache_identity = config.request_parameters()
        self.__key = api_key
        self.requests_made = 0  # HTTP requests, retries included
        self._lock = threading.Lock()
        self._closing = threading.Event()
        # Fail fast on an endpoint that cannot be reached: once a request has used up its retries without ever
        # connecting (refused, unknown host) and no request has reached the server, the rest fail at once with
        # that reason instead of retrying for a minute each.
        self._reached = False
        self._unreachable: str | None = None
        self._stop_waiting = threading.Event()  # set on close and when the endpoint is found unreachable
        self._key_accepted = threading.Event()  # the server answered a request with anything but 401/403
        self._probe_lock = threading.Lock()  # held by the one request in flight until then
        self._denied: str | None = None  # why the server refused the key (401/403): nothing more is sent
        self._openai = openai
        self._client = openai.OpenAI(api_key=api_key, base_url=config.base_url, timeout=config.timeout_s,
                                     max_retries=0, default_headers=dict(config.headers) or None)

    def __repr__(self) -> str:
        return f"RemoteModel({self.config.name!r}, model={self.config.model!r}, base_url={self.config.base_url!r})"

    def scrub(self, text: str) -> str:
        secrets = [self.__key] + [v for k, v in self.config.headers.items() if k.lower() in _SECRET_HEADERS]
        return scrub(text, secrets)

    def request_kwargs(self, request: GenerationRequest) -> dict[str, Any]:
        c = self.config
        kwargs: dict[str, Any] = {"model": c.model, "messages": list(request.messages)}
        if c.temperature is not None:
            kwargs["temperature"] = c.temperature
        if c.max_tokens is not None:
            kwargs[c.max_tokens_param] = c.max_tokens
        if c.params:
            kwargs["extra_body"] = dict(c.params)
        return kwargs

    def generate(self, request: GenerationRequest) -> Generation:
        openai = self._openai
        c = self.config
        kwargs = self.request_kwargs(request)
        last = "unknown error"
        connect_failed = False
        stats: dict[str, Any] = {"http_requests": 0, "rate_limited": 0, "retried_errors": 0, "malformed_200": 0,
                                 "wait_s": 0.0}
        first_start = time.perf_counter()
        for attempt in range(c.max_retries + 1):
            if self._closing.is_set():
                raise RequestCancelled(self.scrub(f"model API request cancelled (closing) after: {last}"), stats)
            if self._denied is not None:
                raise ApiAccessDenied(f"not requested: {self._denied}", stats)
            if self._unreachable is not None:
                raise ModelError(self.scrub(f"model API failed: {self._unreachable} (not sent again: an earlier "
                                            "request could not connect to this endpoint either)"), stats)
            wait: float | None = None
            connect_failed = False
            try:
                start, response = self._send(kwargs, stats)
            except openai.APIStatusError as exc:
                self._reached = True
                last = f"{exc.status_code} {_error_message(exc)}"
                if exc.status_code in (401, 403):
                    raise ApiAccessDenied(self._denied or last, stats) from None
                if not _retryable_status(exc.status_code):
                    break
                stats["rate_limited" if exc.status_code == 429 else "retried_errors"] += 1
                wait = _retry_after(exc.response.headers)
            except openai.APITimeoutError:
                stats["retried_errors"] += 1
                last = f"timeout after {c.timeout_s:g} s ({c.base_url})"
            except openai.APIConnectionError as exc:
                stats["retried_errors"] += 1
                cause = exc.__cause__ or exc
                # httpx's ConnectError: refused, unknown host, no route; other errors came after connecting
                connect_failed = type(cause).__name__ == "ConnectError"
                last = f"connection error ({c.base_url}): {type(cause).__name__}: {cause}"
            except ValueError as exc:  # a 200 whose body is not JSON (cut off, a proxy's page): transient
                self._reached = True
                stats["retried_errors"] += 1
                stats["malformed_200"] += 1
                last = f"malformed response ({c.base_url}): the 200 body is not JSON ({exc})"
            except openai.OpenAIError as exc:  # a request the client refuses to make and the like: not retried
                last = f"error {type(exc).__name__}: {exc}"
                break
            else:
                self._reached = True
                now = time.perf_counter()
                try:
                    generation = self._generation(response, now - start)
                except MalformedResponse as exc:
                    stats["retried_errors"] += 1
                    stats["malformed_200"] += 1
                    last = str(exc)
                else:
                    stats["wait_s"] = round(stats["wait_s"], 6)
                    for name, value in stats.items():
                        setattr(generation, name, value)
                    generation.total_latency_s = round(now - first_start, 6)
                    return generation
            if attempt == c.max_retries:
                break
            backoff = min(c.retry_max_s, c.retry_base_s * 2 ** attempt) * random.uniform(0.5, 1.0)
            waited = time.perf_counter()
            self._stop_waiting.wait(min(c.retry_max_s, wait) if wait is not None else backoff)
            stats["wait_s"] += time.perf_counter() - waited
        if connect_failed and not self._reached and self._unreachable is None:
            self._unreachable = last
            self._stop_waiting.set()  # requests waiting to retry give up now
        stats["wait_s"] = round(stats["wait_s"], 6)
        raise ModelError(self.scrub(f"model API failed: {last}"), stats)

    def _send(self, kwargs: dict[str, Any], stats: dict[str, Any]) -> tuple[float, Any]:
        """One request: (when it was sent, the response). Until the server has accepted the key once, requests go
        out one at a time, so that a wrong key costs one refused request per process, not one per thread."""
        while not self._key_accepted.is_set():
            if self._closing.is_set():
                raise RequestCancelled("model API request cancelled (closing) before it was sent", stats)
            if not self._probe_lock.acquire(timeout=0.1):
                continue
            try:
                if self._denied is not None:
                    raise ApiAccessDenied(f"not requested: {self._denied}", stats)
                if not self._key_accepted.is_set():
                    return self._create(kwargs, stats)
            finally:
                self._probe_lock.release()
        return self._create(kwargs, stats)

    def _create(self, kwargs: dict[str, Any], stats: dict[str, Any]) -> tuple[float, Any]:
        with self._lock:
            self.requests_made += 1
        stats["http_requests"] += 1
        start = time.perf_counter()
        try:
            response = self._client.chat.completions.create(**kwargs)
        except self._openai.APIStatusError as exc:
            if exc.status_code in (401, 403):
                self._deny(exc.status_code, _error_message(exc))  # before the probe lock lets the next one go
            else:
                self._key_accepted.set()
            raise
        except ValueError:
            self._key_accepted.set()  # a 200 all the same
            raise
        self._key_accepted.set()
        return start, response

    def _deny(self, status: int, message: str) -> None:
        """Remembers that the server refused the key, with the message every refused item carries."""
        c = self.config
        key = f"the key in ${c.api_key_env}" if c.api_key_env else "no key (api_key_env is not set)"
        what = "refused the key" if status == 401 else "refused access"
        text = self.scrub(f"model API failed: {status} {message}: the API {what} (model {c.model} at {c.base_url}, "
                          f"{key}); generation stopped for the whole run: check the key and the model's access, then "
                          "rerun (cached answers are kept)")
        with self._lock:
            if self._denied is None:
                self._denied = text

    def _generation(self, response: Any, latency_s: float) -> Generation:
        choices = getattr(response, "choices", None) or []
        if not isinstance(choices, list) or not choices:
            raise MalformedResponse(f"malformed response ({self.config.base_url}): a 200 without choices")
        choice = choices[0]
        message = getattr(choice, "message", None)
        content = getattr(message, "content", None) or ""
        if not content:  # some reasoning servers put everything in a side channel
            content = getattr(message, "reasoning_content", None) or ""
        usage = getattr(response, "usage", None)
        tokens_in = getattr(usage, "prompt_tokens", None) if usage is not None else None
        tokens_out = getattr(usage, "completion_tokens", None) if usage is not None else None
        return Generation(
            content=self.scrub(content), model=getattr(response, "model", None) or self.config.model,
            tokens_in=tokens_in, tokens_out=tokens_out, latency_s=round(latency_s, 6),
            cost_usd=self.config.cost(tokens_in, tokens_out), cached=False,
            finish_reason=getattr(choice, "finish_reason", None),
        )

    def close(self) -> None:
        """Stops retrying (requests in flight still complete, so their answers get cached). The HTTP client itself
        is left to garbage collection: closing it would break those requests."""
        self._closing.set()
        self._stop_waiting.set()


def _retryable_status(status: int) -> bool:
    return status in (408, 409, 425, 429) or status >= 500


def _error_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
        if isinstance(inner, str):
            return inner
    text = str(getattr(exc, "message", "") or exc)
    return re.sub(r"^Error code: \d+ - ", "", text)[:500]


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date); None if absent."""
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, AttributeError):
        return None


def create_remote_model(spec: str, project: dict[str, Any]) -> RemoteModel:
    """The model named `spec`; ConfigError (-> one UsageError at session start) if unknown or its key is missing."""
    config = resolve_model_config(spec, project)
    key = os.environ.get(config.api_key_env, "") if config.api_key_env else ""
    if not key.strip():
        if config.api_key_optional or config.api_key_env is None:
            key = "none"
        else:
            raise ConfigError(
                f"--cudabench-model={spec}: the API key is missing: set the environment variable "
                f"{config.api_key_env} (model {config.model} at {config.base_url}), or name another variable "
                f"with api_key_env in [tool.cudabench.models.{spec.split(':')[0]}]")
    try:
        return RemoteModel(config, key.strip())
    except ImportError:
        raise ConfigError(f"--cudabench-model={spec}: remote models need the 'openai' package "
                          "(pip install openai)") from None


def config_digest(config: ModelConfig) -> str:
    """A short stable hash of what determines a model's answers (for file names and logs)."""
    payload = json.dumps(config.request_parameters(), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]
