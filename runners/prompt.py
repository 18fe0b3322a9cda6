"""The prompt an agent gets: built here, in one place, and recorded with the run.

Sections, in order: the role (archetype body) goes to the runner as the system prompt;
the task prompt holds the assignment (issue key, title, description, acceptance
criteria), why it matters (parent chain, work block goal and north-star metric, apex
goal), the last comments (review feedback included), what the agent learned before
(its own reflections: the last few and those matching the issue's words), the skills the
board approved for it, the board's policies (in every prompt of the org), the mode's
instructions (task / review / heartbeat, with the closing reflection asked for), the CEO's
roster and backlog intake, and the API cheat sheet (generated from the API by the
provider ``api`` registers in ``runners.cheatsheet``; it uses ``$MESA_*`` variables, the key
itself never appears in a prompt).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from agents.models import Agent, AgentStatus
from agents.selectors import is_ceo
from approvals.models import Approval, ApprovalStatus
from archetypes.loader import archetype_get
from chat.conversations import transcript
from chat.models import Conversation
from chat.selectors import undelivered_for
from issues.models import OPEN_STATUSES, Comment, Issue, Status
from learning.selectors import policies_active, reflections_for, skills_for
from orgs.compiled import compiled_models
from runners.backlog import backlog_read
from runners.branch_prompt import branch_section
from runners.cheatsheet import cheat_sheet
from runners.registry import runner_for

LAST_COMMENTS = 8
COMMENT_MAX = 1_500
REFLECTION_MAX = 400
SKILL_MAX = 2_000
SKILLS_MAX = 8_000
REFLECTION_MARKER = "REFLECTION:"
BACKLOG_MAX = 20_000
PARENT_DEPTH = 5


@dataclass(frozen=True)
class Prompt:
    system: str  # the role
    task: str  # what to do now
    skills: tuple[int, ...] = ()  # the skills it carries (recorded as the skills' uses)
    # The channel messages this prompt carries: marked delivered when the run starts (``execute_run``).
    message_ids: tuple[int, ...] = ()

    def recorded(self) -> str:
        """What is stored on the run: both parts, so a dry run shows exactly what the model would see."""
        return f"=== SYSTEM (role) ===\n{self.system}\n\n=== PROMPT ===\n{self.task}"


def role_text(agent: Agent) -> str:
    archetype = archetype_get(agent.archetype, agent.org)
    head = f"You are {agent.name} (@{agent.slug}), an autonomous AI agent on a team run with Mesa."
    if archetype is None:
        return head
    return f"{head}\n\n{archetype.body.strip()}"


def reflections(agent: Agent, issue: Issue | None = None) -> list[str]:
    """What the agent said it learned at the end of earlier runs: its last few reflections, then those
    sharing words with the current issue (``learning.selectors.reflections_for``), each clipped."""
    about = f"{issue.title} {issue.description}" if issue is not None else ""
    return [
        (f"{r.issue.key}: " if r.issue is not None else "") + _clip(r.text, REFLECTION_MAX)
        for r in reflections_for(agent, about=about)
    ]


def _skills_section(agent: Agent) -> tuple[str, tuple[int, ...]]:
    """The board-approved skills for ``agent`` (clipped, within SKILLS_MAX), and which ones were given."""
    parts: list[str] = []
    given: list[int] = []
    used = 0
    for skill in skills_for(agent):
        text = f"### {skill.title}\n{_clip(skill.body, SKILL_MAX)}"
        if used + len(text) > SKILLS_MAX:
            break
        parts.append(text)
        given.append(skill.pk)
        used += len(text)
    if not parts:
        return "", ()
    return "SKILLS the board approved for you (use them when they fit):\n\n" + "\n\n".join(parts), tuple(given)


def _policies_section(agent: Agent) -> str:
    policies = policies_active(agent.org_id)
    if not policies:
        return ""
    return "BOARD POLICIES (standing directives from the humans; they override anything else):\n" + "\n".join(
        f"- {p.text}" for p in policies
    )


def _clip(text: str, n: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= n else text[:n] + "…"


def _why_chain(issue: Issue) -> list[str]:
    lines: list[str] = []
    parent, depth, seen = issue.parent, 0, {issue.pk}
    while parent is not None and depth < PARENT_DEPTH and parent.pk not in seen:
        seen.add(parent.pk)
        lines.append(f'- Part of {parent.key} "{parent.title}" ({parent.status}): {_clip(parent.description, 400)}')
        parent, depth = parent.parent, depth + 1
    block = issue.work_block
    if block is None:
        block = next((p.work_block for p in _parents(issue) if p.work_block_id), None)
    if block is not None:
        lines.append(f'- Work block "{block.title}" ({block.status}). Goal: {_clip(block.goal, 600)}')
        if block.north_star_metric:
            target = f" (target: {block.north_star_target})" if block.north_star_target else ""
            lines.append(f"- North-star metric: {block.north_star_metric}{target}")
        if block.apex_block is not None:
            lines.append(f'- Apex goal "{block.apex_block.title}": {_clip(block.apex_block.goal, 600)}')
    return lines


def _parents(issue: Issue) -> list[Issue]:
    out: list[Issue] = []
    parent, seen = issue.parent, {issue.pk}
    while parent is not None and len(out) < PARENT_DEPTH and parent.pk not in seen:
        seen.add(parent.pk)
        out.append(parent)
        parent = parent.parent
    return out


def _comments(issue: Issue) -> list[str]:
    rows = list(Comment.objects.filter(issue=issue).order_by("-id")[:LAST_COMMENTS])
    rows.reverse()
    return [
        f"- {c.author_label or 'someone'} [{c.kind}] {c.created_at:%Y-%m-%d %H:%M}: {_clip(c.body, COMMENT_MAX)}"
        for c in rows
    ]


# Every run's prompt reads its issue with the chain of parents and blocks it quotes: compiled once
# (orgs/compiled.py), as building this queryset cost more than running it.
_prompt_issue = compiled_models(
    lambda pk: Issue.objects.select_related(
        "assignee", "work_block__apex_block", "parent__parent__parent", "parent__work_block__apex_block"
    ).filter(pk=pk)
)


def _issue_block(issue: Issue) -> list[str]:
    out = [
        f"ISSUE {issue.key}: {issue.title}",
        f"Status: {issue.status}; priority {issue.priority}; type {issue.type}"
        + (f"; assignee @{issue.assignee.slug}" if issue.assignee_id and issue.assignee else ""),
        "",
        "Description:",
        issue.description.strip() or "(none)",
    ]
    if issue.acceptance_criteria.strip():
        out += ["", "Acceptance criteria:", issue.acceptance_criteria.strip()]
    why = _why_chain(issue)
    if why:
        out += ["", "Why this matters:", *why]
    comments = _comments(issue)
    if comments:
        out += ["", f"Last comments (oldest first, up to {LAST_COMMENTS}):", *comments]
    return out


TASK_RULES = """How to work:
- You run unattended: never wait for a human at the terminal. If you are stuck or need a decision,
  comment on the issue saying exactly what you need and move it to blocked.
- Check the issue out first (POST .../checkout): it moves to in_progress and is yours.
- Work only inside your current directory ($MESA_WORKTREE): it is your own git worktree on its own
  branch. Commit your work there; Mesa stores the diff and keeps the branch.
- When done, post an evidence comment (what changed, how you verified it: commands run, test results),
  then PATCH the status to in_review. Do not mark your own work done.
- Search the wiki before starting; record durable knowledge there."""

REVIEW_RULES = """You are the REVIEWER of this issue (its author cannot review it). Check the work against the
description and acceptance criteria: read the evidence comments and the branch/diff, run what you need.
Then do exactly one of:
- approve: PATCH status to done (add a short evidence comment saying what you verified);
- request changes: POST a comment listing precisely what must change, then PATCH status to todo;
- escalate to the humans (risky, irreversible, or beyond your authority): PATCH status to board_review
  with a comment explaining why."""

CHAT_RULES = """CHAT. A human is talking with you; the conversation so far is below, their last message at the end.
Answer it: your final message is shown to them as your reply, so make it the answer itself (short, plain
markdown). You may use the API (create issues, comment, …) when they ask for it; say what you did."""

HEARTBEAT_RULES = """HEARTBEAT CHECK. Look at your inbox (GET /inbox) and handle what needs you: start or continue
your open issues, answer questions addressed to you, review what waits for your review. If nothing needs
you, stop at once without doing anything."""

REFLECTION_ASK = f"""Last step: end your final message with one line starting `{REFLECTION_MARKER}` and one or two
sentences on what worked and what you would do differently next time. Mesa keeps it for your next runs."""

CEO_RULES = """As the CEO you do not implement. You plan, delegate and review: break work into issues
assigned to the right team member (POST /issues with assignee and parent), keep the active
work block on track, review what reaches you, and ask the humans (POST /approvals) for decisions beyond you."""


MCP_TOOLS = """MESA TOOLS. You have Mesa's tools over MCP (the server "mesa"): use the mesa tools for everything
you do in Mesa, not curl. inbox; issue_read, issue_checkout, issue_update (status, with a comment),
issue_release, comment_create (kind "evidence" for what you did and how you verified it), issue_create
(a sub-issue: parent + assignee), issue_similarity; approval_request; wiki_search, wiki_read, wiki_write,
wiki_update; runs_list, run_read, workspace_state; channels_list, channel_messages, channel_post,
channel_read, messages_unread (your team's channels and direct messages).
Only if the mesa tools are missing: the same API is at $MESA_API_URL with
'Authorization: Bearer $MESA_API_KEY' (never print the key); its OpenAPI schema is /api/schema/ there."""


def has_mcp(agent: Agent) -> bool:
    """True when the agent's runner hands its CLI Mesa's MCP server (see ``BaseRunner.mcp``)."""
    try:
        return bool(runner_for(agent.runner).mcp)
    except (KeyError, ImportError):
        return False


def api_cheat_sheet(*, ceo: bool) -> str:
    """The API commands an agent may run, generated from the API's routes and serializers (see ``api.cheatsheet``)."""
    return cheat_sheet(ceo=ceo)


def _roster(agent: Agent) -> list[str]:
    agents = Agent.objects.filter(org_id=agent.org_id).exclude(status=AgentStatus.TERMINATED).order_by("name")
    return [
        f"- @{a.slug} {a.name} ({a.archetype})" + (f", reports to @{a.reports_to.slug}" if a.reports_to else "")
        for a in agents.select_related("reports_to")
        if a.pk != agent.pk
    ]


def _backlog(agent: Agent) -> str:
    return _clip(backlog_read(agent).strip(), BACKLOG_MAX)


def _inbox(agent: Agent) -> list[str]:
    issues = Issue.objects.filter(assignee=agent, status__in=OPEN_STATUSES, archived_at__isnull=True).order_by(
        "-priority", "id"
    )[:30]
    return [f"- [{i.key}] {i.title} ({i.status}, priority {i.priority})" for i in issues]


def _decisions(agent: Agent, *, days: int = 2, limit: int = 10) -> list[str]:
    """Recent human decisions on what ``agent`` asked for, with the reason given."""

    since = timezone.now() - timedelta(days=days)
    rows = (
        Approval.objects.filter(requested_by_agent=agent, decided_at__gte=since)
        .exclude(status=ApprovalStatus.PENDING)
        .order_by("-decided_at")[:limit]
    )
    lines = []
    for approval in rows:
        why = f' — "{_clip(approval.decision_comment, 400)}"' if approval.decision_comment else " (no reason given)"
        who = approval.decided_by_label or "the board"
        lines.append(f"- {approval.title}: {str(approval.status).upper()} by {who}{why}")
    return lines


MESSAGE_MAX = 1_000


def _messages(agent: Agent) -> tuple[list[str], tuple[int, ...]]:
    """Unread channel messages addressed to ``agent`` that no earlier prompt carried, and their ids."""
    rows = undelivered_for(agent)
    lines = [
        f"- {r.message.channel.label} #{r.message_id} {r.message.author_label or 'someone'} "
        f"{r.message.created_at:%Y-%m-%d %H:%M}: {_clip(r.message.body, MESSAGE_MAX)}"
        for r in rows
    ]
    return lines, tuple(r.message_id for r in rows)


def prompt_build(
    *, agent: Agent, issue: Issue | None, mode: str, reason: str = "", conversation: Conversation | None = None
) -> Prompt:
    """The complete prompt for one run of ``agent`` in ``mode`` (task / review / heartbeat / chat)."""
    ceo = is_ceo(agent)
    parts: list[str] = []
    if reason:
        parts.append(f"Why you were woken: {reason}")
    parts.append(_policies_section(agent))
    if mode == "chat" and conversation is not None:
        about = conversation.issue
        if about is not None:
            parts.append("The conversation is about this issue:\n" + "\n".join(_issue_block(about)))
        parts.append(api_cheat_sheet(ceo=ceo))
        parts.append(CHAT_RULES + "\n\nConversation:\n" + "\n\n".join(transcript(conversation)))
        return Prompt(system=role_text(agent), task="\n\n".join(p for p in parts if p).strip() + "\n")
    if issue is not None:
        issue = _prompt_issue.first(issue.pk) or issue
        parts.append("\n".join(_issue_block(issue)))
        parts.append(branch_section(issue))
    if mode == "review":
        parts.append(REVIEW_RULES)
    elif mode == "heartbeat" or issue is None:
        inbox = _inbox(agent)
        parts.append(HEARTBEAT_RULES + ("\n\nYour open issues:\n" + "\n".join(inbox) if inbox else ""))
    else:
        parts.append(TASK_RULES)
    if ceo:
        parts.append(CEO_RULES)
        roster = _roster(agent)
        if roster:
            parts.append("Your team:\n" + "\n".join(roster))
        reviews = Issue.objects.filter(org_id=agent.org_id, status=Status.IN_REVIEW, archived_at__isnull=True).order_by(
            "id"
        )[:20]
        waiting = [f"- [{i.key}] {i.title}" for i in reviews]
        if waiting:
            parts.append("Issues in review:\n" + "\n".join(waiting))
        backlog = _backlog(agent)
        if backlog:
            parts.append(
                "BACKLOG INTAKE (artifact-docs/backlog.md in your working dir). Turn each item into an issue "
                "(check /issues/similarity first to avoid duplicates) with acceptance criteria and assign it by role; "
                "Mesa archives these items when your run completes:\n" + backlog
            )
    decided = _decisions(agent)
    if decided:
        parts.append("Decisions on what you asked for (act on them):\n" + "\n".join(decided))
    messages, message_ids = _messages(agent)
    if messages:
        parts.append(
            "Messages for you (unread, oldest first; answer in the same channel, then mark it read):\n"
            + "\n".join(messages)
        )
    learned = reflections(agent, issue)
    if learned:
        parts.append("What you learned on earlier work (your reflections):\n" + "\n".join(f"- {x}" for x in learned))
    skills, skill_ids = _skills_section(agent)
    parts.append(skills)
    if issue is not None and mode in ("task", "review"):
        parts.append(REFLECTION_ASK)
    if has_mcp(agent):
        parts.append(MCP_TOOLS)
        if ceo:  # hiring and the roster have no tool: the CEO keeps its commands for them
            parts.append(api_cheat_sheet(ceo=ceo))
    else:
        parts.append(api_cheat_sheet(ceo=ceo))
    task = "\n\n".join(p for p in parts if p).strip() + "\n"
    return Prompt(system=role_text(agent), task=task, skills=skill_ids, message_ids=message_ids)
