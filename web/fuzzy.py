"""The palette's fuzzy scorer: pure functions, no Django, no database.

fzf-like: every query token must appear in order (a subsequence) in a candidate;
matches at word starts, consecutive runs and an early first match score higher.
"""

from __future__ import annotations

MAX_QUERY = 100
MAX_TOKENS = 6
BOUNDARY = " -_/.:#()[]"


def score_token(token: str, text: str) -> int | None:
    """fzf-style score of one lower-case ``token`` against ``text``; None if it is not a subsequence."""
    low = text.lower()
    n = len(token)
    if not n:
        return 0
    exact = low.find(token)
    best: int | None = None
    # Try each place the first character occurs (bounded) and match greedily from there.
    start = low.find(token[0])
    tries = 0
    while start != -1 and tries < 8:
        tries += 1
        score, pos, prev = 0, start, -2
        for ch in token:
            pos = low.find(ch, pos)
            if pos == -1:
                break
            score += 16
            if pos == 0 or text[pos - 1] in BOUNDARY:
                score += 12
            elif text[pos].isupper() and text[pos - 1].islower():
                score += 8
            if pos == prev + 1:
                score += 6
            elif prev >= 0:
                score -= min(pos - prev - 1, 6)
            prev = pos
            pos += 1
        else:
            score -= min(start, 10)
            if best is None or score > best:
                best = score
        start = low.find(token[0], start + 1)
    if best is None:
        return None
    if exact != -1:
        best += 22 if exact == 0 or text[exact - 1] in BOUNDARY else 4
    return best


def score(tokens: list[str], *texts: str, malus: tuple[int, ...] = ()) -> int | None:
    """Sum of the best score of each token over ``texts`` (all tokens must match somewhere).

    ``malus[i]`` is subtracted from matches in ``texts[i]`` (secondary fields such as keys).
    """
    total = 0
    for token in tokens:
        best = None
        for i, text in enumerate(texts):
            s = score_token(token, text)
            if s is not None and i < len(malus):
                s -= malus[i]
            if s is not None and (best is None or s > best):
                best = s
        if best is None:
            return None
        total += best
    return total


def tokenize(q: str) -> list[str]:
    return [t for t in q.lower()[:MAX_QUERY].split() if t][:MAX_TOKENS]
