"""``manage.py login-link``: a fresh one-time login link for trusted local mode (the earlier one stops working)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from web.local_login import login_link_create


class Command(BaseCommand):
    help = "Print a one-time login link for local mode (the person at the machine is the operator)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.MESA_TRUSTED_LOCAL:
            raise CommandError("Mesa is not in local mode here: sign in with a user (manage.py createsuperuser).")
        self.stdout.write(login_link_create())
