"""Each figure ``make bench`` measures, next to Paperclip's and to Mesa's target, with a met/missed flag.

Source of the static numbers: ``../shared/targets.md`` (Mesa's targets; Paperclip v2026.916.1 with its
embedded Postgres 18, 1 company, 5 agents + 45 racers, 1,000 issues, loopback, closed loop, keep-alive
clients, run twice side by side on a 2-core machine; both runs given as a range). Kept here as data so the
JSON carries them; not a benchmark (no ``main``).
"""

from __future__ import annotations

from typing import Any

# (label, path into the results, how the target compares, target, Paperclip's two runs as text)
# path: keys into {module: result} (an int indexes a list); "<=", "<": lower is better, ">=": higher is better.
FIGURES: list[tuple[str, tuple[str | int, ...], str, float, str]] = [
    ("cold start, installed → first HTTP 200 (s)", ("startup", "cold_start_s_p50"), "<=", 0.7, "6.3–7.3 s"),
    ("GET one issue, 1 client, p50 (ms)", ("api", "get_issue", "p50_ms"), "<=", 2, "18.8–26 ms"),
    ("GET one issue, 1 client, p99 (ms)", ("api", "get_issue", "p99_ms"), "<=", 6, "50–62 ms"),
    ("GET one issue, 10 clients (req/s)", ("api", "get_issue_concurrent", "req_per_s"), ">=", 600, "45–67 req/s"),
    ("list 50 issues, 1 client, p50 (ms)", ("api", "list_50_issues", "p50_ms"), "<=", 3, "20–35 ms"),
    ("list 500 issues, 1 client, p50 (ms)", ("api", "list_500_issues", "p50_ms"), "<=", 10, "77–109 ms"),
    ("POST a comment, 1 client, p50 (ms)", ("api", "post_comment", "p50_ms"), "<=", 4, "26–37 ms"),
    ("POST a comment, 10 clients (req/s)", ("api", "post_comment_concurrent", "req_per_s"), ">=", 500, "45–63 req/s"),
    ("POST a comment, 10 clients, p99 (ms)", ("api", "post_comment_concurrent", "p99_ms"), "<=", 40, "286–320 ms"),
    ("checkout race, 50 × 200 (attempts/s)", ("api", "checkout_race", "attempts_per_s"), ">=", 800, "71–122/s"),
    ("checkout race, double claims", ("api", "checkout_race", "double_claims"), "<=", 0, "0"),
    # The same three against what `make run` serves: one daphne worker per core on the one port.
    (
        "GET one issue, 10 clients, make run's workers (req/s)",
        ("api", "served_as_make_run", "get_issue_concurrent", "req_per_s"),
        ">=",
        600,
        "45–67 req/s",
    ),
    (
        "POST a comment, 10 clients, make run's workers (req/s)",
        ("api", "served_as_make_run", "post_comment_concurrent", "req_per_s"),
        ">=",
        500,
        "45–63 req/s",
    ),
    (
        "POST a comment, 10 clients, make run's workers, p99 (ms)",
        ("api", "served_as_make_run", "post_comment_concurrent", "p99_ms"),
        "<=",
        40,
        "286–320 ms",
    ),
    (
        "checkout race, make run's workers (attempts/s)",
        ("api", "served_as_make_run", "checkout_race", "attempts_per_s"),
        ">=",
        800,
        "71–122/s",
    ),
    (
        "checkout race, make run's workers, double claims",
        ("api", "served_as_make_run", "checkout_race", "double_claims"),
        "<=",
        0,
        "0",
    ),
    ("checkout race, errors other than 409", ("api", "checkout_race", "errors_other_than_409"), "<=", 0, "—"),
    ("idle memory, web worker + scheduler (MB RSS)", ("startup", "single", "idle_rss_mb"), "<=", 100, "1,029–1,034 MB"),
    ("idle CPU, nothing to do (% of a core)", ("startup", "single", "idle_cpu_percent"), "<", 0.5, "8.3–27 %"),
    (
        "assignment → noop run finished, p50 (ms)",
        ("dispatch", "assignment_to_noop_run_finished_ms", "p50"),
        "<=",
        30,
        "wake queue / heartbeat",
    ),
    ("board page, 10,000 issues, p50 (ms)", ("ui", "10000_issues", "board", "p50_ms"), "<=", 30, "—"),
    ("board page, 10,000 issues, queries", ("ui", "10000_issues", "board", "queries"), "<=", 12, "—"),
    (
        "SSE update by another process → client, most clients, p95 (ms)",
        ("sse", "sse_latency", -1, "p95_ms"),
        "<=",
        100,
        "—",
    ),
]

# The same request figures in scale mode (PostgreSQL, 2 web workers, 3 schedulers): compared with the same targets.
SCALE_FIGURES: list[tuple[str, tuple[str | int, ...], str, float, str]] = [
    ("GET one issue, 1 client, p50 (ms)", ("scale", "get_issue", "p50_ms"), "<=", 2, "18.8–26 ms"),
    ("GET one issue, 10 clients (req/s)", ("scale", "get_issue_concurrent", "req_per_s"), ">=", 600, "45–67 req/s"),
    ("POST a comment, 1 client, p50 (ms)", ("scale", "post_comment", "p50_ms"), "<=", 4, "26–37 ms"),
    ("POST a comment, 10 clients (req/s)", ("scale", "post_comment_concurrent", "req_per_s"), ">=", 500, "45–63 req/s"),
    ("POST a comment, 10 clients, p99 (ms)", ("scale", "post_comment_concurrent", "p99_ms"), "<=", 40, "286–320 ms"),
    ("creates through the API (1/s)", ("scale", "create", "creates_per_s"), ">=", 0, "46–55/s (4 clients)"),
    ("soak: double dispatch", ("scale", "soak", "double_dispatch"), "<=", 0, "—"),
    ("soak: lost runs", ("scale", "soak", "lost_runs"), "<=", 0, "—"),
    ("soak: stuck issues", ("scale", "soak", "stuck_issues"), "<=", 0, "—"),
]


def _get(results: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    node: Any = results
    for key in path:
        if isinstance(key, int):
            if not isinstance(node, list) or not node:
                return None
            node = node[key]
        elif not isinstance(node, dict) or key not in node:
            return None
        else:
            node = node[key]
    return node


def _met(value: float, op: str, target: float) -> bool:
    return {"<=": value <= target, "<": value < target, ">=": value >= target}[op]


def comparison(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per figure that was measured this time: Mesa's value, the target, Paperclip's, met or missed."""
    rows = []
    for label, path, op, target, paperclip in FIGURES + SCALE_FIGURES:
        value = _get(results, path)
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        rows.append(
            {
                "figure": ("scale: " if path[0] == "scale" else "") + label,
                "mesa": value,
                "target": f"{op} {target:g}",
                "paperclip": paperclip,
                "met": _met(float(value), op, target),
                "source": ".".join(str(k) for k in path),
            }
        )
    return rows
