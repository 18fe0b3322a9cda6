"""Who is doing something: an agent, a human, or the system.

Every service takes an explicit ``actor=`` so the audit trail and the
permission rules never have to guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from agents.models import Agent
    from orgs.models import Org

ActorKind = Literal["agent", "human", "system"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    agent: Agent | None = None
    user: User | None = None
    # Free text for actors without a row: a board key's prefix, "scheduler", "telegram:12345".
    label: str = ""
    # Board actors (humans, board keys) have full rights in their org.
    board: bool = False
    # The instance operator: the only actor who may choose settings that run code on the Mesa
    # machine (the command runner, host runs, working dirs, loader/PATH env). That is the system
    # (manage.py), a superuser, or the person at the machine in trusted local mode; never an API key.
    operator: bool = False

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind="system", label=label, board=True, operator=True)

    @classmethod
    def for_agent(cls, agent: Agent) -> Actor:
        return cls(kind="agent", agent=agent, label=agent.slug)

    @classmethod
    def human(cls, user: User | None = None, label: str = "", operator: bool = False) -> Actor:
        """A board member; ``operator`` only for a superuser or trusted local mode (see ``operator``)."""
        name = label or (user.get_username() if user is not None else "board")
        return cls(kind="human", user=user, label=name, board=True, operator=operator)

    @property
    def is_agent(self) -> bool:
        return self.kind == "agent"

    @property
    def is_human(self) -> bool:
        return self.kind == "human"

    def __str__(self) -> str:
        if self.agent is not None:
            return self.agent.slug
        return self.label or self.kind

    def author_fields(self, prefix: str) -> dict[str, object]:
        """Values for a model's ``<prefix>_agent`` / ``_user`` / ``_label`` column triple."""
        user = self.user if self.user is not None and self.user.pk else None
        return {f"{prefix}_agent": self.agent, f"{prefix}_user": user, f"{prefix}_label": str(self)[:100]}

    def belongs_to(self, org: Org) -> bool:
        return self.agent is None or self.agent.org_id == org.pk
