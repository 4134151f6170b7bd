"""Custom checkers of graph tasks: valid alternatives pass, wrong answers are named."""


import numpy as np
import pytest
from helpers.paths import SUITE

from pytest_cudabench.tasks import inputs
from pytest_cudabench.tasks.loader import load_task


@pytest.fixture(scope="module")
def bfs_parents():
    return load_task(SUITE / "graphs/bfs_parents", SUITE)


def graph_case(task, edges, num_vertices, source):
    src = np.array([e[0] for e in edges], dtype=np.int64)
    dst = np.array([e[1] for e in edges], dtype=np.int64)
    order = np.argsort(src, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=num_vertices))]).astype(np.int32)
    sizes = {"num_vertices": num_vertices, "num_edges": len(edges)}
    case = inputs.Case(index=0, sizes=sizes, arrays={"offsets": offsets, "indices": dst[order].astype(np.int32),
                       "parents": np.zeros(num_vertices, np.int32)}, scalars={**sizes, "source": source})
    inputs.expect(task, case)
    return case


def call_check(task, case, parents):
    return task.check(inputs.reference_kwargs(task, case), dict(case.expected),
                      {"parents": np.asarray(parents, dtype=np.int32)})


# 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3, 3 -> 4, 4 -> 1 (back edge), 2 -> 2 (self-loop), 0 -> 6 (a leaf at depth 1);
# 5 is unreachable, 5 -> 0
EDGES = [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (4, 1), (2, 2), (5, 0), (0, 6)]


def test_reference_answer_passes(bfs_parents):
    case = graph_case(bfs_parents, EDGES, 7, 0)
    assert case.expected["parents"].tolist() == [0, 0, 0, 1, 3, -1, 0]
    assert call_check(bfs_parents, case, case.expected["parents"]) is None


def test_any_parent_one_level_up_is_accepted(bfs_parents):
    case = graph_case(bfs_parents, EDGES, 7, 0)
    assert call_check(bfs_parents, case, [0, 0, 0, 2, 3, -1, 0]) is None  # 3 reached through 2 instead of 1


def test_random_graph_reference_passes(bfs_parents):
    case = inputs.make_case(bfs_parents, bfs_parents.sizes.complete({"num_vertices": 800, "num_edges": 3000}),
                            np.random.default_rng(5))
    inputs.expect(bfs_parents, case)
    assert call_check(bfs_parents, case, case.expected["parents"]) is None


def test_rejects_wrong_trees(bfs_parents):
    case = graph_case(bfs_parents, EDGES, 7, 0)
    assert "source" in call_check(bfs_parents, case, [-1, 0, 0, 1, 3, -1, 0])
    assert "unreachable" in call_check(bfs_parents, case, [0, 0, 0, 1, 3, 0, 0])
    assert "parent -1" in call_check(bfs_parents, case, [0, 0, 0, -1, 3, -1, 0])
    assert "depth" in call_check(bfs_parents, case, [0, 4, 0, 1, 3, -1, 0])  # 4 -> 1 is an edge, but 4 is deeper
    assert "no edge" in call_check(bfs_parents, case, [0, 0, 0, 6, 3, -1, 0])  # 6 is one level up, no edge 6 -> 3
    assert "outside" in call_check(bfs_parents, case, [0, 0, 0, 9, 3, -1, 0])
    assert "shape" in call_check(bfs_parents, case, [0, 0, 0, 1, 3, -1])
