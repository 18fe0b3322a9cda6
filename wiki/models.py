from __future__ import annotations

from django.conf import settings
from django.db import models

from orgs.models import Org


class WikiPage(models.Model):
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="wiki_pages")
    slug = models.SlugField(max_length=200)
    title = models.CharField(max_length=200)
    content = models.TextField(blank=True, default="")
    created_by_agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=100, blank=True, default="")
    updated_by_agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by_label = models.CharField(max_length=100, blank=True, default="")
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Soft delete: a deleted page keeps its revisions, leaves lists and search, and can be restored.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by_label = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["org", "slug"], name="wiki_unique_slug_per_org")]

    def __str__(self) -> str:
        return self.title


class WikiRevision(models.Model):
    """A page's text as it was after one edit (revision 1 = creation)."""

    page = models.ForeignKey(WikiPage, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    content = models.TextField(blank=True, default="")
    author_agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["page", "-number"]
        constraints = [models.UniqueConstraint(fields=["page", "number"], name="wiki_revision_unique_number")]

    def __str__(self) -> str:
        return f"{self.page.slug} r{self.number}"
