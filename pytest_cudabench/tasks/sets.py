"""Named task sets: tags that select the kernels of a published benchmark, e.g. `cuda_llm`.

A tag listed in TASK_SETS becomes a pytest marker on its task's items, so `pytest -m cuda_llm task_suite` runs that
set. Other tags stay descriptive only: many share a domain's name ("reduction", "graph"...) and would change what
`-m reduction` selects.
"""

from __future__ import annotations

from .loader import Task

TASK_SETS: dict[str, str] = {
    "cuda_llm": "the 20 kernels of the CUDA-LLM paper (Feature Search and Reinforcement, arXiv 2506.09092)",
}


def task_sets(task: Task) -> list[str]:
    """The named sets this task belongs to, in TASK_SETS order."""
    return [name for name in TASK_SETS if name in task.tags]
