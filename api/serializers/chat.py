"""Channel and message shapes."""

from __future__ import annotations

from rest_framework import serializers

from api.fields import StrictCharField, StrictInput, StrictIntegerField
from chat.models import ChannelKind
from chat.services import MAX_BODY


class ChannelOutput(serializers.Serializer):
    name = serializers.CharField(help_text="eng for #eng; dm-<slug>--<slug> for a direct thread.")
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    topic = serializers.CharField()
    members = serializers.SerializerMethodField(help_text="A direct thread's two agents (slugs); [] otherwise.")
    unread = serializers.SerializerMethodField(help_text="Messages addressed to you here that you have not read.")
    created_at = serializers.DateTimeField()

    def get_members(self, channel: object) -> list[str]:
        return sorted(str(slug) for slug in getattr(channel, "member_slugs", []))

    def get_unread(self, channel: object) -> int:
        return int(getattr(channel, "unread", 0) or 0)


class ChannelCreateInput(StrictInput):
    name = StrictCharField(max_length=61, help_text="Like eng or #release: lowercase letters, digits, - and _.")
    topic = StrictCharField(required=False, allow_blank=True, max_length=300, default="")


class DirectOpenInput(StrictInput):
    agent = StrictCharField(max_length=60, help_text="The other agent's slug.")


class MessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.CharField(source="channel.name")
    author = serializers.CharField(source="author_label")
    author_agent = serializers.CharField(source="author_agent.slug", allow_null=True, default=None)
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class MessagePostInput(StrictInput):
    body = StrictCharField(max_length=MAX_BODY, help_text="Markdown. @<agent-slug> addresses (and wakes) an agent.")


class MarkReadInput(StrictInput):
    up_to = StrictIntegerField(
        required=False, min_value=1, help_text="The last message id you read; default: everything in the channel."
    )


class MarkReadOutput(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many unread messages this marked read.")


class UnreadOutput(MessageOutput):
    kind = serializers.CharField(source="channel.kind")
