"""Skills (``skills.toml`` plus ``skills/<slug>.md`` for each body), matched by slug.

Rows are written as they were exported, status included (an approved skill stays approved), and no
approval is filed: the decision was made in the org the bundle came from. Approval rows do not travel.
"""

from __future__ import annotations

from learning.models import Skill
from orgs.models import Org
from transfer.nouns.common import read_toml, write_toml
from transfer.registry import Bundle, ImportContext

NAME = "skills"
PATH = "skills.toml"
FIELDS = ("title", "archetype", "status", "proposed_by_label")


def export(org: Org, bundle: Bundle) -> None:
    rows = []
    for skill in Skill.objects.filter(org=org).select_related("agent").order_by("slug"):
        rows.append(
            {
                "slug": skill.slug,
                **{f: getattr(skill, f) for f in FIELDS},
                "agent": skill.agent.slug if skill.agent else "",
            }
        )
        bundle[f"skills/{skill.slug}.md"] = skill.body
    write_toml(bundle, PATH, {"skill": rows})


def load(ctx: ImportContext) -> None:
    agents = ctx.refs.get("agents", {})
    existing = {skill.slug: skill for skill in Skill.objects.filter(org=ctx.org)}
    for row in read_toml(ctx.bundle, PATH).get("skill", []):
        values = {f: row[f] for f in FIELDS}
        values["body"] = ctx.bundle.get(f"skills/{row['slug']}.md", "")
        agent = agents.get(row["agent"]) if row["agent"] else None
        values["agent_id"] = agent.pk if agent is not None else None
        skill = existing.get(row["slug"])
        if skill is None:
            Skill.objects.create(org=ctx.org, slug=row["slug"], **values)
            ctx.change(f"create skill {row['slug']}")
            continue
        changed = [f for f, v in values.items() if getattr(skill, f) != v]
        if changed:
            Skill.objects.filter(pk=skill.pk).update(**values)
            ctx.change(f"update skill {row['slug']}: {', '.join(changed)}")
