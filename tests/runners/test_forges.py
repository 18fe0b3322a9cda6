from __future__ import annotations

from collections.abc import Iterator

import pytest

from runners.forges import ForgeError, forge_for
from tests.fakes.github_api import FakeGitHub
from tests.fakes.gitlab_api import FakeGitLab


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub().start()
    yield fake
    fake.stop()


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    fake = FakeGitLab().start()
    yield fake
    fake.stop()


def test_it_opens_a_github_pull_request_once_and_reads_reviews_and_the_merge(github: FakeGitHub) -> None:
    forge = forge_for("github", api_url=github.base_url, repo="acme/app", token="ghp_fake_token")

    pr = forge.open_pr(head="mesa/ACME-1", base="main", title="ACME-1: Feature", body="why")
    again = forge.open_pr(head="mesa/ACME-1", base="main", title="ACME-1: Feature", body="why")

    assert (pr.number, pr.state, again.number) == (1, "open", 1) and len(github.pulls) == 1
    github.review(1, "COMMENTED", "nit")
    assert forge.pr_state(1).state == "open"
    github.review(1, "CHANGES_REQUESTED", "add tests", login="ann")
    changes = forge.pr_state(1)
    assert changes.state == "changes_requested" and changes.review_body == "add tests" and changes.review_id
    github.review(1, "APPROVED", "", login="ann")  # the same reviewer's later verdict wins
    assert forge.pr_state(1).state == "open"
    github.merge(1, "a" * 40)
    merged = forge.pr_state(1)
    assert (merged.state, merged.merged_sha) == ("merged", "a" * 40)


def test_it_reads_a_closed_github_pull_request_and_reports_a_bad_token(github: FakeGitHub) -> None:
    forge = forge_for("github", api_url=github.base_url, repo="acme/app", token="ghp_fake_token")
    forge.open_pr(head="mesa/ACME-2", base="main", title="t", body="")
    github.close(1)
    assert forge.pr_state(1).state == "closed"
    bad = forge_for("github", api_url=github.base_url, repo="acme/app", token="nope")
    with pytest.raises(ForgeError, match="401"):
        bad.pr_state(1)


def test_it_opens_a_gitlab_merge_request_once_and_reads_its_state(gitlab: FakeGitLab) -> None:
    forge = forge_for("gitlab", api_url=gitlab.base_url, repo="acme/app", token="glpat-fake")

    mr = forge.open_pr(head="mesa/ACME-1", base="main", title="ACME-1: Feature", body="why")
    again = forge.open_pr(head="mesa/ACME-1", base="main", title="ACME-1: Feature", body="why")

    assert (mr.number, mr.state, again.number) == (1, "open", 1) and len(gitlab.mrs) == 1
    assert gitlab.calls[0][1] == "/api/v4/projects/acme%2Fapp/merge_requests" and gitlab.calls[0][3] == "glpat-fake"
    gitlab.set_state(1, "opened", detailed_merge_status="requested_changes")
    first = forge.pr_state(1)
    assert first.state == "changes_requested" and first.review_id
    gitlab.set_state(1, "opened", detailed_merge_status="requested_changes")  # a second round
    assert forge.pr_state(1).review_id != first.review_id
    gitlab.set_state(1, "merged", merge_commit_sha="b" * 40)
    assert (forge.pr_state(1).state, forge.pr_state(1).merged_sha) == ("merged", "b" * 40)


def test_it_names_the_forges_it_knows() -> None:
    with pytest.raises(ForgeError, match="github, gitlab"):
        forge_for("bitbucket", api_url="", repo="a/b", token="")
