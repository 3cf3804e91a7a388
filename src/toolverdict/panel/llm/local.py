"""The local backend: a GGUF model run in-process through llama-cpp-python.

The default is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M), assembled from registry packages and
verified by SHA-256 (``weights.py``); ``local:smollm2`` selects the tiny SmolLM2-135M for
fast tests and small machines, and ``local:/path/to/model.gguf`` any other file. Output is
constrained by a grammar built from the request's JSON schema: the ``response_format``
json_schema option of llama-cpp-python is silently ignored, so the grammar is passed
explicitly. One ``Llama`` instance is kept per process and reused: llama.cpp keeps the
last prompt's KV cache and skips the longest common token prefix, so every question after
the first about one tool only evaluates its own question block.
"""

from __future__ import annotations

import atexit
import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from . import weights
from .base import Generation, ModelError, Prices, ReviewRequest

# Kept for callers that name the small model's id directly (tests, benchmarks).
MODEL_ID = weights.SMOLLM2_135M.model_id
_EOS = "<|im_end|>"
_STOPS = [_EOS, "<|endoftext|>"]

_lock = threading.Lock()
_instances: dict[tuple[str, int, int | None], Any] = {}


@atexit.register
def _close_all() -> None:
    # Closing explicitly at exit avoids llama-cpp's noisy __del__ during interpreter teardown.
    for llm in _instances.values():
        llm.close()
    _instances.clear()


def get_llama(path: Path, n_ctx: int | None = None, n_threads: int | None = None) -> Any:
    """The process-wide Llama instance for this file (loaded on first use)."""
    from llama_cpp import Llama

    n_ctx = n_ctx or settings.TOOLVERDICT_LOCAL_N_CTX
    # Default: llama-cpp-python's own choice, half the cores. Measured on two cores: two
    # threads generate 1.3x faster than one on an idle machine, but with one more busy
    # process a two-thread review took 347 s instead of about 20 s (the threads spin at
    # every barrier), so every core is only worth it on a machine doing nothing else.
    n_threads = n_threads or settings.TOOLVERDICT_LOCAL_THREADS
    path = str(path)
    key = (path, n_ctx, n_threads)
    with _lock:
        if key not in _instances:
            _instances[key] = Llama(
                model_path=path, n_ctx=n_ctx, n_threads=n_threads, verbose=False, seed=0
            )
        return _instances[key]


@lru_cache(maxsize=64)
def _grammar(schema_json: str) -> Any:
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_json_schema(schema_json, verbose=False)


def chatml(messages: list[tuple[str, str]]) -> str:
    """ChatML, the chat template of both bundled models, as their GGUF metadata specifies."""
    rendered = "".join(f"<|im_start|>{role}\n{content}{_EOS}\n" for role, content in messages)
    return rendered + "<|im_start|>assistant\n"


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class LocalModel:
    """`ReviewModel` backed by a local GGUF file: a bundled model by name, or a path."""

    prices = Prices()  # runs on our own CPU: no per-token bill

    def __init__(
        self,
        name: str | None = None,
        n_ctx: int | None = None,
        n_threads: int | None = None,
    ) -> None:
        self.custom_path: str | None = None
        if name and (name.endswith(".gguf") or "/" in name):
            self.custom_path = name
        elif not name:
            self.custom_path = settings.TOOLVERDICT_LOCAL_MODEL_PATH
        self.bundled = None if self.custom_path else weights.bundled(name)
        self.n_ctx = n_ctx
        self.n_threads = n_threads

    @property
    def model_id(self) -> str:
        """The bundled model's id, or ``local:<file name>``: another file is another model,
        so its reviews must not be reused for this one (or the reverse)."""
        if self.bundled:
            return self.bundled.model_id
        return f"local:{Path(self.custom_path).name}"[:120]

    @property
    def is_local_draft(self) -> bool:
        return self.bundled.is_local_draft if self.bundled else False

    @property
    def style(self) -> str:
        return self.bundled.style if self.bundled else "stepwise"

    @property
    def repeat_penalty(self) -> float:
        return self.bundled.repeat_penalty if self.bundled else 1.05

    def path(self) -> Path:
        """The verified model file (assembled from its packages on first use)."""
        if self.bundled:
            return weights.bundled_path(self.bundled)
        return weights.custom_path(self.custom_path, settings.TOOLVERDICT_LOCAL_MODEL_SHA256)

    def prompt_text(self, request: ReviewRequest) -> str:
        return chatml([(m.role, m.content) for m in request.prompt.messages])

    def generate(self, request: ReviewRequest) -> Generation:
        llm = get_llama(self.path(), self.n_ctx, self.n_threads)
        grammar = _grammar(json.dumps(request.schema, sort_keys=False))
        with _lock:  # one llama context: calls must not interleave
            tokens = llm.tokenize(self.prompt_text(request).encode(), add_bos=False, special=True)
            if len(tokens) + request.max_tokens > llm.n_ctx():
                raise ModelError(
                    f"prompt of {len(tokens)} tokens plus {request.max_tokens} output tokens "
                    f"exceeds the local context of {llm.n_ctx()} (raise TOOLVERDICT_LOCAL_N_CTX)"
                )
            cached = _common_prefix(list(llm.input_ids[: llm.n_tokens]), tokens)
            try:
                out = llm.create_completion(
                    prompt=tokens,
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                    grammar=grammar,
                    stop=_STOPS,
                    repeat_penalty=self.repeat_penalty,
                    seed=request.seed if request.seed is not None else 0,
                )
            except (RuntimeError, ValueError) as exc:
                raise ModelError(f"llama.cpp failed: {exc}", retryable=True) from exc
        choice = out["choices"][0]
        if choice.get("finish_reason") == "length":
            raise ModelError(f"output reached the {request.max_tokens}-token limit unfinished")
        usage = out["usage"]
        return Generation(
            text=choice["text"],
            input_tokens=usage["prompt_tokens"],
            output_tokens=usage["completion_tokens"],
            cached_tokens=cached,
        )
