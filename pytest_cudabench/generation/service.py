"""Getting answers: the generation cache in front of a model, concurrent prefetching, cross-worker dedupe, export.

Cache layout (under ``Settings.cache_path``, default ``.cudabench_cache/``)::

    generations/<key[:2]>/<key>.json   one record per answer, written atomically as soon as it arrives
    claims/<key>.claim                 "I am asking the model for this answer" (O_EXCL), heartbeated while held
    claims/<key>.failed                "asking failed in run <run_id>": other workers of that run fail the same way
    claims/run-<run_id>.stop           "send nothing more in this run": the API refused the key, or Ctrl-C

``key`` hashes task, level, sample, attempt, the model (its request parameters: model, base URL, temperature...),
the prompt hash and a hash of the exact messages (so repair turns are keys of their own). A refine turn (round >= 1)
is keyed by its round, candidate and `cache_basis` instead of its messages, which quote this run's timings: a rerun
finds it.

Under xdist every worker collects and prefetches every item; the claim makes exactly one of them ask, the others
wait for the record. A claim whose owner died (same host, pid gone) or stopped heartbeating is stale and taken over.
A record carries the id of the run that asked for it: an answer is `cached` only if an earlier run asked (one that
another worker of this run asked for was requested, and paid for, by this run).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import hashlib
import json
import os
import queue
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ApiAccessDenied, ModelError
from ..files import atomic_write
from .models import Generation, GenerationRequest, Model, ReferenceModel, ReplayModel
from .prompts import TEMPLATE_VERSION
from .remote import RequestCancelled

RECORD_VERSION = 1
GENERATIONS_DIR = "generations"
CLAIMS_DIR = "claims"


def _sha(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def messages_hash(messages: list[dict[str, str]]) -> str:
    return _sha(messages)[:16]


def model_identity(model: Model) -> dict[str, Any]:
    """What identifies a model's answers in the cache: its request parameters, else its name."""
    identity = getattr(model, "cache_identity", None)
    return dict(identity) if isinstance(identity, dict) else {"name": model.name}


def is_cacheable(model: Model) -> bool:
    flag = getattr(model, "cacheable", None)
    if flag is not None:
        return bool(flag)
    return not isinstance(model, (ReferenceModel, ReplayModel))  # answers that are local already


def record_key(request: GenerationRequest, identity: dict[str, Any]) -> str:
    data: dict[str, Any] = {
        "task": request.task.id, "level": request.level, "sample": request.sample,
        "attempt": getattr(request, "attempt", 0), "model": identity, "prompt_hash": request.prompt_hash,
        "messages": messages_hash(request.messages),
    }
    if request.round:  # a refine turn: keyed by what it refines, not by the measured numbers its prompt quotes
        data.update(prompt_hash=None, messages=None, refine=[request.round, request.candidate, request.cache_basis])
    return _sha(data)[:32]


class GenerationCache:
    """Records on disk, one JSON file per answer. Safe for concurrent writers (atomic rename)."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.generations = self.root / GENERATIONS_DIR
        self.claims = self.root / CLAIMS_DIR

    def path(self, key: str) -> Path:
        return self.generations / key[:2] / f"{key}.json"

    def claim_path(self, key: str) -> Path:
        return self.claims / f"{key}.claim"

    def failed_path(self, key: str) -> Path:
        return self.claims / f"{key}.failed"

    def stop_path(self, run_id: str) -> Path:
        return self.claims / f"run-{run_id}.stop"

    def stop_run(self, run_id: str, reason: str, message: str) -> None:
        """No process of run `run_id` sends another request; `reason` is "denied" (the API refused the key) or
        "interrupted". The first reason stays."""
        if not self.stop_path(run_id).exists():
            message = message.removeprefix("not requested: ")
            atomic_write(self.stop_path(run_id), json.dumps({"reason": reason, "message": message}))

    def run_stopped(self, run_id: str) -> dict[str, str] | None:
        """{"reason", "message"} once run `run_id` was stopped, else None."""
        return _read_claim(self.stop_path(run_id))

    def claims_of_run(self, run_id: str, stale_s: float) -> int:
        """Answers being asked for by the processes of run `run_id` right now: their claims, but for those nobody
        heartbeated for `stale_s` (their process is gone)."""
        if not self.claims.is_dir():
            return 0
        count = 0
        for path in self.claims.glob("*.claim"):
            try:
                fresh = time.time() - path.stat().st_mtime < stale_s
            except OSError:
                continue
            info = _read_claim(path) or {}
            dead = info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int) \
                and not _pid_alive(info["pid"])
            count += fresh and not dead and info.get("run_id") == run_id
        return count

    def load(self, key: str) -> dict[str, Any] | None:
        try:
            record = json.loads(self.path(key).read_text())
        except (OSError, ValueError):
            return None  # absent, or corrupt (an atomic write cannot leave a partial file, but be lenient)
        if not isinstance(record, dict) or not isinstance(record.get("generation"), dict):
            return None
        return record

    def store(self, key: str, record: dict[str, Any]) -> None:
        atomic_write(self.path(key), json.dumps(record, sort_keys=True, indent=1))

    def records(self) -> Iterator[dict[str, Any]]:
        if not self.generations.is_dir():
            return
        for path in sorted(self.generations.glob("*/*.json")):
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and isinstance(record.get("generation"), dict):
                yield record


class _Deferred:
    """Prefetch result: another worker holds the claim; `get` waits for its record."""


_DEFERRED = _Deferred()


class _DaemonPool:
    """A thread pool whose threads do not hold up the interpreter's exit (concurrent.futures joins its own at exit,
    where a second Ctrl-C prints a threading traceback): the plugin waits for the requests in flight itself
    (`requests_in_flight`), where a second Ctrl-C abandons them."""

    def __init__(self, workers: int, name: str):
        self.workers = workers
        self.name = name
        self.running = 0
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, fn: Any, *args: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        self._queue.put((future, fn, args))
        with self._lock:
            if len(self._threads) < self.workers:
                thread = threading.Thread(target=self._work, name=f"{self.name}_{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            future, fn, args = job
            if not future.set_running_or_notify_cancel():
                continue
            with self._lock:
                self.running += 1
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                future.set_exception(exc)
            finally:
                with self._lock:
                    self.running -= 1

    def shutdown(self) -> None:
        """Cancels the jobs not started; jobs running go on."""
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job[0].cancel()
        with self._lock:
            for _ in self._threads:
                self._queue.put(None)


class GenerationService:
    """The model behind a cache. `prefetch` starts the requests of many items in a thread pool and returns at once;
    `get` returns one item's answer (from the prefetch, the cache, another worker, or a call of its own)."""

    def __init__(self, model: Model, settings: Settings, *, claim_stale_s: float = 30.0,
                 heartbeat_s: float = 2.0, poll_s: float = 0.05):
        self.model = model
        self.settings = settings
        self.cacheable = is_cacheable(model)
        self.identity = model_identity(model)
        self.cache = GenerationCache(settings.cache_path)
        self.run_id = settings.run_id or uuid.uuid4().hex
        self.claim_stale_s = claim_stale_s
        self.heartbeat_s = heartbeat_s
        self.poll_s = poll_s
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.requests = 0  # model calls made by this service (not counting the model's own retries)
        self._lock = threading.Lock()
        self._futures: dict[str, cf.Future] = {}
        self._key_locks: dict[str, threading.Lock] = {}
        self._held: set[str] = set()
        self._executor: _DaemonPool | None = None
        self._closed = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self.abandoned = False

    # --------------------------------------------------------------- public API

    def prefetch(self, requests: list[GenerationRequest]) -> None:
        """Starts fetching answers for the items this worker will run; returns at once."""
        if not self.cacheable or self._closed.is_set():
            return
        with self._lock:
            if self._executor is None:
                self._executor = _DaemonPool(max(1, self.settings.concurrency), "cudabench-gen")
            for request in requests:
                key = self.key(request)
                if key not in self._futures:
                    self._futures[key] = self._executor.submit(self._fetch, request, key, True)

    def get(self, request: GenerationRequest) -> Generation:
        if not self.cacheable:
            return self.model.generate(request)
        key = self.key(request)
        with self._lock:
            future = self._futures.get(key)
        if future is not None:
            try:
                result = future.result()
            except cf.CancelledError:
                result = _DEFERRED
            if isinstance(result, Generation):
                return result
        generation = self._fetch(request, key, False)
        assert isinstance(generation, Generation)  # only a prefetch leaves an answer to another worker
        return generation

    def close(self) -> None:
        """Cancels prefetches not yet started and stops retries. Requests in flight finish and are cached (they are
        not interrupted) if the process waits for them (`requests_in_flight`)."""
        self._closed.set()
        if self._executor is not None:
            self._executor.shutdown()
        close_model = getattr(self.model, "close", None)
        if callable(close_model):
            close_model()

    def stop_run(self, message: str) -> None:
        """Ctrl-C: no process of this run sends another request (xdist workers look before each); requests in
        flight go on, and their answers are cached."""
        if self.cacheable:
            self.cache.stop_run(self.run_id, "interrupted", message)
        self.close()

    def interrupted(self) -> bool:
        """Ctrl-C reached this run's controller (`stop_run`)."""
        return self.cacheable and (self.cache.run_stopped(self.run_id) or {}).get("reason") == "interrupted"

    def denied(self) -> str | None:
        """Why the model API refused this run's requests (401/403), once it did."""
        stop = self.cache.run_stopped(self.run_id) if self.cacheable else None
        return stop.get("message") if stop and stop.get("reason") == "denied" else None

    def claims_in_flight(self) -> int:
        """Answers being asked for by any process of this run now."""
        return self.cache.claims_of_run(self.run_id, self.claim_stale_s) if self.cacheable else 0

    def abandon(self) -> None:
        """A second Ctrl-C: this process waits for no request in flight any more (their answers are lost)."""
        self.abandoned = True
        self.close()

    def requests_in_flight(self) -> int:
        """Prefetches of this process running now (0 once abandoned: nobody waits for them)."""
        return self._executor.running if self._executor is not None and not self.abandoned else 0

    def prices(self) -> dict[str, float | None] | None:
        """The configured prices (USD per million tokens in and out) of a remote model, None without any."""
        config = getattr(self.model, "config", None)
        price_in, price_out = getattr(config, "price_input", None), getattr(config, "price_output", None)
        if price_in is None and price_out is None:
            return None
        return {"input": price_in, "output": price_out}

    def key(self, request: GenerationRequest) -> str:
        return record_key(request, self.identity)

    def ready(self, request: GenerationRequest) -> Generation | None:
        """The answer if it is here without waiting or asking the model (an offline model's, a finished prefetch,
        the cache); else None. For compile-ahead, which must never cause a model call of its own."""
        if not self.cacheable:
            return self.model.generate(request)
        key = self.key(request)
        with self._lock:
            future = self._futures.get(key)
        if future is not None and future.done() and not future.cancelled() and future.exception() is None:
            result = future.result()
            return result if isinstance(result, Generation) else None
        return self._cached(key)

    # --------------------------------------------------------------- fetching

    def _key_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def _cached(self, key: str) -> Generation | None:
        """The stored answer for `key`: `cached` if an earlier run asked for it, not if this run did (another worker,
        or this process before). Its cost is that of its tokens at the prices configured now."""
        record = self.cache.load(key)
        if record is None:
            return None
        earlier = record.get("run_id") != self.run_id
        if self.settings.regenerate and earlier:
            return None  # --cudabench-regenerate: only answers of this very run count
        data = dict(record["generation"])
        data["cached"] = earlier
        fields = Generation.__dataclass_fields__
        generation = Generation(**{k: v for k, v in data.items() if k in fields})
        config = getattr(self.model, "config", None)
        cost = getattr(config, "cost", None)
        if callable(cost):
            generation.cost_usd = cost(generation.tokens_in, generation.tokens_out)
        return generation

    def _check_stopped(self) -> None:
        """The run was stopped (the API refused the key, Ctrl-C): nothing more is requested, by any process."""
        stop = self.cache.run_stopped(self.run_id)
        if stop is None:
            return
        message = f"not requested: {stop.get('message', 'the run was stopped')}"
        raise ApiAccessDenied(message) if stop.get("reason") == "denied" else RequestCancelled(message)

    def _fetch(self, request: GenerationRequest, key: str, prefetching: bool) -> Generation | _Deferred:
        """The answer for `key`. When prefetching, an answer claimed by another worker is left to `get`."""
        with self._key_lock(key):
            while True:
                cached = self._cached(key)
                if cached is not None:
                    return cached
                self._check_failed(key)
                if self._closed.is_set() and prefetching:
                    return _DEFERRED
                self._check_stopped()
                if self._claim(key):
                    break
                if prefetching:
                    return _DEFERRED
                self._wait_for_other(key)
            try:
                cached = self._cached(key)  # written between our look and our claim
                if cached is not None:
                    return cached
                self._check_stopped()
                return self._call(request, key)
            finally:
                self._release(key)

    def _call(self, request: GenerationRequest, key: str) -> Generation:
        with self._lock:
            self.requests += 1
        scrub = getattr(self.model, "scrub", None) or (lambda text: text)
        try:
            generation = self.model.generate(request)
        except RequestCancelled:
            raise  # not a verdict: the claim is released and another worker (or run) asks again
        except ModelError as exc:
            message = scrub(str(exc))
            if isinstance(exc, ApiAccessDenied):  # every other request of the run would be refused too
                self.cache.stop_run(self.run_id, "denied", message)
            self._write_failed(key, exc, message)
            raise type(exc)(message, exc.request_stats) from None
        generation.cached = False
        generation.content = scrub(generation.content)
        record = {
            "version": RECORD_VERSION, "key": key, "task": request.task.id, "level": request.level,
            "sample": request.sample, "attempt": getattr(request, "attempt", 0), "round": request.round,
            "candidate": request.candidate, "model_name": self.model.name,
            "model_identity": self.identity, "prompt_hash": request.prompt_hash,
            "messages_hash": messages_hash(request.messages), "turns": len(request.messages),
            "template_version": TEMPLATE_VERSION,
            "run_id": self.run_id, "created": time.time(), "generation": generation.to_dict(),
        }
        self.cache.store(key, record)  # before anything evaluates it
        return generation

    # --------------------------------------------------------------- claims (cross-process dedupe)

    def _claim(self, key: str) -> bool:
        path = self.cache.claim_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"owner": self.token, "host": socket.gethostname(), "pid": os.getpid(),
                              "run_id": self.run_id, "time": time.time()})
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if self._take_over_if_stale(path):
                return self._claim(key)
            return False
        with os.fdopen(fd, "w") as f:
            f.write(payload)
        with self._lock:
            self._held.add(key)
            self._start_heartbeat()
        return True

    def _release(self, key: str) -> None:
        with self._lock:
            self._held.discard(key)
        path = self.cache.claim_path(key)
        owner = _read_claim(path)
        if owner is not None and owner.get("owner") == self.token:
            with contextlib.suppress(OSError):
                path.unlink()

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None or not self._heartbeat.is_alive():
            self._heartbeat = threading.Thread(target=self._beat, name="cudabench-claims", daemon=True)
            self._heartbeat.start()

    def _beat(self) -> None:
        while True:
            time.sleep(self.heartbeat_s)
            with self._lock:
                held = list(self._held)
            if not held and self._closed.is_set():
                return
            for key in held:
                with contextlib.suppress(OSError):
                    os.utime(self.cache.claim_path(key))

    def _take_over_if_stale(self, path: Path) -> bool:
        """Removes `path` if its owner is gone; True if it did (the caller then claims again)."""
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return True
        info = _read_claim(path)
        dead = False
        if info is not None and info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int):
            dead = not _pid_alive(info["pid"])
        if info is None and age < self.claim_stale_s:
            return False  # being written right now
        if not dead and age < self.claim_stale_s:
            return False
        # Move it aside under a unique name so that two waiters cannot both remove it (and a fresh claim with it).
        aside = path.with_name(f"{path.name}.stale.{uuid.uuid4().hex[:8]}")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return True
        moved = _read_claim(aside)
        if info is not None and moved is not None and moved.get("owner") != info.get("owner"):
            # we moved a fresh claim by mistake: put it back unless someone claimed meanwhile
            with contextlib.suppress(OSError):
                os.link(aside, path)
            os.unlink(aside)
            return False
        os.unlink(aside)
        return True

    def _wait_for_other(self, key: str) -> None:
        """Waits until another worker's claim on `key` is gone (answered, failed, or stale)."""
        path = self.cache.claim_path(key)
        delay = self.poll_s
        while path.exists():
            if self.cache.path(key).exists() or self.cache.failed_path(key).exists():
                return
            if self._take_over_if_stale(path):
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def _write_failed(self, key: str, exc: ModelError, message: str) -> None:
        atomic_write(self.cache.failed_path(key), json.dumps({
            "run_id": self.run_id, "message": message, "request_stats": exc.request_stats,
            "denied": isinstance(exc, ApiAccessDenied)}))

    def _check_failed(self, key: str) -> None:
        """Another worker of this run asked and failed: fail the same way instead of asking again."""
        path = self.cache.failed_path(key)
        info = _read_claim(path)
        if info is None:
            return
        if info.get("run_id") == self.run_id:  # the requests it took are counted once, on this item
            kind = ApiAccessDenied if info.get("denied") else ModelError
            raise kind(str(info.get("message", "model API failed")), info.get("request_stats"))
        with contextlib.suppress(OSError):
            path.unlink()  # a failure of an earlier run: try again


def _read_claim(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ----------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class ProgressCounts:
    total: int
    requested: int = 0  # answered by the model during this run
    cached: int = 0  # answered before this run
    in_flight: int = 0  # claimed by some worker, not answered yet
    failed: int = 0

    @property
    def ready(self) -> int:
        return self.requested + self.cached

    @property
    def waiting(self) -> int:
        return self.total - self.ready - self.in_flight - self.failed

    @property
    def finished(self) -> bool:
        return self.ready + self.failed >= self.total

    def line(self) -> str:
        text = (f"cudabench generation: {self.ready}/{self.total} answers ready "
                f"({self.requested} requested, {self.cached} cached), {self.in_flight} in flight, "
                f"{self.waiting} waiting")
        return text + (f", {self.failed} failed" if self.failed else "")


class GenerationProgress:
    """Where the answers of a run stand, read from the shared cache directory, so one process sees the requests of
    every xdist worker: a record of this run is requested, an older one cached, a claim in flight."""

    def __init__(self, cache: GenerationCache, keys: list[str], run_id: str, *, regenerate: bool = False):
        self.cache = cache
        self.keys = list(dict.fromkeys(keys))
        self.run_id = run_id
        self.regenerate = regenerate
        self._final: dict[str, str] = {}  # key -> "requested" | "cached" | "failed": never looked at again

    def poll(self) -> ProgressCounts:
        counts = {"requested": 0, "cached": 0, "in_flight": 0, "failed": 0}
        denied = (self.cache.run_stopped(self.run_id) or {}).get("reason") == "denied"
        for key in self.keys:
            state = self._final.get(key)
            if state is None:
                state = self._state(key, denied)
                if state in ("requested", "cached", "failed"):
                    self._final[key] = state
            if state in counts:
                counts[state] += 1
        return ProgressCounts(total=len(self.keys), **counts)

    def _state(self, key: str, denied: bool) -> str | None:
        record = self.cache.load(key)
        if record is not None and record.get("run_id") == self.run_id:
            return "requested"
        if record is not None and not self.regenerate:
            return "cached"
        failed = _read_claim(self.cache.failed_path(key))
        if failed is not None and failed.get("run_id") == self.run_id:
            return "failed"
        if denied:
            return "failed"  # the API refused the key: never asked
        return "in_flight" if self.cache.claim_path(key).exists() else None


# ----------------------------------------------------------------------------- replay export


def _matches(record: dict[str, Any], model_name: str | None) -> bool:
    if model_name is None:
        return True
    identity = record.get("model_identity") or {}
    return model_name in (record.get("model_name"), identity.get("model"), (record.get("generation") or {}).get("model"))


def cached_models(cache_dir: Path | str) -> list[str]:
    return sorted({str(r.get("model_name")) for r in _cache_for(cache_dir).records()})


def _cache_for(cache_dir: Path | str) -> GenerationCache:
    root = Path(cache_dir)
    return GenerationCache(root.parent if root.name == GENERATIONS_DIR else root)


def export_replay(cache_dir: Path | str, model_name: str | None, out_path: Path | str) -> int:
    """Writes the cached first-attempt answers of `model_name` (the name it was run under, e.g. `claude`, or the
    provider's model id; None: every model) as a `replay:` JSONL file, one line per task/level/sample: the answer to
    the first turn (fewest messages; repair turns are left out), the newest where several prompt versions are
    cached; and one line per refine round and candidate (with "round" and "candidate"), the newest. Returns the
    number of lines written."""
    chosen: dict[tuple[str, int, int, int, int], dict[str, Any]] = {}

    def rank(record: dict[str, Any]) -> tuple[int, int, float]:
        return (-int(record.get("attempt", 0) or 0), -int(record.get("turns", 0) or 0), float(record.get("created", 0)))

    for record in _cache_for(cache_dir).records():
        if not _matches(record, model_name):
            continue
        ident = (record["task"], record["level"], record["sample"], int(record.get("round", 0) or 0),
                 int(record.get("candidate", 0) or 0))
        if ident not in chosen or rank(record) > rank(chosen[ident]):
            chosen[ident] = record
    lines = []
    for (task, level, sample, round_, candidate), record in sorted(chosen.items()):
        g = record["generation"]
        turn = {"round": round_, "candidate": candidate} if round_ else {}
        lines.append(json.dumps({
            "task": task, "level": level, "sample": sample, **turn, "content": g.get("content", ""),
            "model": g.get("model") or record.get("model_name"), "model_name": record.get("model_name"),
            "tokens_in": g.get("tokens_in"), "tokens_out": g.get("tokens_out"), "latency_s": g.get("latency_s"),
            "cost_usd": g.get("cost_usd"), "finish_reason": g.get("finish_reason"),
            "prompt_hash": record.get("prompt_hash"), "template_version": record.get("template_version"),
        }))
    atomic_write(Path(out_path), "".join(line + "\n" for line in lines))
    return len(lines)


def main_export(argv: list[str] | None = None) -> int:
    """`python -m pytest_cudabench export-replay [--cache-dir DIR] [--model NAME] -o OUT.jsonl`."""
    parser = argparse.ArgumentParser(prog="python -m pytest_cudabench export-replay",
                                     description="Export cached generations as a replay: JSONL file.")
    parser.add_argument("--cache-dir", default=".cudabench_cache", help="generation cache (default .cudabench_cache)")
    parser.add_argument("--model", default=None,
                        help="model to export, as run (e.g. claude) or its provider id; required if several")
    parser.add_argument("-o", "--output", required=True, help="JSONL file to write")
    args = parser.parse_args(argv)
    models = cached_models(args.cache_dir)
    if not models:
        print(f"export-replay: no cached generations under {args.cache_dir}", file=sys.stderr)
        return 1
    model = args.model
    if model is None and len(models) > 1:
        print(f"export-replay: the cache holds several models ({', '.join(models)}); choose one with --model",
              file=sys.stderr)
        return 2
    count = export_replay(args.cache_dir, model, args.output)
    if count == 0:
        print(f"export-replay: no cached generations of model {model!r} (cached: {', '.join(models)})",
              file=sys.stderr)
        return 1
    print(f"wrote {count} answers to {args.output}; score them with --cudabench-model=replay:{args.output}")
    return 0


# ----------------------------------------------------------------------------- estimate before a run

CHARS_PER_TOKEN = 4  # a rough average for English prose and code; the estimate says it is rough


def estimate_line(service: GenerationService, requests: list[GenerationRequest]) -> str | None:
    """Before a remote run: how many answers must be requested (the rest are cached), the prompt tokens they
    send, the output they may return (max_tokens each) and, with prices configured, what that costs at most."""
    if not service.cacheable:
        return None
    unique = {service.key(r): r for r in requests}
    pending = [r for key, r in unique.items() if service.settings.regenerate or service.cache.load(key) is None]
    line = f"cudabench estimate: {len(pending)} answers to request, {len(unique) - len(pending)} cached"
    if not pending:
        return line
    prompt_tokens = sum(len("".join(m["content"] for m in r.messages)) for r in pending) // CHARS_PER_TOKEN
    config = getattr(service.model, "config", None)
    max_out = getattr(config, "max_tokens", None)
    line += f"; ~{prompt_tokens:,} prompt tokens (~{CHARS_PER_TOKEN} characters per token)"
    if max_out:
        line += f", at most {len(pending) * max_out:,} output tokens (max_tokens {max_out})"
    cost = config.cost(prompt_tokens, len(pending) * max_out) if config is not None and max_out else None
    if cost is not None:
        line += f"; cost at most ${cost:,.2f} at the configured prices (retries and repair turns extra)"
    return line
