"""The run terminal's WebSocket (web/terminal.py) against a real PTY run, through the real ASGI routing."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from agents.keys import key_create
from orgs.actors import Actor
from orgs.services import membership_set
from runners.base import RunContext
from runners.bindings import binding_end, binding_grant
from runners.command import CommandRunner
from runners.models import Run
from runners.terminal_stream import StreamWriter, terminals_dir
from tests.factories import make_agent, make_org, make_run, make_user
from tests.runners.test_executor import ListSink

pytestmark = pytest.mark.django_db(transaction=True)

ECHO = "sh -c 'while read l; do echo got:$l; if [ \"$l\" = size ]; then stty size; fi; done'"
SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


def application() -> Any:
    from mesa.asgi import websocket_application  # importing mesa.asgi sets up the whole ASGI stack

    return websocket_application


class PtyRun:
    """A running PTY run: the Run row says running, the real executor runs ``ECHO`` in a thread."""

    def __init__(self) -> None:
        self.org = make_org(slug="acme", issue_prefix="ACME")
        self.agent = make_agent(self.org, slug="worker", runner="command", model=ECHO, terminal="pty")
        self.run = make_run(self.agent, status="running")
        self.sink = ListSink()
        ctx = RunContext(
            run_id=self.run.pk,
            agent_slug="worker",
            model=ECHO,
            prompt="the prompt",
            system_prompt="",
            cwd=terminals_dir().parent,
            env={"PATH": os.environ["PATH"]},
            timeout_s=60,
            max_turns=1,
            extra={"kill_grace_s": 1, "mesa_terminal": "pty", "terminal_dir": str(terminals_dir())},
        )
        terminals_dir().mkdir(parents=True, exist_ok=True)
        self.thread = threading.Thread(target=CommandRunner().execute, args=(ctx, self.sink), daemon=True)
        self.thread.start()

    def inputs(self) -> list[tuple[str, str]]:
        return [(e.data["by"], e.data["text"]) for e in self.sink.events if e.type == "terminal_input"]

    def stop(self) -> None:
        self.sink.stop_after = 0
        self.thread.join(10)


@pytest.fixture
def pty_run(settings: Any) -> Iterator[PtyRun]:
    settings.MESA_TRUSTED_LOCAL = False
    run = PtyRun()
    yield run
    run.stop()


def session_headers(user: Any) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    return [*SAME_ORIGIN, (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]


def member(org: Any, role: str, username: str) -> list[tuple[bytes, bytes]]:
    user = make_user(username=username)
    membership_set(actor=Actor.system(), org=org, user=user, role=role)
    return session_headers(user)


async def connect(run_id: int, headers: list[tuple[bytes, bytes]]) -> tuple[WebsocketCommunicator, bool, Any]:
    communicator = WebsocketCommunicator(application(), f"/ws/runs/{run_id}/terminal/", headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def screen_until(communicator: WebsocketCommunicator, needle: bytes, timeout: float = 10) -> bytes:
    seen = b""
    end = time.monotonic() + timeout
    while needle not in seen:
        message = await communicator.receive_output(timeout=max(0.1, end - time.monotonic()))
        seen += message.get("bytes") or b""
    return seen


async def json_until(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    while True:
        message = await communicator.receive_output(timeout=10)
        if message["type"] == "websocket.close":
            raise AssertionError(f"closed before {kind}")
        if message.get("text"):
            import json  # only here: the frames above are bytes

            data: dict[str, Any] = json.loads(message["text"])
            if data["type"] == kind:
                return data


async def test_it_refuses_a_visitor_without_credentials(pty_run: PtyRun) -> None:
    communicator, connected, code = await connect(pty_run.run.pk, SAME_ORIGIN)
    assert not connected and code == 4404


async def test_it_refuses_a_user_of_another_org(pty_run: PtyRun) -> None:
    other = await sync_to_async(make_org)(slug="other", issue_prefix="OTH")
    headers = await sync_to_async(member)(other, "owner", "outsider")
    communicator, connected, code = await connect(pty_run.run.pk, headers)
    assert not connected and code == 4404


async def test_it_ignores_the_session_cookie_from_another_site(pty_run: PtyRun) -> None:
    headers = await sync_to_async(member)(pty_run.org, "owner", "alice")
    headers = [(k, b"http://evil.example" if k == b"origin" else v) for k, v in headers]
    communicator, connected, code = await connect(pty_run.run.pk, headers)
    assert not connected and code == 4404


async def test_it_lets_a_member_type_and_resize_and_records_who_typed(pty_run: PtyRun) -> None:
    headers = await sync_to_async(member)(pty_run.org, "member", "alice")
    communicator, connected, _ = await connect(pty_run.run.pk, headers)
    assert connected
    assert (await json_until(communicator, "hello"))["mode"] == "drive"
    await screen_until(communicator, b"got:the prompt")
    await communicator.send_json_to({"type": "input", "data": "hello\r"})
    await screen_until(communicator, b"got:hello")
    await communicator.send_json_to({"type": "resize", "cols": 91, "rows": 27})
    await communicator.send_json_to({"type": "input", "data": "size\r"})
    await screen_until(communicator, b"27 91")
    assert pty_run.inputs() == [("alice", "hello\r"), ("alice", "size\r")]
    await communicator.disconnect()


async def test_it_keeps_a_viewer_read_only(pty_run: PtyRun) -> None:
    headers = await sync_to_async(member)(pty_run.org, "viewer", "vic")
    communicator, connected, _ = await connect(pty_run.run.pk, headers)
    assert connected
    assert (await json_until(communicator, "hello"))["mode"] == "observe"
    await screen_until(communicator, b"got:the prompt")  # watching works
    await communicator.send_json_to({"type": "input", "data": "sneaky\r"})
    assert (await json_until(communicator, "error"))["code"] == "read_only"
    await communicator.send_json_to({"type": "resize", "cols": 20, "rows": 5})
    assert (await json_until(communicator, "error"))["code"] == "read_only"
    assert pty_run.inputs() == []
    await communicator.disconnect()
    # A drive binding lets the same viewer type.
    await sync_to_async(binding_grant)(actor=Actor.human(label="board"), run=pty_run.run, mode="drive", username="vic")
    communicator, connected, _ = await connect(pty_run.run.pk, headers)
    assert connected and (await json_until(communicator, "hello"))["mode"] == "drive"
    await communicator.send_json_to({"type": "input", "data": "allowed\r"})
    await screen_until(communicator, b"got:allowed")
    assert pty_run.inputs() == [("vic", "allowed\r")]
    await communicator.disconnect()


async def test_it_lets_an_agent_in_only_through_its_binding(pty_run: PtyRun) -> None:
    def setup() -> tuple[Any, str]:
        lead = make_agent(pty_run.org, slug="lead")
        pty_run.agent.reports_to = lead
        pty_run.agent.save(update_fields=["reports_to"])
        peer = make_agent(pty_run.org, slug="peer")
        _, raw = key_create(actor=Actor.system(), org=pty_run.org, kind="agent", agent=peer, name="t")
        return peer, raw

    peer, raw = await sync_to_async(setup)()
    headers = [(b"authorization", f"Bearer {raw}".encode())]
    communicator, connected, code = await connect(pty_run.run.pk, headers)
    assert not connected and code == 4404
    await sync_to_async(binding_grant)(actor=Actor.human(label="board"), run=pty_run.run, mode="drive", agent=peer)
    communicator, connected, _ = await connect(pty_run.run.pk, headers)
    assert connected and (await json_until(communicator, "hello"))["mode"] == "drive"
    await communicator.send_json_to({"type": "input", "data": "from peer\r"})
    await screen_until(communicator, b"got:from peer")
    assert pty_run.inputs() == [("peer", "from peer\r")]
    # Ending the binding ends the agent's session (rights are checked again every second).
    binding = await sync_to_async(pty_run.run.bindings.get)()
    await sync_to_async(binding_end)(actor=Actor.human(label="board"), binding=binding)
    assert (await json_until(communicator, "end"))["status"] == "running"
    assert (await communicator.receive_output(timeout=5))["type"] == "websocket.close"


async def test_it_ends_when_the_run_ends_and_replays_a_finished_run(pty_run: PtyRun) -> None:
    headers = await sync_to_async(member)(pty_run.org, "member", "alice")
    communicator, connected, _ = await connect(pty_run.run.pk, headers)
    assert connected
    await screen_until(communicator, b"got:the prompt")
    await sync_to_async(Run.objects.filter(pk=pty_run.run.pk).update)(status="completed")
    assert (await json_until(communicator, "end"))["status"] == "completed"
    assert (await communicator.receive_output(timeout=5))["type"] == "websocket.close"

    replay, connected, _ = await connect(pty_run.run.pk, headers)
    assert connected
    assert (await json_until(replay, "hello"))["mode"] == "observe"  # a finished run cannot be typed into
    assert b"got:the prompt" in await screen_until(replay, b"got:the prompt")
    assert (await json_until(replay, "end"))["status"] == "completed"


def test_the_stream_writer_rotates_within_its_cap(tmp_path: Any) -> None:
    writer = StreamWriter(tmp_path, 1, cap=4096)
    for _ in range(100):
        writer.write(b"x" * 100)
    writer.close()
    assert sum(p.stat().st_size for p in tmp_path.glob("1.tty*")) <= 4096


async def test_it_replays_a_long_stored_stream_in_bounded_frames_to_the_local_operator(settings: Any) -> None:
    settings.MESA_TRUSTED_LOCAL = True  # the person at the machine (conftest: the login link already opened)

    def finished_run() -> Run:
        org = make_org(slug="acme", issue_prefix="ACME")
        run = make_run(make_agent(org, slug="worker", terminal="pty"), status="completed")
        writer = StreamWriter(terminals_dir(), run.pk, cap=1_000_000)
        writer.write(b"y" * 200_000)
        writer.close()
        return run

    run = await sync_to_async(finished_run)()
    communicator, connected, _ = await connect(run.pk, SAME_ORIGIN)
    assert connected and (await json_until(communicator, "hello"))["mode"] == "observe"
    frames: list[int] = []
    while sum(frames) < 200_000:
        frames.append(len((await communicator.receive_output(timeout=5))["bytes"]))
    assert max(frames) <= 64 * 1024 and sum(frames) == 200_000
    assert (await json_until(communicator, "end"))["status"] == "completed"
