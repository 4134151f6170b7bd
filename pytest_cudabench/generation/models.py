"""Models: what answers a prompt. Offline models (`reference`, `replay:PATH`) and remote ones behind one interface."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol, cast

from ..errors import ConfigError, NoAnswer
from ..results import GenerationRecord
from ..tasks.bench_task import BenchTask


@dataclass(frozen=True)
class GenerationRequest:
    task: BenchTask
    level: int
    sample: int
    messages: list[dict[str, str]] = field(hash=False)
    prompt_hash: str
    # Refine-for-speed turns (pipeline.refine): round >= 1 and the candidate's index in it. Their messages carry
    # measured times, which differ per run, so `cache_basis` (what the turn refines, not the numbers) keys the cache.
    round: int = 0
    candidate: int = 0
    cache_basis: str | None = field(default=None, hash=False)


@dataclass
class Generation:
    """One answer of a model. Plain data: it is cached as JSON and copied into the item's result."""

    content: str
    model: str
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_s: float | None = None  # the request that answered
    cost_usd: float | None = None
    cached: bool = False  # answered before this run (False: by this run, in any of its processes)
    finish_reason: str | None = None
    # Remote models: what getting this answer took, retries included (None for offline models).
    total_latency_s: float | None = None  # from the first request to the answer, retries and waits included
    http_requests: int | None = None  # requests sent for this answer, the answering one included
    rate_limited: int | None = None  # 429 answers among them
    retried_errors: int | None = None  # 5xx/408/409, timeouts, connection errors, malformed 200 bodies
    malformed_200: int | None = None  # of those, 200s whose body was cut off or not a chat completion (billed)
    wait_s: float | None = None  # time spent waiting before retries (Retry-After, backoff)

    def to_dict(self) -> GenerationRecord:
        return cast(GenerationRecord, asdict(self))


class Model(Protocol):
    name: str

    def generate(self, request: GenerationRequest) -> Generation: ...


class ReferenceModel:
    """Answers with the task's own solution.cu, inside a markdown fence so that extraction is exercised."""

    name = "reference"

    def generate(self, request: GenerationRequest) -> Generation:
        start = time.perf_counter()
        source = request.task.solution_source()
        content = f"Here is the reference solution.\n\n```cuda\n{source.rstrip()}\n```\n"
        return Generation(content=content, model=self.name, latency_s=time.perf_counter() - start)


class ReplayModel:
    """Answers recorded earlier: a JSONL file, one {"task", "level", "sample", "content"} object per line;
    refine turns also carry "round" (>= 1) and "candidate".

    A line that cannot be used is an error at start (ConfigError naming file and line): bad JSON or fields, a level
    other than 1-3, a negative sample, and a second line for the same task, level and sample (which answer the run
    scores must not depend on line order). Lines for tasks the suite does not have are reported by
    `unknown_task_lines` (the plugin warns about each, naming file and line) and otherwise ignored."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.name = f"replay:{self.path}"
        if not self.path.is_file():
            raise ConfigError(f"--cudabench-model=replay:{path}: file not found")
        self.records: dict[tuple[str, int, int, int, int], dict] = {}
        self.lines: dict[tuple[str, int, int, int, int], int] = {}  # the line each record came from
        for lineno, line in enumerate(self.path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            where = f"{self.path}:{lineno}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{where}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise ConfigError(f"{where}: each line must be a JSON object")
            for key, kind in (("task", str), ("level", int), ("sample", int), ("content", str)):
                if not isinstance(record.get(key), kind) or isinstance(record.get(key), bool):
                    raise ConfigError(f"{where}: '{key}' must be {'a string' if kind is str else 'an integer'}")
            for key in ("round", "candidate"):
                if not isinstance(record.get(key, 0), int) or isinstance(record.get(key), bool):
                    raise ConfigError(f"{where}: '{key}' must be an integer")
            if record["level"] not in (1, 2, 3):
                raise ConfigError(f"{where}: level {record['level']} does not exist; levels are 1, 2 and 3")
            if record["sample"] < 0:
                raise ConfigError(f"{where}: sample {record['sample']} is negative; samples count from 0")
            turn_key = (record["task"].strip("/"), record["level"], record["sample"], record.get("round", 0),
                        record.get("candidate", 0))
            if turn_key in self.records:
                task, level, sample, round_, candidate = turn_key
                turn = f" refine round {round_} candidate {candidate}" if round_ else ""
                raise ConfigError(f"{where}: a second answer for task {task} level {level} sample {sample}{turn} (the "
                                  f"first is on line {self.lines[turn_key]}); keep one line per task, level and sample")
            self.records[turn_key] = record
            self.lines[turn_key] = lineno

    def unknown_task_lines(self, suite_roots: set[Path]) -> list[str]:
        """One message per line whose task is in none of `suite_roots` (no `<root>/<task>/task.toml`)."""
        messages = []
        for key, lineno in sorted(self.lines.items(), key=lambda kv: kv[1]):
            if not any((Path(root) / key[0] / "task.toml").is_file() for root in suite_roots):
                messages.append(f"{self.path}:{lineno}: task {key[0]!r} is not in the suite "
                                f"({', '.join(sorted(str(r) for r in suite_roots)) or 'no suite collected'}); "
                                "the line is ignored")
        return messages

    def answers_none_of(self, requests: list[GenerationRequest], shown: int = 3) -> str | None:
        """Why the run cannot use this file when it answers none of `requests` (the first answers of the collected
        items): mistyped task ids, other levels or samples, the wrong file. None if it answers one, or nothing was
        collected."""
        if not requests or any((r.task.id, r.level, r.sample, 0, 0) in self.records for r in requests):
            return None
        held = [f"{task} level {level} sample {sample}" for task, level, sample, round_, _c in self.records
                if not round_]
        asked = [f"{r.task.id} level {r.level} sample {r.sample}" for r in requests[:shown]]
        holds = (f"it holds {len(held)} answer(s): {', '.join(held[:shown])}{', ...' if len(held) > shown else ''}"
                 if held else "it holds no answer")
        return (f"--cudabench-model=replay:{self.path} answers none of the {len(requests)} collected items ({holds}; "
                f"the run asks for {', '.join(asked)}{', ...' if len(requests) > shown else ''}): check the task ids, "
                "--cudabench-levels/--cudabench-samples, and the file name")

    def generate(self, request: GenerationRequest) -> Generation:
        key = (request.task.id, request.level, request.sample, request.round, request.candidate)
        record = self.records.get(key)
        if record is None:
            turn = f" refine round {request.round} candidate {request.candidate}" if request.round else ""
            raise NoAnswer(f"no recorded answer for task {key[0]} level {key[1]} sample {key[2]}{turn} in {self.path}")
        return Generation(
            content=record["content"], model=record.get("model", self.name),
            tokens_in=record.get("tokens_in"), tokens_out=record.get("tokens_out"),
            latency_s=record.get("latency_s"), cost_usd=record.get("cost_usd"), cached=True,
        )
