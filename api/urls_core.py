"""Routes of the core agent API: inbox, issues, checkout, comments, agents, usage, labels."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from api.views import agents, inbox, issues, labels, usage

urlpatterns: list[URLPattern | URLResolver] = [
    path("inbox", inbox.InboxApi.as_view(), name="api-inbox"),
    path("issues", issues.IssueCollectionApi.as_view(), name="api-issues"),
    # Before issues/<key> so "similarity" is not read as a key.
    path("issues/similarity", issues.IssueSimilarityApi.as_view(), name="api-issue-similarity"),
    path("issues/<str:key>", issues.IssueApi.as_view(), name="api-issue"),
    path("issues/<str:key>/checkout", issues.IssueCheckoutApi.as_view(), name="api-issue-checkout"),
    path("issues/<str:key>/release", issues.IssueReleaseApi.as_view(), name="api-issue-release"),
    path("issues/<str:key>/comments", issues.IssueCommentsApi.as_view(), name="api-issue-comments"),
    path("agents", agents.AgentCollectionApi.as_view(), name="api-agents"),
    # Before agents/<slug> so "me" is not read as a slug.
    path("agents/me", agents.AgentMeApi.as_view(), name="api-agent-me"),
    path("agents/<str:slug>", agents.AgentApi.as_view(), name="api-agent"),
    path("agents/<str:slug>/pause", agents.AgentPauseApi.as_view(), name="api-agent-pause"),
    path("agents/<str:slug>/resume", agents.AgentResumeApi.as_view(), name="api-agent-resume"),
    path("heartbeat", agents.HeartbeatApi.as_view(), name="api-heartbeat"),
    path("usage", usage.UsageApi.as_view(), name="api-usage"),
    path("labels", labels.LabelCollectionApi.as_view(), name="api-labels"),
]
