"""What several test files share: paths, factories of reports and CUDABench-Set rows, the fake chat-completions
server, the corpus reader, log samples. Tests import it as `helpers` (pyproject's `pythonpath = ["tests"]`); no test
imports another test module or conftest.py."""
