"""Forms for sign-in and votes: bounded input, clear errors."""

from __future__ import annotations

from django import forms

from .models import Ballot


class SignInForm(forms.Form):
    # The address doubles as the username, whose column holds 150 characters.
    email = forms.EmailField(max_length=150, label="Email address")
    next = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)


class ToolVoteForm(forms.Form):
    value = forms.ChoiceField(choices=Ballot.choices)


class PairVoteForm(forms.Form):
    # The order the buttons showed is not asked: the server knows it (community/blind.py).
    winner = forms.SlugField(max_length=60)
