"""The places tests read from, named once: the repository, its task suite, and the tests' own data."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent
SUITE = REPO / "task_suite"
DATA = TESTS / "data"
# Wrong and malicious answers, one per .cu file; the first line says the task and the expected failure.
CORPUS = DATA / "corpus"
