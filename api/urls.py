"""Routes of the agent API under ``/api/v1/``: one APIView per operation.

Ids and slugs are matched loosely (``str``/``path``) and checked by the selectors,
so a malformed one is the API's JSON 404, not Django's HTML page.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from orgs.lazy_views import api_view

urlpatterns: list[URLPattern | URLResolver] = [
    # Work: inbox, issues, checkout, comments.
    path("inbox", api_view("api.views.inbox.InboxApi"), name="api-inbox"),
    path("issues", api_view("api.views.issues.IssueCollectionApi"), name="api-issues"),
    # Before issues/<key> so "similarity" is not read as a key.
    path("issues/similarity", api_view("api.views.issues.IssueSimilarityApi"), name="api-issue-similarity"),
    path("issues/<str:key>", api_view("api.views.issues.IssueApi"), name="api-issue"),
    path("issues/<str:key>/checkout", api_view("api.views.issues.IssueCheckoutApi"), name="api-issue-checkout"),
    path("issues/<str:key>/release", api_view("api.views.issues.IssueReleaseApi"), name="api-issue-release"),
    path("issues/<str:key>/comments", api_view("api.views.issues.IssueCommentsApi"), name="api-issue-comments"),
    path("issues/<str:key>/stages", api_view("api.views.stages.IssueStagesApi"), name="api-issue-stages"),
    path(
        "issues/<str:key>/stages/<int:number>/complete",
        api_view("api.views.stages.IssueStageCompleteApi"),
        name="api-issue-stage-complete",
    ),
    path("issues/<str:key>/relations", api_view("api.views.issues.IssueRelationsApi"), name="api-issue-relations"),
    path(
        "issues/<str:key>/relations/<str:kind>/<str:target>",
        api_view("api.views.issues.IssueRelationApi"),
        name="api-issue-relation",
    ),
    path("issues/<str:key>/workspace", api_view("api.views.issues.IssueWorkspaceApi"), name="api-issue-workspace"),
    # Runs: read what agents did, stop what they do.
    path("runs", api_view("api.views.runs.RunCollectionApi"), name="api-runs"),
    path("runs/<str:run_id>", api_view("api.views.runs.RunApi"), name="api-run"),
    path("runs/<str:run_id>/cancel", api_view("api.views.runs.RunCancelApi"), name="api-run-cancel"),
    path("runs/<str:run_id>/bindings", api_view("api.views.bindings.RunBindingsApi"), name="api-run-bindings"),
    path("bindings/<str:binding_id>/end", api_view("api.views.bindings.BindingEndApi"), name="api-binding-end"),
    # The org: agents, heartbeat, usage, labels.
    path("agents", api_view("api.views.agents.AgentCollectionApi"), name="api-agents"),
    # Before agents/<slug> so "me" is not read as a slug.
    path("agents/me", api_view("api.views.agents.AgentMeApi"), name="api-agent-me"),
    path("agents/<str:slug>", api_view("api.views.agents.AgentApi"), name="api-agent"),
    path(
        "agents/<str:slug>/output-policy",
        api_view("api.views.routines.OutputPolicyApi"),
        name="api-agent-output-policy",
    ),
    path("agents/<str:slug>/pause", api_view("api.views.agents.AgentPauseApi"), name="api-agent-pause"),
    path("agents/<str:slug>/resume", api_view("api.views.agents.AgentResumeApi"), name="api-agent-resume"),
    path("heartbeat", api_view("api.views.agents.HeartbeatApi"), name="api-heartbeat"),
    path("usage", api_view("api.views.usage.UsageApi"), name="api-usage"),
    path("workers", api_view("api.views.workers.WorkerCollectionApi"), name="api-workers"),
    path("labels", api_view("api.views.labels.LabelCollectionApi"), name="api-labels"),
    # Planning and knowledge: work / apex blocks, approvals, archetype patches, wiki.
    path("work-blocks", api_view("api.views.blocks.WorkBlockCollectionApi"), name="api-work-blocks"),
    path(
        "work-blocks/<str:block_id>/issues/<path:key>",
        api_view("api.views.blocks.WorkBlockIssueApi"),
        name="api-work-block-issue",
    ),
    path(
        "work-blocks/<str:block_id>/issues",
        api_view("api.views.blocks.WorkBlockIssuesApi"),
        name="api-work-block-issues",
    ),
    path("work-blocks/<str:block_id>", api_view("api.views.blocks.WorkBlockApi"), name="api-work-block"),
    path("apex-blocks", api_view("api.views.blocks.ApexBlockCollectionApi"), name="api-apex-blocks"),
    path("apex-blocks/<str:apex_id>", api_view("api.views.blocks.ApexBlockApi"), name="api-apex-block"),
    path("alignment", api_view("api.views.blocks.AlignmentApi"), name="api-alignment"),
    path("approvals", api_view("api.views.approvals.ApprovalCollectionApi"), name="api-approvals"),
    path(
        "approvals/<str:approval_id>/resolve",
        api_view("api.views.approvals.ApprovalResolveApi"),
        name="api-approval-resolve",
    ),
    path("approvals/<str:approval_id>", api_view("api.views.approvals.ApprovalApi"), name="api-approval"),
    path("archetypes", api_view("api.views.archetypes.ArchetypeCollectionApi"), name="api-archetypes"),
    path("archetypes/<str:slug>", api_view("api.views.archetypes.ArchetypeApi"), name="api-archetype"),
    path(
        "archetype-patches", api_view("api.views.archetypes.ArchetypePatchCollectionApi"), name="api-archetype-patches"
    ),
    path(
        "archetype-patches/<str:patch_id>/rollback",
        api_view("api.views.archetypes.ArchetypePatchRollbackApi"),
        name="api-archetype-patch-rollback",
    ),
    # Work that arrives by itself: inbound hooks, their rules, the pipeline log.
    path("hooks", api_view("api.views.hooks.HookCollectionApi"), name="api-hooks"),
    path("hooks/<str:hook_id>/rotate", api_view("api.views.hooks.HookRotateApi"), name="api-hook-rotate"),
    path("hook-rules", api_view("api.views.hooks.RuleCollectionApi"), name="api-hook-rules"),
    path("logs", api_view("api.views.hooks.LogsApi"), name="api-logs"),
    path("writeback", api_view("api.views.hooks.WriteBackApi"), name="api-writeback"),
    path("routines", api_view("api.views.routines.RoutineCollectionApi"), name="api-routines"),
    path("routines/<str:routine_id>/run", api_view("api.views.routines.RoutineRunApi"), name="api-routine-run"),
    # How the org learns: board policies, skills, run evaluations, audits.
    path("board-policies", api_view("api.views.learning.BoardPolicyCollectionApi"), name="api-board-policies"),
    path("board-policies/<str:policy_id>", api_view("api.views.learning.BoardPolicyApi"), name="api-board-policy"),
    path("skills", api_view("api.views.learning.SkillCollectionApi"), name="api-skills"),
    path("skills/<str:slug>", api_view("api.views.learning.SkillApi"), name="api-skill"),
    path("evaluations", api_view("api.views.learning.EvaluationCollectionApi"), name="api-evaluations"),
    path("audits", api_view("api.views.learning.AuditCollectionApi"), name="api-audits"),
    # Channels: named (#eng) and direct threads between agents.
    path("channels", api_view("api.views.chat.ChannelCollectionApi"), name="api-channels"),
    path("channels/direct", api_view("api.views.chat.DirectOpenApi"), name="api-channels-direct"),
    path("channels/<str:name>/messages", api_view("api.views.chat.MessageCollectionApi"), name="api-channel-messages"),
    path("channels/<str:name>/read", api_view("api.views.chat.MarkReadApi"), name="api-channel-read"),
    path("messages/unread", api_view("api.views.chat.UnreadApi"), name="api-messages-unread"),
    path("wiki", api_view("api.views.wiki.WikiCollectionApi"), name="api-wiki"),
    path("wiki/search", api_view("api.views.wiki.WikiSearchApi"), name="api-wiki-search"),
    path("wiki/<path:slug>/restore", api_view("api.views.wiki.WikiRestoreApi"), name="api-wiki-restore"),
    path("wiki/<path:slug>/revisions", api_view("api.views.wiki.WikiRevisionsApi"), name="api-wiki-revisions"),
    path("wiki/<path:slug>", api_view("api.views.wiki.WikiPageApi"), name="api-wiki-page"),
]
