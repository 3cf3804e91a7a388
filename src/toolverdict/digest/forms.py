"""The sign-up form: one email field, validated by services.normalise_email."""

from __future__ import annotations

from django import forms

from .subscriptions import InvalidAddress, normalise_email


class SignupForm(forms.Form):
    email = forms.CharField(
        max_length=254,
        strip=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.com"}),
    )

    def clean_email(self) -> str:
        try:
            return normalise_email(self.cleaned_data["email"])
        except InvalidAddress as exc:
            raise forms.ValidationError(str(exc)) from exc
