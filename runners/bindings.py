"""Bindings: a human or an agent attached to another run's terminal, to ``observe`` (read) or ``drive`` (type).

Granted by the board (humans, board keys) or by the run's agent's manager chain (its managers up to the CEO);
listed on the run page; ended by whoever may grant it, by its holder, or by the run ending (``run_finish``).
Who may read and type into a terminal at all is :func:`terminal_access` (the WebSocket consumer asks it).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from agents.models import Agent
from agents.selectors import is_ceo, manages
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput, NotFound
from orgs.models import Membership, Org
from orgs.numbers import whole_number
from runners.models import BindingMode, Run, RunStatus, TerminalBinding

# --- selectors -----------------------------------------------------------------------


def binding_grantable_by(actor: Actor, run: Run) -> bool:
    """The board, or an agent of the run's org that manages the run's agent (directly or further up) or is CEO."""
    if actor.agent is None:
        return actor.board
    if actor.agent.org_id != run.org_id or actor.agent.pk == run.agent_id:
        return False
    return is_ceo(actor.agent) or manages(actor.agent, run.agent_id)


def bindings_for_run(run: Run, *, active_only: bool = False) -> list[TerminalBinding]:
    qs = TerminalBinding.objects.filter(run=run).select_related("agent", "user").order_by("-id")
    if active_only:
        qs = qs.filter(ended_at__isnull=True)
    return list(qs)


def binding_get_for(*, actor: Actor, org: Org, binding_id: int | str) -> TerminalBinding:
    """The binding ``binding_id`` of ``org`` if ``actor`` may see it (everyone in the org), else NotFound."""
    pk = whole_number(str(binding_id), minimum=1)
    if pk is None or not actor.belongs_to(org):
        raise NotFound(f"There is no binding {binding_id}.")
    binding = TerminalBinding.objects.select_related("run", "agent", "user").filter(org=org, pk=pk).first()
    if binding is None:
        raise NotFound(f"There is no binding {binding_id}.")
    return binding


def terminal_access(*, actor: Actor, run: Run, may_act: bool) -> str | None:
    """What ``actor`` may do with ``run``'s terminal: ``"drive"``, ``"observe"`` or None (no access).

    ``may_act``: a human's right to change things in the run's org (owner or member; trusted local mode).
    Such a human drives; another human of the org (a viewer) observes unless a drive binding says more.
    An agent sees a terminal only through an active binding of its own, whatever its rank.
    """
    if actor.agent is not None and actor.agent.org_id != run.org_id:
        return None
    holder: dict[str, Any]
    running = run.status == RunStatus.RUNNING
    if actor.agent is not None:
        holder = {"agent": actor.agent}
    elif may_act and actor.board:
        return BindingMode.DRIVE if running else BindingMode.OBSERVE
    elif actor.user is not None:
        holder = {"user": actor.user}
    else:
        return None
    if not running:
        # A finished run's replay is a read: the org's humans, and agents that were attached to it.
        if actor.agent is None or TerminalBinding.objects.filter(run=run, **holder).exists():
            return BindingMode.OBSERVE
        return None
    modes = set(TerminalBinding.objects.filter(run=run, ended_at__isnull=True, **holder).values_list("mode", flat=True))
    if BindingMode.DRIVE in modes:
        return BindingMode.DRIVE
    if modes or actor.agent is None:
        return BindingMode.OBSERVE
    return None


# --- services ------------------------------------------------------------------------


@transaction.atomic
def binding_grant(
    *, actor: Actor, run: Run, mode: str, agent: Agent | None = None, username: str = ""
) -> TerminalBinding:
    """Attach ``agent`` (or the user ``username``) to ``run``'s terminal in ``mode``.

    An agent granting without naming a holder attaches itself. A holder's earlier active binding to the
    same run is replaced (one binding per holder and run).
    """
    if mode not in BindingMode.values:
        raise InvalidInput(f"mode is one of {', '.join(BindingMode.values)}.", field="mode")
    if not binding_grantable_by(actor, run):
        raise Forbidden(
            "Only the board or the run's agent's managers (up to the CEO) may attach to its terminal.",
            code="not_allowed",
        )
    if run.status != RunStatus.RUNNING:
        raise Conflict(f"Run {run.pk} is {run.status}: only a running run's terminal can be attached to.")
    user: Any = None
    if username:
        user = get_user_model().objects.filter(username=username).first()
        member = user is not None and (
            user.is_superuser or Membership.objects.filter(org_id=run.org_id, user=user).exists()
        )
        if not member:
            raise InvalidInput(f"There is no user {username!r} in this org.", field="user")
        agent = None
    elif agent is None:
        agent = actor.agent
    if agent is None and user is None:
        raise InvalidInput("Name the agent or the user to attach.", field="agent")
    if agent is not None:
        if agent.org_id != run.org_id:
            raise InvalidInput("The agent must be of the run's org.", field="agent")
        if agent.pk == run.agent_id:
            raise InvalidInput("An agent cannot attach to its own run.", field="agent")
    holder = {"agent": agent} if agent is not None else {"user": user}
    now = timezone.now()
    TerminalBinding.objects.filter(run=run, ended_at__isnull=True, **holder).update(ended_at=now, end_reason="replaced")
    return TerminalBinding.objects.create(
        org_id=run.org_id, run=run, mode=mode, **holder, **actor.author_fields("granted_by")
    )


@transaction.atomic
def binding_end(*, actor: Actor, binding: TerminalBinding, reason: str = "") -> TerminalBinding:
    """End an active binding: whoever may grant it, or its holder leaving."""
    holder = (actor.agent is not None and actor.agent.pk == binding.agent_id) or (
        actor.agent is None and actor.user is not None and actor.user.pk == binding.user_id
    )
    if not holder and not binding_grantable_by(actor, binding.run):
        raise Forbidden("Only the board, the run's agent's managers or the holder may end this binding.")
    now = timezone.now()
    ended = TerminalBinding.objects.filter(pk=binding.pk, ended_at__isnull=True).update(
        ended_at=now, end_reason=(reason or f"ended by {actor}")[:100]
    )
    if not ended:
        raise Conflict(f"Binding {binding.pk} has already ended.")
    binding.refresh_from_db()
    return binding
