from __future__ import annotations

from django.contrib import admin

from notifications.models import Delivery, DeliveryAttempt, EventCursor, NotificationChannel, TelegramMessage


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "org", "enabled", "secret_hint", "last_error")
    exclude = ("secret",)  # never shown again; change it in Settings → Notifications
    readonly_fields = ("secret_hint", "poll_offset", "bot_username", "last_error", "last_error_at", "last_ok_at")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "kind", "status", "attempts", "next_attempt_at", "response_code")
    list_filter = ("status", "kind")


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ("delivery", "number", "ok", "response_code", "at")
    raw_id_fields = ("delivery",)


@admin.register(EventCursor)
class EventCursorAdmin(admin.ModelAdmin):
    list_display = ("name", "last_event_id", "updated_at")


@admin.register(TelegramMessage)
class TelegramMessageAdmin(admin.ModelAdmin):
    list_display = ("channel", "approval", "chat_id", "message_id", "shown_status", "created_at")
    raw_id_fields = ("approval",)
