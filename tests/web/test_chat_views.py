from __future__ import annotations

from typing import Any

from chat.conversations import chat_reply, conversation_open
from chat.models import ChatMessage
from issues.models import Issue
from orgs.actors import Actor
from runners.backlog import backlog_read
from tests.factories import make_agent, make_ceo, make_issue, make_org

HUMAN = Actor.human(label="alice")


def test_it_opens_the_ceo_first_and_posts_a_message(client: Any, org: Any) -> None:
    make_agent(org, slug="aaron", name="Aaron")
    ceo = make_ceo(org)
    assert client.get("/chat/")["Location"] == "/chat/ceo/"
    page = client.get("/chat/ceo/").content.decode()
    assert "No messages yet" in page and 'id="chat-form"' in page
    r = client.post("/chat/ceo/", {"body": "Plan the launch"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="chat-form")
    assert r.status_code == 200 and "Plan the launch" in r.content.decode()
    assert 'hx-trigger="mesa:chat_message[detail.agent_id==' in r.content.decode()
    assert ChatMessage.objects.get(conversation__agent=ceo).body == "Plan the launch"
    empty = client.post("/chat/ceo/", {"body": " "}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="chat-form")
    assert empty.status_code == 400 and "Write a message first" in empty.content.decode()


def test_it_turns_a_message_into_an_issue_or_a_backlog_item(client: Any, org: Any) -> None:
    ceo = make_ceo(org)
    issue = make_issue(org, title="Parent")
    conversation = conversation_open(actor=HUMAN, agent=ceo, issue=issue)
    reply = chat_reply(conversation=conversation, body="## Add CSV export\nCustomers asked twice.", run_id=None)
    assert f"/chat/ceo/?issue={issue.key}" in client.get(f"/chat/ceo/?issue={issue.key}").content.decode()

    r = client.post(f"/chat/m/{reply.pk}/issue")
    created = Issue.objects.get(org=org, title="Add CSV export")
    assert r["Location"] == f"/issues/{created.key}/" and created.parent == issue
    assert "Customers asked twice." in created.description

    client.post(f"/chat/m/{reply.pk}/backlog")
    assert "Customers asked twice." in backlog_read(ceo)


def test_it_keeps_other_orgs_messages_out_of_reach(client: Any, org: Any) -> None:
    other = make_org(name="Other", slug="other-x", issue_prefix="OTX")
    theirs = make_ceo(other)
    message = chat_reply(conversation=conversation_open(actor=HUMAN, agent=theirs), body="secret plan", run_id=None)
    assert client.post(f"/chat/m/{message.pk}/issue").status_code == 404
    assert client.post(f"/chat/m/{message.pk}/backlog").status_code == 404
    assert not Issue.objects.filter(title="secret plan").exists()


def test_it_links_the_issue_page_to_a_chat_with_the_assignee(client: Any, org: Any) -> None:
    dev = make_agent(org, slug="dev", name="Dev")
    issue = make_issue(org, title="Talk about me", assignee=dev)
    page = client.get(f"/issues/{issue.key}/").content.decode()
    assert f'href="/chat/dev/?issue={issue.key}"' in page
    chat = client.get(f"/chat/dev/?issue={issue.key}").content.decode()
    assert issue.key in chat and 'action="/chat/dev/?issue=' in chat
