"""Prompt templates: the system rules and the per-task user prompt. Versioned; every item records the hash."""

from __future__ import annotations

import hashlib
import json

from ..results import TEMPLATE_VERSION  # bump it there when any template text here changes
from ..tasks.bench_task import BenchTask
from ..tasks.loader import Task
from .models import GenerationRequest

_SYSTEM = """\
You are an expert CUDA programmer. Write one complete CUDA C++ source file that solves the task.

Rules:
- Answer with exactly one fenced code block (```cuda ... ```) holding the whole source file.
- The file must define the host function `{signature}` with exactly this signature, declared extern "C".
  It launches your own __global__ kernels and must return only after the results are complete in the output buffers
  (synchronize, e.g. with cudaDeviceSynchronize(), if in doubt).
- Every pointer argument is a DEVICE pointer, already allocated, row-major and contiguous. Inputs are read-only.
  Output buffers hold arbitrary values on entry. Scalar arguments are passed by value. Sizes are arguments: do not
  hard-code them, and handle sizes that are not multiples of the block size.
- Do not write main(), and do not read or write files, print, or allocate host memory for the data.
- You may include CUDA runtime headers (cuda_runtime.h, cuda_fp16.h, cuda_bf16.h) and the C/C++ standard headers.
  {libraries}
"""

_USER = """\
{prompt}

Interface (C/C++):
{signature};

Arguments, in order:
{arg_lines}
"""


def system_prompt(task: Task) -> str:
    libraries = (f"You may also use these libraries: {', '.join(task.libraries)}." if task.libraries
                 else "No other library may be used (no cuBLAS, cuDNN, Thrust, CUB or CUTLASS).")
    return _SYSTEM.format(signature=task.signature(), libraries=libraries)


def describe_arg(task: Task, name: str) -> str:
    arg = next(a for a in task.args if a.name == name)
    if arg.role == "scalar":
        return f"- {arg.name}: {arg.dtype.name} scalar"
    shape = " x ".join(f.text for f in arg.shape)
    role = {"input": "input", "output": "output", "inout": "input and output (updated in place)"}[arg.role]
    return f"- {arg.name}: {role}, {arg.dtype.name} ({arg.dtype.c_type}), shape [{shape}]"


def user_prompt(task: Task, level: int) -> str:
    return _USER.format(
        prompt=task.prompts[level],
        signature=task.signature(),
        arg_lines="\n".join(describe_arg(task, a.name) for a in task.args),
    )


def messages(task: Task, level: int) -> list[dict[str, str]]:
    """The chat messages of the first turn, in the OpenAI chat-completions shape."""
    return [
        {"role": "system", "content": system_prompt(task)},
        {"role": "user", "content": user_prompt(task, level)},
    ]


def prompt_hash(msgs: list[dict[str, str]]) -> str:
    payload = json.dumps({"version": TEMPLATE_VERSION, "messages": msgs}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def request(task: BenchTask, level: int, sample: int, msgs: list[dict[str, str]]) -> GenerationRequest:
    """A first-turn request of any task family, keyed by the hash of its messages."""
    return GenerationRequest(task=task, level=level, sample=sample, messages=msgs, prompt_hash=prompt_hash(msgs))


def first_request(task: Task, level: int, sample: int = 0) -> GenerationRequest:
    """The first generation request of a task directory's item: the plugin's items, validate and doctor ask this."""
    return request(task, level, sample, messages(task, level))
