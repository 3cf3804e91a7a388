"""The public submission form: bounded fields, a honeypot, and the catalog schema's checks.

The form validates a submission against the same pydantic schema as a catalog import,
so a submission that passes here can be approved without surprises.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from pydantic import ValidationError as SchemaError

from toolverdict.catalog.file_format import ToolIn
from toolverdict.catalog.models import Category, Pricing

from .models import Submission

MAX_FACTS = 20
_http_url = URLValidator(schemes=["http", "https"])
_FACT_LINE = re.compile(r"^(?P<label>[^:|]{1,40}):\s*(?P<value>.+?)\s*\|\s*(?P<source>\S+)\s*$")


def parse_facts(text: str) -> list[dict[str, str]]:
    """One fact per line: "Label: value | https://source". Raises ValidationError."""
    facts, errors = [], []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_FACTS:
        raise ValidationError(f"At most {MAX_FACTS} facts, please.")
    for number, line in enumerate(lines, start=1):
        match = _FACT_LINE.match(line)
        if not match:
            errors.append(f"Line {number}: write it as “Label: value | https://source”.")
            continue
        key = re.sub(r"[^a-z0-9]+", "_", match["label"].lower()).strip("_")
        if not key or not key[0].isalpha():
            errors.append(f"Line {number}: the label must start with a letter.")
            continue
        try:
            _http_url(match["source"])
        except ValidationError:
            errors.append(f"Line {number}: the source must be an http(s) address.")
            continue
        if len(match["value"]) > 300:
            errors.append(f"Line {number}: a value has at most 300 characters.")
            continue
        facts.append({"key": key[:40], "value": match["value"], "source": match["source"]})
    if errors:
        raise ValidationError(errors)
    return facts


class SubmissionForm(forms.ModelForm):
    # The honeypot: hidden from people, filled by naive bots. Not a real address field.
    website = forms.CharField(required=False, label="Leave this empty", max_length=200)
    homepage = forms.URLField(
        max_length=300,
        assume_scheme="https",
        widget=forms.TextInput(attrs={"inputmode": "url", "placeholder": "https://"}),
    )
    facts_text = forms.CharField(
        label="Facts with sources",
        required=False,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One per line: “Label: value | https://where-it-is-stated”. "
        f"At most {MAX_FACTS}.",
    )

    class Meta:
        model = Submission
        fields = [
            "name",
            "vendor",
            "homepage",
            "category",
            "pricing",
            "tagline",
            "description",
            "contact_email",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 5, "maxlength": 1500})}
        labels = {"contact_email": "Your email (optional, never shown)"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.order_by("name")
        self.fields["pricing"].choices = Pricing.choices
        self.fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))

    def clean_homepage(self) -> str:
        homepage = self.cleaned_data["homepage"]
        if not homepage.lower().startswith(("http://", "https://")):
            raise ValidationError("Only http:// or https:// addresses, please.")
        return homepage

    def clean_facts_text(self) -> list[dict[str, str]]:
        return parse_facts(self.cleaned_data.get("facts_text", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        # Same schema as a catalog import; the slug is chosen at approval time.
        try:
            ToolIn.model_validate(
                {
                    "slug": "submission",
                    "name": data["name"],
                    "vendor": data["vendor"],
                    "category": data["category"].slug,
                    "tagline": data["tagline"],
                    "description": data.get("description", ""),
                    "homepage": data["homepage"],
                    "pricing": data["pricing"],
                    "facts": list(data.get("facts_text", [])),
                }
            )
        except SchemaError as exc:
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else None
                field = "facts_text" if field == "facts" else field
                self.add_error(field if field in self.fields else None, error["msg"])
        return data

    def save(self, commit: bool = True) -> Submission:
        submission = super().save(commit=False)
        submission.facts = self.cleaned_data.get("facts_text", [])
        if commit:
            submission.save()
        return submission
