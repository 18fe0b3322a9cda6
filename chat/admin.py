from __future__ import annotations

from django.contrib import admin

from chat.models import Channel, ChatMessage, Conversation, Message, Recipient


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "org", "created_by_label", "created_at")
    list_filter = ("org", "kind")
    search_fields = ("name", "topic")
    raw_id_fields = ("created_by_agent", "created_by_user")
    filter_horizontal = ("members",)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("channel", "author_label", "created_at")
    list_filter = ("org",)
    search_fields = ("body",)
    raw_id_fields = ("channel", "author_agent", "author_user")


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ("message", "agent", "read_at", "delivered_at")
    raw_id_fields = ("message", "agent")


class ChatMessageInline(admin.TabularInline):
    model = ChatMessage
    extra = 0


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("agent", "issue", "org", "created_at")
    list_filter = ("org",)
    raw_id_fields = ("agent", "issue")
    inlines = [ChatMessageInline]
