"""The hosted backends' SDKs are optional extras: without one, a clear error names the extra."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from toolverdict.panel.llm import get_review_model
from toolverdict.panel.llm.base import MissingExtra

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


@pytest.mark.parametrize(
    ("spec", "module"), [("openai:gpt-4o-mini", "openai"), ("anthropic:claude-x", "anthropic")]
)
def test_a_hosted_backend_without_its_sdk_names_the_extra(monkeypatch, spec, module):
    monkeypatch.setitem(sys.modules, module, None)  # import now fails as if not installed
    with pytest.raises(MissingExtra, match=rf"pip install 'toolverdict\[{module}\]'"):
        get_review_model(spec)


def test_the_missing_sdk_error_is_an_import_error():
    assert issubclass(MissingExtra, ImportError)


def test_the_sdks_are_extras_not_dependencies_and_the_test_setup_installs_both():
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    required = {d.split("==")[0].split("[")[0] for d in project["dependencies"]}
    extras = project["optional-dependencies"]
    assert {"openai", "anthropic"}.isdisjoint(required)
    assert extras["openai"] == [next(d for d in extras["dev"] if d.startswith("openai=="))]
    assert extras["anthropic"] == [next(d for d in extras["dev"] if d.startswith("anthropic=="))]
