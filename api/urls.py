"""Routes of the agent API under ``/api/v1/``: one APIView per operation.

Ids and slugs are matched loosely (``str``/``path``) and checked by the selectors,
so a malformed one is the API's JSON 404, not Django's HTML page.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from api.views import (
    agents,
    approvals,
    archetypes,
    bindings,
    blocks,
    chat,
    hooks,
    inbox,
    issues,
    labels,
    learning,
    routines,
    runs,
    stages,
    usage,
    wiki,
    workers,
)

urlpatterns: list[URLPattern | URLResolver] = [
    # Work: inbox, issues, checkout, comments.
    path("inbox", inbox.InboxApi.as_view(), name="api-inbox"),
    path("issues", issues.IssueCollectionApi.as_view(), name="api-issues"),
    # Before issues/<key> so "similarity" is not read as a key.
    path("issues/similarity", issues.IssueSimilarityApi.as_view(), name="api-issue-similarity"),
    path("issues/<str:key>", issues.IssueApi.as_view(), name="api-issue"),
    path("issues/<str:key>/checkout", issues.IssueCheckoutApi.as_view(), name="api-issue-checkout"),
    path("issues/<str:key>/release", issues.IssueReleaseApi.as_view(), name="api-issue-release"),
    path("issues/<str:key>/comments", issues.IssueCommentsApi.as_view(), name="api-issue-comments"),
    path("issues/<str:key>/stages", stages.IssueStagesApi.as_view(), name="api-issue-stages"),
    path(
        "issues/<str:key>/stages/<int:number>/complete",
        stages.IssueStageCompleteApi.as_view(),
        name="api-issue-stage-complete",
    ),
    path("issues/<str:key>/relations", issues.IssueRelationsApi.as_view(), name="api-issue-relations"),
    path(
        "issues/<str:key>/relations/<str:kind>/<str:target>",
        issues.IssueRelationApi.as_view(),
        name="api-issue-relation",
    ),
    path("issues/<str:key>/workspace", issues.IssueWorkspaceApi.as_view(), name="api-issue-workspace"),
    # Runs: read what agents did, stop what they do.
    path("runs", runs.RunCollectionApi.as_view(), name="api-runs"),
    path("runs/<str:run_id>", runs.RunApi.as_view(), name="api-run"),
    path("runs/<str:run_id>/cancel", runs.RunCancelApi.as_view(), name="api-run-cancel"),
    path("runs/<str:run_id>/bindings", bindings.RunBindingsApi.as_view(), name="api-run-bindings"),
    path("bindings/<str:binding_id>/end", bindings.BindingEndApi.as_view(), name="api-binding-end"),
    # The org: agents, heartbeat, usage, labels.
    path("agents", agents.AgentCollectionApi.as_view(), name="api-agents"),
    # Before agents/<slug> so "me" is not read as a slug.
    path("agents/me", agents.AgentMeApi.as_view(), name="api-agent-me"),
    path("agents/<str:slug>", agents.AgentApi.as_view(), name="api-agent"),
    path("agents/<str:slug>/output-policy", routines.OutputPolicyApi.as_view(), name="api-agent-output-policy"),
    path("agents/<str:slug>/pause", agents.AgentPauseApi.as_view(), name="api-agent-pause"),
    path("agents/<str:slug>/resume", agents.AgentResumeApi.as_view(), name="api-agent-resume"),
    path("heartbeat", agents.HeartbeatApi.as_view(), name="api-heartbeat"),
    path("usage", usage.UsageApi.as_view(), name="api-usage"),
    path("workers", workers.WorkerCollectionApi.as_view(), name="api-workers"),
    path("labels", labels.LabelCollectionApi.as_view(), name="api-labels"),
    # Planning and knowledge: work / apex blocks, approvals, archetype patches, wiki.
    path("work-blocks", blocks.WorkBlockCollectionApi.as_view(), name="api-work-blocks"),
    path(
        "work-blocks/<str:block_id>/issues/<path:key>",
        blocks.WorkBlockIssueApi.as_view(),
        name="api-work-block-issue",
    ),
    path("work-blocks/<str:block_id>/issues", blocks.WorkBlockIssuesApi.as_view(), name="api-work-block-issues"),
    path("work-blocks/<str:block_id>", blocks.WorkBlockApi.as_view(), name="api-work-block"),
    path("apex-blocks", blocks.ApexBlockCollectionApi.as_view(), name="api-apex-blocks"),
    path("apex-blocks/<str:apex_id>", blocks.ApexBlockApi.as_view(), name="api-apex-block"),
    path("alignment", blocks.AlignmentApi.as_view(), name="api-alignment"),
    path("approvals", approvals.ApprovalCollectionApi.as_view(), name="api-approvals"),
    path("approvals/<str:approval_id>/resolve", approvals.ApprovalResolveApi.as_view(), name="api-approval-resolve"),
    path("approvals/<str:approval_id>", approvals.ApprovalApi.as_view(), name="api-approval"),
    path("archetypes", archetypes.ArchetypeCollectionApi.as_view(), name="api-archetypes"),
    path("archetypes/<str:slug>", archetypes.ArchetypeApi.as_view(), name="api-archetype"),
    path("archetype-patches", archetypes.ArchetypePatchCollectionApi.as_view(), name="api-archetype-patches"),
    path(
        "archetype-patches/<str:patch_id>/rollback",
        archetypes.ArchetypePatchRollbackApi.as_view(),
        name="api-archetype-patch-rollback",
    ),
    # Work that arrives by itself: inbound hooks, their rules, the pipeline log.
    path("hooks", hooks.HookCollectionApi.as_view(), name="api-hooks"),
    path("hooks/<str:hook_id>/rotate", hooks.HookRotateApi.as_view(), name="api-hook-rotate"),
    path("hook-rules", hooks.RuleCollectionApi.as_view(), name="api-hook-rules"),
    path("logs", hooks.LogsApi.as_view(), name="api-logs"),
    path("writeback", hooks.WriteBackApi.as_view(), name="api-writeback"),
    path("routines", routines.RoutineCollectionApi.as_view(), name="api-routines"),
    path("routines/<str:routine_id>/run", routines.RoutineRunApi.as_view(), name="api-routine-run"),
    # How the org learns: board policies, skills, run evaluations, audits.
    path("board-policies", learning.BoardPolicyCollectionApi.as_view(), name="api-board-policies"),
    path("board-policies/<str:policy_id>", learning.BoardPolicyApi.as_view(), name="api-board-policy"),
    path("skills", learning.SkillCollectionApi.as_view(), name="api-skills"),
    path("skills/<str:slug>", learning.SkillApi.as_view(), name="api-skill"),
    path("evaluations", learning.EvaluationCollectionApi.as_view(), name="api-evaluations"),
    path("audits", learning.AuditCollectionApi.as_view(), name="api-audits"),
    # Channels: named (#eng) and direct threads between agents.
    path("channels", chat.ChannelCollectionApi.as_view(), name="api-channels"),
    path("channels/direct", chat.DirectOpenApi.as_view(), name="api-channels-direct"),
    path("channels/<str:name>/messages", chat.MessageCollectionApi.as_view(), name="api-channel-messages"),
    path("channels/<str:name>/read", chat.MarkReadApi.as_view(), name="api-channel-read"),
    path("messages/unread", chat.UnreadApi.as_view(), name="api-messages-unread"),
    path("wiki", wiki.WikiCollectionApi.as_view(), name="api-wiki"),
    path("wiki/search", wiki.WikiSearchApi.as_view(), name="api-wiki-search"),
    path("wiki/<path:slug>/restore", wiki.WikiRestoreApi.as_view(), name="api-wiki-restore"),
    path("wiki/<path:slug>/revisions", wiki.WikiRevisionsApi.as_view(), name="api-wiki-revisions"),
    path("wiki/<path:slug>", wiki.WikiPageApi.as_view(), name="api-wiki-page"),
]
