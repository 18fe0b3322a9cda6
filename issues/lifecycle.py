"""The issue lifecycle: the only table of legal status moves.

todo → in_progress (assign/checkout); in_progress ⇄ blocked; in_progress → in_review
(submit); in_review → todo (request changes) | done (approve) | board_review
(escalate) | wont_do (reject); board_review → done | wont_do | todo (the board
decides); any non-terminal status → cancelled. done, wont_do, cancelled are terminal.
"""

from __future__ import annotations

from issues.models import TERMINAL_STATUSES, Status

TRANSITIONS: dict[str, tuple[str, ...]] = {
    # todo → blocked: work that cannot even start (its agent fails before checkout) is parked, not retried forever.
    Status.TODO: (Status.IN_PROGRESS, Status.BLOCKED, Status.CANCELLED),
    Status.IN_PROGRESS: (Status.BLOCKED, Status.IN_REVIEW, Status.CANCELLED),
    Status.BLOCKED: (Status.IN_PROGRESS, Status.CANCELLED),
    Status.IN_REVIEW: (Status.TODO, Status.DONE, Status.BOARD_REVIEW, Status.WONT_DO, Status.CANCELLED),
    Status.BOARD_REVIEW: (Status.DONE, Status.WONT_DO, Status.TODO, Status.CANCELLED),
    Status.DONE: (),
    Status.WONT_DO: (),
    Status.CANCELLED: (),
}


def allowed_moves(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def is_allowed(old: str, new: str) -> bool:
    return new in allowed_moves(old)


def is_terminal(status: str) -> bool:
    return status in TERMINAL_STATUSES
