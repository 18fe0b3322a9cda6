"""Parse the channel forms; the rules live in notifications.services."""

from __future__ import annotations

from typing import Any

from django import forms

from notifications.models import ChannelKind, EventKind, NotificationChannel

CONFIG_FIELDS = ("url", "chat_id", "allowed_user_ids", "base_url")


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(choices=ChannelKind.choices, required=False)
    name = forms.CharField(max_length=100, required=False)
    enabled = forms.BooleanField(required=False)
    events = forms.MultipleChoiceField(choices=EventKind.choices, required=False, widget=forms.CheckboxSelectMultiple)
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False), strip=True)
    url = forms.CharField(required=False, max_length=500)
    chat_id = forms.CharField(required=False, max_length=40)
    allowed_user_ids = forms.CharField(required=False, max_length=500)
    base_url = forms.CharField(required=False, max_length=300)

    @classmethod
    def for_channel(cls, channel: NotificationChannel) -> ChannelForm:
        config = channel.config or {}
        return cls(
            initial={
                "kind": channel.kind,
                "name": channel.name,
                "enabled": channel.enabled,
                "events": channel.events,
                "url": config.get("url", ""),
                "chat_id": config.get("chat_id", ""),
                "allowed_user_ids": ", ".join(str(i) for i in config.get("allowed_user_ids", [])),
                "base_url": config.get("base_url", ""),
            }
        )

    def config(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name, "") for name in CONFIG_FIELDS}
