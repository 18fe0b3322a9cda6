"""Routes of the planning and knowledge API: work/apex blocks, approvals, archetype patches, wiki.

Ids and slugs are matched loosely (``str``/``path``) and checked by the selectors,
so a malformed one is the API's JSON 404, not Django's HTML page.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from api.views import approvals, archetypes, blocks, wiki

urlpatterns: list[URLPattern | URLResolver] = [
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
    path("wiki", wiki.WikiCollectionApi.as_view(), name="api-wiki"),
    path("wiki/search", wiki.WikiSearchApi.as_view(), name="api-wiki-search"),
    path("wiki/<path:slug>/revisions", wiki.WikiRevisionsApi.as_view(), name="api-wiki-revisions"),
    path("wiki/<path:slug>", wiki.WikiPageApi.as_view(), name="api-wiki-page"),
]
