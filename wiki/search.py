"""Wiki search: ranked full-text search with prefix matching, merged with typo-tolerant title matching.

Full text
    SQLite: the FTS5 table ``wiki_page_fts`` (rowid = page id; created by migration
    0002) holds each page's title, slug and content. ``wiki.services`` keeps it in
    sync by calling :func:`search_index` / :func:`search_remove` inside the same
    transaction as the write. Each query token is quoted and given a prefix star
    (``"deplo"*``, tokens ANDed), ranked by bm25 with the title weighted highest.
    PostgreSQL: ``to_tsvector('simple', …)`` over the same columns (a GIN expression
    index from the migration), a prefix ``to_tsquery`` (``deplo:* & guide:*``),
    ``ts_rank`` and ``ts_headline``. No sync is needed there.

Fuzzy
    Every page title and slug of the org is compared word by word with the query
    tokens: exact and prefix matches score highest, then words within a small
    edit distance (optimal string alignment, so a swapped pair of letters is one
    edit): "deplyoment" finds "Deployment Guide".

Both lists are merged into one: a page's score is its full-text score (0.5..1,
relative to the best hit) plus its fuzzy score (0..1), so pages matching both
ways come first. Snippets mark matches with ``**``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, connection, transaction

from orgs.models import Org
from wiki.models import WikiPage

log = logging.getLogger(__name__)

FTS_TABLE = "wiki_page_fts"
MARK_START = "**"
MARK_END = "**"
ELLIPSIS = "…"
SNIPPET_TOKENS = 24
MAX_TOKENS = 12
# At most this many full-text hits are ranked (a page of results is at most 100).
MAX_FTS_HITS = 500
# Fuzzy matches below this score are noise.
FUZZY_THRESHOLD = 0.7

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchHit:
    page_id: int
    slug: str
    title: str
    snippet: str
    score: float
    updated_at: datetime


def query_tokens(q: str) -> list[str]:
    """The words of a query, lowercased, in order, without repeats (at most MAX_TOKENS)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall((q or "").lower()):
        seen.setdefault(word, None)
    return list(seen)[:MAX_TOKENS]


# --- index maintenance (SQLite only; called by wiki.services) ---


def _fts_enabled() -> bool:
    return connection.vendor == "sqlite"


def search_index(page: WikiPage) -> None:
    """(Re)index one page; call inside the transaction that wrote it."""
    if not _fts_enabled():
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [page.pk])
        cursor.execute(
            f"INSERT INTO {FTS_TABLE} (rowid, title, slug, content, org_id) VALUES (%s, %s, %s, %s, %s)",
            [page.pk, page.title, page.slug, page.content, page.org_id],
        )


def search_remove(page_id: int) -> None:
    """Drop a page from the index; call inside the transaction that deletes it."""
    if not _fts_enabled():
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [page_id])


# --- full text ---

# (page id, relevance > 0, content snippet, title snippet)
_FtsRow = tuple[int, float, str, str]


def _fts_sqlite(org: Org, tokens: list[str]) -> list[_FtsRow]:
    match = " ".join(f'"{token}"*' for token in tokens)
    pages = WikiPage._meta.db_table
    sql = (
        f"SELECT f.rowid, -bm25({FTS_TABLE}, 10.0, 5.0, 1.0), "
        f"snippet({FTS_TABLE}, 2, %s, %s, %s, {SNIPPET_TOKENS}), "
        f"snippet({FTS_TABLE}, 0, %s, %s, %s, {SNIPPET_TOKENS}) "
        f"FROM {FTS_TABLE} AS f JOIN {pages} AS p ON p.id = f.rowid "
        f"WHERE {FTS_TABLE} MATCH %s AND f.org_id = %s AND p.org_id = %s "
        f"ORDER BY bm25({FTS_TABLE}, 10.0, 5.0, 1.0) LIMIT %s"
    )
    marks = [MARK_START, MARK_END, ELLIPSIS]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*marks, *marks, match, org.pk, org.pk, MAX_FTS_HITS])
        return [(int(r[0]), float(r[1]), r[2] or "", r[3] or "") for r in cursor.fetchall()]


# The document a page is searched as on PostgreSQL; the migration indexes this exact expression.
PG_DOCUMENT = (
    "(setweight(to_tsvector('simple', coalesce(p.title, '')), 'A') || "
    "setweight(to_tsvector('simple', replace(coalesce(p.slug, ''), '-', ' ')), 'B') || "
    "setweight(to_tsvector('simple', coalesce(p.content, '')), 'C'))"
)


def _fts_postgres(org: Org, tokens: list[str]) -> list[_FtsRow]:
    query = " & ".join(f"{token}:*" for token in tokens)
    options = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_TOKENS}, MinWords=8, MaxFragments=1"
    pages = WikiPage._meta.db_table
    sql = (
        f"SELECT p.id, ts_rank({PG_DOCUMENT}, q.query), "
        f"ts_headline('simple', p.content, q.query, %s), "
        f"ts_headline('simple', p.title, q.query, 'StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true'), "
        f"left(p.content, 60), right(p.content, 60) "
        f"FROM {pages} AS p, to_tsquery('simple', %s) AS q(query) "
        f"WHERE p.org_id = %s AND {PG_DOCUMENT} @@ q.query "
        f"ORDER BY 2 DESC, p.title LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [options, query, org.pk, MAX_FTS_HITS])
        return [
            (int(r[0]), float(r[1]), _ellipsize(r[2] or "", r[4] or "", r[5] or ""), r[3] or "")
            for r in cursor.fetchall()
        ]


def _ellipsize(snippet: str, head: str, tail: str) -> str:
    """Add "…" where ts_headline cut the content (SQLite's snippet() does this itself)."""
    plain = " ".join(snippet.replace(MARK_START, "").replace(MARK_END, "").split())
    if not plain:
        return snippet
    if not " ".join(head.split()).startswith(plain[:20]):
        snippet = ELLIPSIS + snippet
    if not " ".join(tail.split()).endswith(plain[-20:]):
        snippet = snippet + ELLIPSIS
    return snippet


def _full_text(org: Org, tokens: list[str]) -> list[_FtsRow]:
    runner = {"sqlite": _fts_sqlite, "postgresql": _fts_postgres}.get(connection.vendor)
    if runner is None or not tokens:
        return []
    try:
        with transaction.atomic():  # a failed query must not poison an outer transaction
            return runner(org, tokens)
    except DatabaseError:
        # Tokens are plain words, so this should not happen; fuzzy matching still answers.
        log.exception("wiki full-text search failed for %r", tokens)
        return []


# --- fuzzy ---


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps."""
    if a == b:
        return 0
    if not a or not b:
        return len(a) or len(b)
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _allowed_edits(token: str) -> int:
    return 0 if len(token) < 4 else 1 if len(token) < 8 else 2


def word_score(token: str, word: str) -> float:
    """How well one query token matches one word (0..1): exact 1, prefix ~0.9, a typo or two less."""
    if token == word:
        return 1.0
    if word.startswith(token):
        return 0.85 + 0.1 * len(token) / len(word)
    allowed = _allowed_edits(token)
    if not allowed:
        return 0.0
    best = 0.0
    if abs(len(token) - len(word)) <= allowed:
        d = edit_distance(token, word)
        if d <= allowed:
            best = 1.0 - d / max(len(token), len(word))
    if len(word) > len(token):
        # A typo inside a prefix: "deplyo" against "deploy|ment".
        d = edit_distance(token, word[: len(token)])
        if d <= allowed:
            best = max(best, 0.9 * (1.0 - d / len(token)))
    return best


def fuzzy_score(tokens: list[str], text: str) -> tuple[float, set[int]]:
    """Mean best word score of the tokens against ``text``, and the indexes of the words matched."""
    words = _WORD.findall(text.lower())
    if not tokens or not words:
        return 0.0, set()
    total = 0.0
    matched: set[int] = set()
    for token in tokens:
        best, at = 0.0, -1
        for index, word in enumerate(words):
            score = word_score(token, word)
            if score > best:
                best, at = score, index
        total += best
        if at >= 0:
            matched.add(at)
    return total / len(tokens), matched


def _mark_words(text: str, indexes: set[int]) -> str:
    counter = iter(range(1 << 30))

    def mark(m: re.Match[str]) -> str:
        return f"{MARK_START}{m.group(0)}{MARK_END}" if next(counter) in indexes else m.group(0)

    return _WORD.sub(mark, text)


# --- the search ---


def wiki_search(*, org: Org, q: str) -> list[SearchHit]:
    """Every page of ``org`` matching ``q``, best first (full text and fuzzy merged).

    Runs two queries: the full-text one and one reading (id, slug, title, updated_at)
    of the org's pages for fuzzy matching.
    """
    tokens = query_tokens(q)
    if not tokens:
        return []
    fts = _full_text(org, tokens)
    best_rank = max((row[1] for row in fts), default=0.0)
    fts_by_id = {row[0]: row for row in fts}
    hits: list[SearchHit] = []
    for page_id, slug, title, updated_at in WikiPage.objects.filter(org=org, deleted_at__isnull=True).values_list(
        "id", "slug", "title", "updated_at"
    ):
        title_score, title_words = fuzzy_score(tokens, title)
        slug_score, _ = fuzzy_score(tokens, slug.replace("-", " "))
        fuzzy = max(title_score, 0.9 * slug_score)
        if fuzzy < FUZZY_THRESHOLD:
            fuzzy = 0.0
        row = fts_by_id.get(page_id)
        if row is None and not fuzzy:
            continue
        full = 0.0
        snippet = ""
        if row is not None:
            full = 0.5 + 0.5 * (row[1] / best_rank) if best_rank > 0 else 0.5
            content_snip, title_snip = row[2], row[3]
            snippet = content_snip if MARK_START in content_snip else title_snip
        if MARK_START not in snippet:
            snippet = _mark_words(title, title_words) if title_score >= FUZZY_THRESHOLD else title
        hits.append(
            SearchHit(
                page_id=page_id,
                slug=slug,
                title=title,
                snippet=snippet,
                score=round(full + fuzzy, 4),
                updated_at=updated_at,
            )
        )
    hits.sort(key=lambda h: (-h.score, h.title.lower(), h.page_id))
    return hits
