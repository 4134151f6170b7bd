import pytest

from pytest_cudabench.errors import StageFailure
from pytest_cudabench.source.extract import code_blocks, extract_source

SOLVE = 'extern "C" void solve(const float* x, float* y, int n) {\n  k<<<1, 1>>>(x, y, n);\n}\n'


def test_single_cuda_block():
    answer = f"Here you go:\n```cuda\n{SOLVE}```\nDone."
    assert extract_source(answer) == SOLVE


@pytest.mark.parametrize("lang", ["", "cuda", "cu", "cpp", "c++", "c", "CUDA"])
def test_accepted_languages(lang):
    assert "solve" in extract_source(f"```{lang}\n{SOLVE}```")


def test_chooses_block_defining_solve_among_several():
    answer = f"```cuda\n__global__ void k() {{}}\n```\ntext\n```bash\nnvcc a.cu\n```\n```cpp\n{SOLVE}```"
    assert extract_source(answer) == SOLVE


def test_last_block_wins_when_several_define_solve():
    second = SOLVE.replace("n);", "n); // fixed")
    assert extract_source(f"```cuda\n{SOLVE}```\nOops, fixed:\n```cuda\n{second}```") == second


def test_solve_in_comment_only_is_not_a_definition():
    answer = "```cuda\n// void solve(float* x) { }\n__global__ void k() {}\n```"
    with pytest.raises(StageFailure, match="defines the entry point"):
        extract_source(answer)


def test_no_code_block():
    with pytest.raises(StageFailure, match="no fenced code block") as exc:
        extract_source("I cannot help with that.")
    assert exc.value.stage == "extract"


def test_solve_outside_fence_is_explained():
    with pytest.raises(StageFailure, match="not inside a fenced code block"):
        extract_source(SOLVE)


def test_only_non_code_languages():
    with pytest.raises(StageFailure, match="found: python"):
        extract_source("```python\nprint(1)\n```")


def test_empty_answer():
    with pytest.raises(StageFailure, match="empty"):
        extract_source("   \n")


def test_truncated_block_is_returned_for_the_compiler_to_judge():
    blocks = code_blocks(f"```cuda\n{SOLVE}")
    assert blocks and not blocks[0].terminated
    assert extract_source(f"```cuda\n{SOLVE}") == SOLVE


def test_tilde_fences_and_longer_fences():
    assert extract_source(f"~~~cuda\n{SOLVE}~~~") == SOLVE
    assert extract_source(f"````cuda\n{SOLVE}```\n````") == SOLVE + "```\n"
