from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "torch",
    "transformers",
    "vllm",
    "sympy",
    "langdetect",
    "nltk",
    "allure",
    "numpy",
    "matplotlib",
    "pylatexenc",
    "huggingface_hub",
)


def _modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import mathif_pytest.plugin",
        "import mathif_pytest.plugin, mathif_pytest.pytest_plugin.session",
    ],
    ids=["plugin", "plugin-and-session"],
)
def test_importing_the_plugin_imports_nothing_heavy(code: str) -> None:
    loaded = _modules_after(code)
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY)


def test_a_session_without_mathif_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain=f"""
        import sys
        def test_nothing_heavy():
            heavy = {HEAVY!r}
            assert not {{m.split(".")[0] for m in sys.modules}} & set(heavy)
        """
    )
    # other installed plugins import their own libraries (allure-pytest imports allure)
    others = ("no:hypothesispytest", "no:anyio", "no:allure_pytest")
    result = pytester.runpytest_subprocess(*(arg for p in others for arg in ("-p", p)))
    result.assert_outcomes(passed=1)
