"""Address normalisation: one spelling per address; malformed and hostile input refused."""

from __future__ import annotations

import pytest

from toolverdict.digest.forms import SignupForm
from toolverdict.digest.subscriptions import InvalidAddress, normalise_email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Reader@Example.COM", "reader@example.com"),
        ("  reader@example.com\t", "reader@example.com"),
        ("first.last+digest@example.co.uk", "first.last+digest@example.co.uk"),
        ("reader@Bücher.example", "reader@xn--bcher-kva.example"),
    ],
)
def test_normalises_to_one_spelling(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "no-at-sign.example.com",
        "@example.com",
        "reader@",
        "two@@example.com",
        "reader@example",
        "spaced name@example.com",
        "reader@exa mple.com",
        "reader@example.com\r\nBcc: victim@example.org",
        "reader@example.com\nSubject: hi",
        "reader\x00@example.com",
        "jörg@example.com",
        "a" * 250 + "@example.com",
        "<reader@example.com>",
        "Reader <reader@example.com>",
    ],
)
def test_rejects_malformed_and_injected_addresses(raw):
    with pytest.raises(InvalidAddress):
        normalise_email(raw)


def test_form_reports_a_clear_error():
    form = SignupForm({"email": "reader@example.com\r\nBcc: x@example.org"})
    assert not form.is_valid()
    assert "line breaks" in form.errors["email"][0]
