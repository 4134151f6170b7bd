"""Repair turns."""

from __future__ import annotations

import pytest
from helpers.paths import SUITE

from pytest_cudabench.generation.models import GenerationRequest, ReferenceModel
from pytest_cudabench.generation.prompts import messages, prompt_hash
from pytest_cudabench.generation.repair import next_request, repair_messages, truncate_text
from pytest_cudabench.generation.service import model_identity, record_key
from pytest_cudabench.tasks.loader import load_task

ANSWER = "```cuda\n__global__ void k() {}\n```"


@pytest.fixture(scope="module")
def task():
    return load_task(SUITE / "basics" / "vector_add", SUITE)


def test_repair_turn_after_a_compile_error(task):
    first = messages(task, 1)
    log = "answer.cu(3): error: identifier \"x\" is undefined\n1 error detected in the compilation of \"answer.cu\"."
    msgs = repair_messages(first, ANSWER, "compile", "nvcc failed", log)
    assert msgs[: len(first)] == first and first == messages(task, 1)  # the input is not modified
    assert msgs[-2] == {"role": "assistant", "content": ANSWER}
    turn = msgs[-1]
    assert turn["role"] == "user"
    assert "failed to compile" in turn["content"] and 'identifier "x" is undefined' in turn["content"]
    assert "exactly one fenced code block" in turn["content"] and "complete" in turn["content"]


def test_repair_turn_after_a_mismatch(task):
    msgs = repair_messages(messages(task, 1), ANSWER, "execute", "output c differs in 12 of 1000 elements",
                           "case 2 (n=1000): max abs error 3.5 at index 17")
    text = msgs[-1]["content"]
    assert "wrong results" in text and "12 of 1000" in text and "index 17" in text


def test_repair_turn_for_an_answer_without_code(task):
    text = repair_messages(messages(task, 1), "I would add them.", "extract", "no code block in the answer", "")[-1]
    assert "could not find" in text["content"] and "Details" not in text["content"]


def test_unknown_stage_and_repeated_turns(task):
    msgs = repair_messages(messages(task, 1), ANSWER, "weird", "boom", "boom")
    msgs = repair_messages(msgs, ANSWER, "compile", "again", "log")
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert "'weird' stage" in msgs[3]["content"] and msgs[3]["content"].count("boom") == 1


def test_long_logs_are_truncated_keeping_head_and_tail():
    log = "\n".join(f"answer.cu({i}): error: number {i}" for i in range(1000)) + "\n1000 errors detected"
    cut = truncate_text(log)
    assert len(cut) <= 6500 and cut.startswith("answer.cu(0): error: number 0")
    assert cut.endswith("1000 errors detected") and "lines omitted" in cut
    assert truncate_text("short") == "short"
    one_huge_line = truncate_text("x" * 100_000)
    assert len(one_huge_line) < 1000


def test_next_request_has_its_own_prompt_hash_and_cache_key(task):
    first_msgs = messages(task, 1)
    first = GenerationRequest(task=task, level=1, sample=3, messages=first_msgs, prompt_hash=prompt_hash(first_msgs))
    second = next_request(first, repair_messages(first_msgs, ANSWER, "compile", "failed", "log"))
    assert (second.task, second.level, second.sample) == (task, 1, 3)
    assert second.prompt_hash == prompt_hash(second.messages) != first.prompt_hash
    identity = model_identity(ReferenceModel())
    assert record_key(second, identity) != record_key(first, identity)
