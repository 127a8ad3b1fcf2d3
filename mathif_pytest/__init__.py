"""mathif-pytest: the MathIF benchmark as a pytest regression gate for reasoning models.

The package is a plain library (``dataset`` → ``prompts`` → ``backends``/``store`` → ``grading`` and
``constraints`` → ``results`` → ``stats`` → ``gate`` → ``reporting``) with a thin pytest adapter in
``plugin``. Importing it is cheap: nothing heavy (torch, vllm, transformers, sympy, langdetect) is
imported until it is used.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
