"""pytest-cudabench: a text-to-CUDA benchmark for language models, as a pytest plugin."""

__version__ = "0.1.0"
