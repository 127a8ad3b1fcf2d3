"""Tests for language:response_language and the deterministic language detector."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mathif_pytest.constraints.language import detect_language

SAMPLES = {
    "es": "La respuesta es 168 porque Andrea tiene 52 manzanas y Jamal tiene 44 manzanas.",
    "ru": "Ответ равен 168, потому что у Андреа 52 яблока.",
    "ja": "答えは168です。アンドレアはリンゴを52個持っています。",
    "en": "The answer is 168 because Andrea has 52 apples and Jamal has 44 apples.",
}

LANGUAGES = [
    pytest.param("es", SAMPLES["es"], True, id="spanish-as-asked"),
    pytest.param("ru", SAMPLES["ru"], True, id="russian-as-asked"),
    pytest.param("ja", SAMPLES["ja"], True, id="japanese-as-asked"),
    pytest.param("es", SAMPLES["en"], False, id="english-instead-of-spanish"),
    pytest.param("es", "123 = 456", True, id="no-letters-counts-as-followed"),
    pytest.param("es", SAMPLES["es"] + r" \boxed{168}", True, id="latex-does-not-hide-language"),
]


@pytest.mark.parametrize(("language", "response", "followed"), LANGUAGES)
def test_response_language_compares_langdetect_with_the_code(judge, language, response, followed):
    verdict = judge("language:response_language", {"language": language}, response)
    assert verdict.followed is followed, verdict.detail


def test_response_language_detail_names_both_languages(judge):
    verdict = judge("language:response_language", {"language": "es"}, SAMPLES["en"])
    assert verdict.detail == "detected language 'en'; needs 'es'"


def test_response_language_detail_explains_the_undetectable_rule(judge):
    verdict = judge("language:response_language", {"language": "es"}, "123")
    assert "could not be detected" in verdict.detail
    assert "counted as followed" in verdict.detail


def test_language_detection_is_deterministic_on_ambiguous_text():
    # Unseeded, the official checker flips between 'so' and 'en' on this text from run to run.
    assert len({detect_language(r"\boxed{5}") for _ in range(5)}) == 1


def test_language_detection_leaves_langdetect_global_state_alone():
    from langdetect import detector_factory

    seed_before = detector_factory.DetectorFactory.seed
    factory_before = detector_factory._factory
    detect_language(SAMPLES["es"])
    assert detector_factory.DetectorFactory.seed == seed_before
    assert detector_factory._factory is factory_before


def test_importing_the_constraints_package_imports_neither_langdetect_nor_nltk():
    code = (
        "import sys, mathif_pytest.constraints; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('langdetect', 'nltk')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
