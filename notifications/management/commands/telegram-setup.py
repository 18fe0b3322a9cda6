from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.services import telegram_configure
from orgs.actors import Actor
from orgs.errors import MesaError
from orgs.selectors import org_get


class Command(BaseCommand):
    help = "Configure an org's Telegram bot: token, chat, allowed user ids, Bot API base URL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="org slug")
        parser.add_argument("--token", default="", help="bot token from @BotFather (omit to keep the stored one)")
        parser.add_argument("--chat", required=True, help="chat id (e.g. -1001234567890) or @channel")
        parser.add_argument("--allow", required=True, help="Telegram user ids allowed to decide, comma separated")
        parser.add_argument("--base-url", default="", help="Bot API server root (default https://api.telegram.org)")
        parser.add_argument("--disable", action="store_true", help="keep the settings but stop the bot")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            org = org_get(options["org"])
            channel, created = telegram_configure(
                actor=Actor.system("telegram-setup"),
                org=org,
                token=options["token"] or None,
                chat_id=options["chat"],
                allowed_user_ids=options["allow"],
                base_url=options["base_url"],
                enabled=not options["disable"],
            )
        except MesaError as exc:
            raise CommandError(exc.message) from exc
        allowed = ", ".join(str(i) for i in channel.config["allowed_user_ids"])
        self.stdout.write(
            f"{'Created' if created else 'Updated'} the Telegram bot of {org.slug}: token {channel.secret_hint}, "
            f"chat {channel.config['chat_id']}, allowed users {allowed}, API {channel.config['base_url']}, "
            f"{'enabled' if channel.enabled else 'disabled'}."
        )
        self.stdout.write("The bot polls from the scheduler process or `python manage.py telegram`; no restart needed.")
