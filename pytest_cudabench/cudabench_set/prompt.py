"""The prompt of a CUDABench-Set item: CUDABench's program rules (in our words) as the system message, the row's level
prompt and its I/O spec as the user message. A user template (--cudabench-set-template) replaces the user message;
its placeholders are {prompt}, {task_name}, {inputs}, {outputs}, {io_spec}. The report records the template's
hash, so runs with different templates are never compared unknowingly."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import ConfigError
from ..generation.prompts import prompt_hash
from .rows import Row, Tensor

SET_TEMPLATE_VERSION = "set-1"

SYSTEM = """\
You are an expert CUDA programmer. Write one complete CUDA C++ program (a .cu file) for the task.

Rules:
- Answer with exactly one fenced code block (```cuda ... ```) holding the whole program, including main().
- main() reads every input from the binary file data/<name>.bin (raw little-endian values, row-major, no header)
  and writes every output to data/<name>.bin the same way, where <name> is the input's or output's name below.
  Write small helpers for reading and writing these files.
- The shapes are fixed: hard-code them as given below. Use the dtypes given.
- The program copies the inputs to the GPU, computes the outputs with your own __global__ kernels, copies them
  back and writes them. It returns 0 on success; it must not need arguments or any other file.
- It is built with plain `nvcc program.cu -o program` and run from the directory holding data/, with a time limit.
- Do not use cuBLAS, cuDNN, Thrust, CUB or other libraries for the computation.
"""

DEFAULT_USER = """\
{prompt}

Task: {task_name}

{io_spec}
"""


def tensor_line(tensor: Tensor) -> str:
    shape = ", ".join(str(d) for d in tensor.shape)
    return f"- {tensor.name}: {tensor.dtype}, shape ({shape}), file data/{tensor.name}.bin"


def io_spec(row: Row) -> str:
    return ("Inputs:\n" + "\n".join(tensor_line(t) for t in row.inputs)
            + "\nOutputs:\n" + "\n".join(tensor_line(t) for t in row.outputs))


def load_template(path: str | None) -> str | None:
    """The user template's text, checked for unknown placeholders; None: the built-in one."""
    if not path:
        return None
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"--cudabench-set-template={path}: cannot read ({exc.strerror})") from None
    try:
        text.format(prompt="", task_name="", inputs="", outputs="", io_spec="")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"--cudabench-set-template={path}: bad placeholder {exc}; known: {{prompt}}, "
                          "{task_name}, {inputs}, {outputs}, {io_spec} (write {{ and }} for braces)") from None
    return text


def template_hash(template: str | None) -> str:
    return hashlib.sha256(json.dumps([SET_TEMPLATE_VERSION, SYSTEM, template or DEFAULT_USER]).encode()).hexdigest()[:16]


def messages(row: Row, level: int, template: str | None = None) -> list[dict[str, str]]:
    user = (template or DEFAULT_USER).format(
        prompt=row.prompts[level], task_name=row.task_name, io_spec=io_spec(row),
        inputs="\n".join(tensor_line(t) for t in row.inputs), outputs="\n".join(tensor_line(t) for t in row.outputs))
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


__all__ = ["SYSTEM", "DEFAULT_USER", "messages", "template_hash", "load_template", "io_spec", "prompt_hash"]
