"""System checks: weak secret keys (`check --deploy`) and renamed environment variables."""

from __future__ import annotations

import os

from django.conf import settings
from django.core import checks
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


@register()
def check_renamed_environment(app_configs=None, **kwargs) -> list[checks.Warning]:
    """toolverdict.W001: a variable is set under the name it had before the TOOLVERDICT_
    prefix. It is still read (settings.RENAMED_ENV), but the old name will go."""
    from toolverdict.settings import RENAMED_ENV

    return [
        checks.Warning(
            f"{old} is the old name of {new}; it is still read, but set {new} instead.",
            hint="See the renamed variables in docs/configuration.md.",
            id="toolverdict.W001",
        )
        for new, old in RENAMED_ENV.items()
        if old in os.environ and new not in os.environ
    ]
