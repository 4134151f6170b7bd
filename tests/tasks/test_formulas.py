import pytest

from pytest_cudabench.tasks.formulas import Formula, FormulaError


def test_arithmetic_and_functions():
    assert Formula("2 * M * N * K").evaluate({"M": 3, "N": 4, "K": 5}) == 120
    assert Formula("cdiv(n, 256) * 4").evaluate({"n": 257}) == 8
    assert Formula("max(a, b) - min(a, b)").evaluate({"a": 2, "b": 7}) == 5
    assert Formula("2 ** logn").evaluate({"logn": 10}) == 1024
    assert Formula(12).evaluate({}) == 12
    assert Formula("n").names == {"n"}


@pytest.mark.parametrize("text", ["__import__('os').system('x')", "n.real", "[n]", "lambda: 1", "'a'", "n if n else 1",
                                  "open('f')", "n; m"])
def test_rejects_anything_but_arithmetic(text):
    with pytest.raises(FormulaError):
        Formula(text)


def test_unknown_name_and_division_by_zero():
    with pytest.raises(FormulaError, match="unknown name"):
        Formula("n + m").evaluate({"n": 1})
    with pytest.raises(FormulaError, match="division by zero"):
        Formula("n / m").evaluate({"n": 1, "m": 0})


def test_huge_exponent_is_refused():
    with pytest.raises(FormulaError, match="too large"):
        Formula("2 ** n").evaluate({"n": 100000})
    with pytest.raises(FormulaError, match="overflows"):
        Formula("2.5 ** n").evaluate({"n": 100000})
    # a float base may take a large exponent: expected distinct rows of T uniform draws from V
    distinct = Formula("V * (1 - (1 - 1 / V) ** T)").evaluate({"V": 128000, "T": 131072})
    assert distinct == pytest.approx(128000 * (1 - (1 - 1 / 128000) ** 131072)) and 81000 < distinct < 83000
