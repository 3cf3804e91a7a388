"""Render an issue as email (HTML with inlined CSS + plain text) and as per-recipient messages.

The issue is rendered and its CSS inlined once; each recipient's message only swaps in
their own unsubscribe URL, so rendering cost does not grow with the list. All text comes
from the database (tool names, panel reasons, editor text) and goes through Django's
autoescaping in HTML; header values are forced onto one line.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlsplit

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Issue, Section

_inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def header_safe(value: str) -> str:
    """One line, no control characters: the only shape a header value may have."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in str(value)).split())


def link(url: str) -> str:
    """An absolute http(s) link for a section URL; anything else (javascript:, data:) → ""."""
    url = (url or "").strip()
    if url.startswith("/") and not url.startswith("//"):
        return f"{settings.SITE_URL}{url}"
    if urlsplit(url).scheme in {"http", "https"}:
        return url
    return ""


@dataclass
class SectionView:
    kind: str
    heading: str
    url: str
    ship_pct: int | None
    paras: list[str]
    bullets: list[str]


def section_views(sections: list[Section]) -> list[SectionView]:
    views = []
    for section in sections:
        lines = section.lines
        split = 2 if section.kind == Section.Kind.TOOL else len(lines)
        views.append(
            SectionView(
                kind=section.kind,
                heading=section.heading,
                url=link(section.url),
                ship_pct=section.ship_pct,
                paras=lines[:split],
                bullets=lines[split:],
            )
        )
    return views


def issue_context(issue: Issue) -> dict:
    views = section_views(list(issue.sections.all()))
    return {
        "issue": issue,
        "subject": header_safe(issue.subject),
        "intro_paras": [p.strip() for p in issue.intro.split("\n\n") if p.strip()],
        "headline": [v for v in views if v.kind == Section.Kind.HEADLINE],
        "comparisons": [v for v in views if v.kind == Section.Kind.COMPARISON],
        "tools": [v for v in views if v.kind == Section.Kind.TOOL],
        "notes": [v for v in views if v.kind == Section.Kind.NOTE],
        "web_url": f"{settings.SITE_URL}{issue.get_absolute_url()}",
        "archive_url": f"{settings.SITE_URL}{reverse('digest:archive')}",
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
    }


@dataclass
class RenderedIssue:
    subject: str
    text: str
    html: str
    placeholder: str
    domain: str = "localhost"

    def for_recipient(self, unsubscribe_url: str) -> tuple[str, str]:
        return (
            self.text.replace(self.placeholder, unsubscribe_url),
            self.html.replace(self.placeholder, unsubscribe_url),
        )


def render_issue(issue: Issue) -> RenderedIssue:
    # A random placeholder cannot be typed into any section by an editor or a tool feed.
    placeholder = f"https://unsubscribe.invalid/{secrets.token_hex(16)}"
    context = {**issue_context(issue), "unsubscribe_url": placeholder}
    text = render_to_string("digest/email/issue.txt", context)
    html = _inliner.inline(render_to_string("digest/email/issue.html", context))
    return RenderedIssue(header_safe(issue.subject), text, html, placeholder, mail_domain())


def mail_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    domain = address.rpartition("@")[2] or urlsplit(settings.SITE_URL).hostname or "localhost"
    return header_safe(domain).replace(" ", "")


def message_id(issue: Issue, delivery_id: int, domain: str | None = None) -> str:
    """Stable per delivery: the same delivery always carries the same Message-ID, which lets
    an operator match an "unknown" delivery against the mail server's log."""
    return f"<digest.{issue.key}.{delivery_id}@{domain or mail_domain()}>"


def build_message(
    rendered: RenderedIssue, issue: Issue, *, email: str, unsubscribe_url: str, delivery_id: int
) -> EmailMultiAlternatives:
    text, html = rendered.for_recipient(unsubscribe_url)
    headers = {
        "Message-ID": message_id(issue, delivery_id, rendered.domain),
        # RFC 2369 + RFC 8058: clients show an unsubscribe button that POSTs to the URL.
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"Weekly AI Tool Verdicts <weekly.{rendered.domain}>",
        "Precedence": "bulk",
        "Auto-Submitted": "auto-generated",
    }
    message = EmailMultiAlternatives(
        rendered.subject, text, settings.DEFAULT_FROM_EMAIL, [email], headers=headers
    )
    message.attach_alternative(html, "text/html")
    return message
