"""A local server that speaks the OpenAI chat-completions protocol, for tests and benchmarks (no mocking of the client).

    with FakeOpenAIServer(latency_s=0.1) as server:
        server.base_url            # http://127.0.0.1:<port>/v1
        server.faults.extend(["429", "500"])   # the next two requests fail, in that order
        ...
        server.request_count, server.requests  # what the client sent (headers included, names lowercased)

Faults (strings, or dicts with "kind" and options), consumed one per request in arrival order:
  "429"  (option retry_after: seconds, sent as Retry-After), "500", "502", "503", "400", "401", "403", "404"
  (option message: the error message),
  "timeout" (option sleep: seconds; the server stalls longer than the client waits),
  "length" (a truncated answer, finish_reason "length"), "nocode" (an answer without a code block),
  "empty" (content null),
  "badjson" (a 200 whose body is not JSON, e.g. a proxy's HTML page), "truncated" (a 200 whose JSON body stops
  half-way, e.g. a proxy that cut it; its Content-Length is that of the cut body).
Faults can also be tied to prompts: `server.fault_for(substring, fault, times=1)`; `server.each_prompt = [f1, f2]`
makes every distinct prompt meet f1, then f2, then get its answer (as a rate-limited, flaky provider would).

The answer is `responder(messages) -> str` (default: a fenced CUDA block naming a hash of the prompt).
`fake_openai` is a pytest fixture around it (import it into a test module, or list this module in pytest_plugins).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

try:
    import pytest
except ImportError:  # the benchmark can run without pytest
    pytest = None  # type: ignore[assignment]

FAKE_KEY = "sk-fake-test-key-0123456789abcdef"


def default_responder(messages: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:12]
    return ("Here is my solution.\n\n```cuda\n#include <cuda_runtime.h>\n// answer " + digest +
            '\nextern "C" void solve(const float* a, float* b, int n) {}\n```\n')


class FakeOpenAIServer:
    def __init__(self, latency_s: float = 0.0, responder: Callable[[list[dict[str, Any]]], str] | None = None,
                 api_key: str | None = FAKE_KEY, host: str = "127.0.0.1", port: int = 0):
        self.latency_s = latency_s
        self.responder = responder or default_responder
        self.api_key = api_key  # None: accept any key
        self.faults: list[Any] = []
        self.prompt_faults: list[list[Any]] = []  # [substring, fault, remaining]
        self.each_prompt: list[Any] = []  # faults every distinct prompt meets in turn before its answer
        self._prompt_turns: dict[str, int] = {}
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self._httpd = _Server((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def request_count(self) -> int:
        with self.lock:
            return len(self.requests)

    def fault_for(self, substring: str, fault: Any, times: int = 1) -> None:
        with self.lock:
            self.prompt_faults.append([substring, fault, times])

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.faults.clear()
            self.prompt_faults.clear()
            self.each_prompt = []
            self._prompt_turns.clear()
            self.max_in_flight = 0

    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ serving

    def _next_fault(self, messages: list[dict[str, Any]]) -> Any:
        text = json.dumps(messages)
        with self.lock:
            for entry in self.prompt_faults:
                substring, fault, remaining = entry
                if remaining > 0 and substring in text:
                    entry[2] -= 1
                    return fault
            turn = self._prompt_turns.get(text, 0)
            if turn < len(self.each_prompt):
                self._prompt_turns[text] = turn + 1
                return self.each_prompt[turn]
            if self.faults:
                return self.faults.pop(0)
        return None

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return _send(handler, 400, {"error": {"message": "invalid JSON", "type": "invalid_request_error"}})
        with self.lock:
            headers = {k.lower(): v for k, v in handler.headers.items()}
            self.requests.append({"path": handler.path, "headers": headers, "body": body})
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._answer(handler, body)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _answer(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        if handler.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            return _send(handler, 404, {"error": {"message": f"no route {handler.path}", "type": "not_found"}})
        if self.api_key is not None and handler.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _send(handler, 401, {"error": {"message": "Incorrect API key provided", "type": "auth_error"}})
        messages = body.get("messages")
        if not isinstance(messages, list) or not body.get("model"):
            return _send(handler, 400, {"error": {"message": "model and messages are required",
                                                  "type": "invalid_request_error"}})
        fault = self._next_fault(messages)
        kind, options = (fault.get("kind"), fault) if isinstance(fault, dict) else (fault, {})
        if self.latency_s:
            time.sleep(self.latency_s)
        if kind == "timeout":
            time.sleep(float(options.get("sleep", 5.0)))
            return _send(handler, 504, {"error": {"message": "too late", "type": "timeout"}})
        if kind == "429":
            return _send(handler, 429, {"error": {"message": "Rate limit reached", "type": "rate_limit"}},
                         {"Retry-After": str(options.get("retry_after", 0))})
        if kind == "badjson":
            return _send_raw(handler, 200, b"<html><body>502 Bad Gateway (upstream reset)</body></html>")
        if kind in ("500", "502", "503", "400", "401", "403", "404"):
            message = options.get("message", f"injected {kind}")
            return _send(handler, int(kind), {"error": {"message": message, "type": "server_error"}})
        content: str | None = self.responder(messages)
        finish = "stop"
        if kind == "length":
            content = content[: max(1, len(content) // 2)]
            finish = "length"
        elif kind == "nocode":
            content = "I would write a kernel that adds the vectors element by element."
        elif kind == "empty":
            content = None
        if kind == "truncated":
            whole = json.dumps({"id": "chatcmpl-cut", "object": "chat.completion", "model": body["model"],
                                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                             "finish_reason": finish}]}).encode()
            return _send_raw(handler, 200, whole[: len(whole) // 2])
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        completion_tokens = len((content or "").split())
        _send(handler, 200, {
            "id": f"chatcmpl-{int(time.time() * 1e6)}", "object": "chat.completion", "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish,
                         "logprobs": None}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        })


def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any],
          headers: dict[str, str] | None = None) -> None:
    data = json.dumps(payload).encode()
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up (timeouts)


def _send_raw(handler: BaseHTTPRequestHandler, status: int, data: bytes) -> None:
    """`data` as the whole body, whatever it is, under JSON's content type."""
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):
        pass


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many clients connect at once (the default backlog of 5 drops SYNs)
    daemon_threads = True


def _handler_for(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body leave together: no delayed-ACK stalls
        wbufsize = 1 << 16  # flushed by http.server after each request

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            server.handle(self)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


if pytest is not None:

    @pytest.fixture
    def fake_openai():
        """A running FakeOpenAIServer (no latency); faults and responder can be set per test."""
        with FakeOpenAIServer() as server:
            yield server
