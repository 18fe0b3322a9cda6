"""A chat run's answer: its final message becomes the agent's reply in the conversation."""

from __future__ import annotations

from chat.conversations import chat_reply
from chat.models import Conversation
from runners.models import Run, RunStatus


def answer_chat(run: Run, *, status: str, text: str, failure: str) -> None:
    """The run's final message is the agent's chat reply; a run that could not answer leaves a note saying why."""
    conversation_id = run.conversation_id
    if conversation_id is None:
        return
    conversation = Conversation.objects.select_related("org", "agent").filter(pk=conversation_id).first()
    if conversation is None:
        return
    if status == RunStatus.COMPLETED:
        chat_reply(conversation=conversation, body=text, run_id=run.pk)
    else:
        chat_reply(
            conversation=conversation, body=f"No answer ({status}): {failure}"[:2000], run_id=run.pk, role="system"
        )
