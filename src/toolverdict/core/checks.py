"""System checks for `manage.py check --deploy`."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

from .secret_key import weakness


@register(Tags.security, deploy=True)
def check_secret_key(app_configs=None, **kwargs) -> list[Error]:
    """toolverdict.E001: SECRET_KEY (or a fallback) is published, short or repetitive."""
    errors = []
    keys = [("SECRET_KEY", settings.SECRET_KEY)] + [
        (f"SECRET_KEY_FALLBACKS[{i}]", key)
        for i, key in enumerate(getattr(settings, "SECRET_KEY_FALLBACKS", []))
    ]
    for name, key in keys:
        problem = weakness(str(key))
        if problem:
            errors.append(
                Error(
                    f"{name} {problem}.",
                    hint=(
                        "Unset DJANGO_SECRET_KEY to use the random key generated in "
                        "$TOOLVERDICT_DATA_DIR/secret_key, or set it to a long random value, "
                        'e.g. python -c "import secrets; print(secrets.token_urlsafe(64))".'
                    ),
                    id="toolverdict.E001",
                )
            )
    return errors
