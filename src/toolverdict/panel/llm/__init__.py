"""Model backends behind one ``ReviewModel`` protocol, chosen by configuration.

``TOOLVERDICT_PANEL_MODEL`` picks the backend:

- ``local`` (default): the bundled Qwen2.5-Coder-1.5B through llama-cpp-python;
  ``local:smollm2`` the tiny SmolLM2-135M; ``local:/path/to/file.gguf`` any GGUF file;
- ``openai:<model>``: any OpenAI-compatible server (``TOOLVERDICT_OPENAI_BASE_URL``);
- ``anthropic:<model>``: Anthropic's API;
- ``python:<dotted.path>``: a class or factory of your own implementing ``ReviewModel``.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Generation, ModelError, Prices, ReviewModel, ReviewRequest

__all__ = [
    "Generation",
    "ModelError",
    "Prices",
    "ReviewModel",
    "ReviewRequest",
    "get_review_model",
]


def get_review_model(spec: str | None = None) -> ReviewModel:
    """The backend named by ``spec`` (default: the ``TOOLVERDICT_PANEL_MODEL`` setting)."""
    spec = (spec or settings.TOOLVERDICT_PANEL_MODEL or "local").strip()
    kind, _, name = spec.partition(":")
    if kind == "local":
        from .local import LocalModel

        return LocalModel(name or None)
    if kind == "openai" and name:
        from .openai_compat import OpenAIModel

        return OpenAIModel(name)
    if kind == "anthropic" and name:
        from .anthropic_api import AnthropicModel

        return AnthropicModel(name)
    if kind == "python" and name:
        return import_string(name)()
    raise ValueError(
        f"unknown panel model {spec!r}: use local[:<name or path>], openai:<model>, "
        "anthropic:<model> "
        "or python:<dotted.path>"
    )
