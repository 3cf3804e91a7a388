"""What the apps tell the page cache: their pages, what changes them, their personal parts.

The page cache is generic (docs/decisions.md, layers): it names no app, page, model or
setting. Each app declares, from its own code,

* its cached pages: ``@cached("app:name", scopes=…, params=…)`` next to the view (or
  ``register_page`` for a view it does not write, such as django-ninja's schema), with
  the scopes the page shows and the query parameters it reads; a page left out on purpose
  says why with ``@not_cached`` / ``register_uncached``;
* the models whose writes change pages: ``watch(Model, scopes=…)`` or ``watch(Model,
  change=fn)`` in its ``pagecache_hooks.py``, which the page cache imports for every app
  at start-up (``autodiscover_modules``, the way the admin finds ``admin.py``);
* its personal parts: ``personal_part(name, render)``, filled in per reader;
* the settings that change what its pages show: ``rendering_settings``; and the
  ``TOOLVERDICT_*`` settings its pages read that do not change them:
  ``settings_not_rendering``.

tests/core/test_page_cache_registry.py fails when a URL is neither cached nor marked,
or a setting a page reads is declared neither way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest

from .versions import invalidate

View = TypeVar("View")
Scopes = Callable[..., Iterable[str]]


# --- pages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedPage:
    name: str  # the URL name, "namespace:name"
    scopes: Scopes  # the URL's keyword arguments → the scopes the page shows (no queries)
    params: tuple[str, ...] = ()  # the query parameters the page reads


_pages: dict[str, CachedPage] = {}
_uncached: dict[str, str] = {}  # URL name, or a namespace ending in ":", → why not cached
_listeners: list[Callable[[], None]] = []


def register_page(name: str, scopes: Scopes | Iterable[str], params: Iterable[str] = ()) -> None:
    """Cache the page of URL ``name``; ``scopes``: a list, or a function of its URL kwargs."""
    if not callable(scopes):
        fixed = tuple(scopes)

        def scopes(**kwargs: object) -> Iterable[str]:
            return fixed

    _pages[name] = CachedPage(name, scopes, tuple(params))
    for listener in _listeners:
        listener()


def cached(
    name: str, scopes: Scopes | Iterable[str] = (), params: Iterable[str] = ()
) -> Callable[[View], View]:
    """Decorator for the view of URL ``name``: its anonymous page is cached."""

    def declare(view: View) -> View:
        register_page(name, scopes, params)
        return view

    return declare


def register_uncached(name: str, reason: str) -> None:
    """URL ``name`` (or every URL of namespace ``"ns:"``) is rendered per request on purpose."""
    _uncached[name] = reason


def not_cached(name: str, reason: str) -> Callable[[View], View]:
    """Decorator for the view of URL ``name``: never cached, for ``reason``."""

    def declare(view: View) -> View:
        register_uncached(name, reason)
        return view

    return declare


def page(name: str) -> CachedPage | None:
    return _pages.get(name)


def pages() -> dict[str, CachedPage]:
    return dict(_pages)


def uncached_reason(name: str) -> str | None:
    """Why URL ``name`` is not cached, if it was declared so (by name or namespace)."""
    if name in _uncached:
        return _uncached[name]
    namespace = name.rpartition(":")[0]
    while namespace:
        if f"{namespace}:" in _uncached:
            return _uncached[f"{namespace}:"]
        namespace = namespace.rpartition(":")[0]
    return None


def on_pages_changed(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever a page is registered (the middleware's resolve memo)."""
    _listeners.append(listener)


# --- writes that change pages -----------------------------------------------------------

_watched: dict[type[Model], list[str]] = {}


def watch(
    *models: type[Model],
    scopes: Iterable[str] = (),
    change: Callable[[Any], None] | None = None,
) -> None:
    """Saving or deleting a row of ``models`` retires the pages showing ``scopes``, or
    whatever ``change(instance)`` passes to ``versions.invalidate``, once it commits."""
    fixed = tuple(scopes)

    def receiver(sender: type[Model], instance: Model, **kwargs: object) -> None:
        if fixed:
            invalidate(*fixed)
        if change is not None:
            change(instance)

    for model in models:
        label = model._meta.label
        uid = f"pagecache:{label}:{','.join(fixed)}:{getattr(change, '__qualname__', '')}"
        post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}:save")
        post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}:delete")
        _watched.setdefault(model, []).append(label)


def watched_models() -> set[type[Model]]:
    return set(_watched)


# --- personal parts ---------------------------------------------------------------------

# render(request, recorded, next_url) → {marker name: HTML}; ``recorded`` is what the
# page's render recorded for the part (``record``): a dict by key for a family of parts.
Render = Callable[[HttpRequest, Any, str], dict[str, str]]


@dataclass(frozen=True)
class PersonalPart:
    name: str
    render: Render
    family: bool = False  # many on a page, one per key: "<name>:<key>"
    needs_record: bool = False  # valid only on a page whose render recorded it
    query: Callable[[Any], dict[str, str]] | None = None  # for the fragment request


_parts: dict[str, PersonalPart] = {}
_fragment: list[str] = []


def personal_part(
    name: str,
    render: Render,
    *,
    family: bool = False,
    needs_record: bool = False,
    query: Callable[[Any], dict[str, str]] | None = None,
) -> None:
    """A part of cached pages filled in for each signed-in reader.

    Templates mark it ``<!--pb:name-->…<!--/pb:name-->`` (``<!--pb:name:key-->`` for a
    family); the page cache renders it with ``render`` for the reader and splices it in.
    """
    _parts[name] = PersonalPart(name, render, family, needs_record, query)


def personal_parts_registered() -> dict[str, PersonalPart]:
    return dict(_parts)


def set_fragment_view(url_name: str) -> None:
    """The view answering a signed-in reader's parts as one fragment (scripts for all)."""
    _fragment[:] = [url_name]


def fragment_view() -> str | None:
    return _fragment[0] if _fragment else None


def record(request: HttpRequest | None, part: str, data: Any, key: str | None = None) -> None:
    """Note, while a page renders for the cache, that it holds ``part`` (and its data)."""
    if request is None or not getattr(request, "_page_cache_render", False):
        return
    found = request.__dict__.setdefault("_page_parts", {})
    if key is None:
        found[part] = data
    else:
        found.setdefault(part, {}).setdefault(key, data)


def recorded(request: HttpRequest | None) -> dict[str, Any]:
    return dict(getattr(request, "_page_parts", {}) or {})


# --- settings ---------------------------------------------------------------------------

_rendering: dict[str, str] = {}  # setting name or prefix ("X_*") → the app declaring it
_not_rendering: dict[str, str] = {}  # setting name or prefix → why it changes no page


def rendering_settings(*names: str) -> None:
    """Settings that change what pages show (part of every page's key); ``"PREFIX_*"``
    names every setting starting with ``PREFIX_``. Machine-specific settings (paths,
    threads) must not be here: they would split the ETags of machines serving one site."""
    for name in names:
        _rendering[name] = name


def settings_not_rendering(*names: str, reason: str) -> None:
    """``TOOLVERDICT_*`` settings read near pages that change no page, and why."""
    for name in names:
        _not_rendering[name] = reason


def _matches(name: str, declared: Iterable[str]) -> bool:
    return any(d == name or (d.endswith("*") and name.startswith(d[:-1])) for d in declared)


def is_rendering(name: str) -> bool:
    return _matches(name, _rendering)


def is_declared(name: str) -> bool:
    return _matches(name, _rendering) or _matches(name, _not_rendering)


def rendering_declared() -> tuple[str, ...]:
    return tuple(sorted(_rendering))
