"""Start-to-first-output of a run in a container vs on the host (the container sandbox's overhead).

The same tiny command (``echo first``) runs ``RUNS`` times through the host sandbox
(``run_subprocess``) and through :class:`runners.sandboxes.container.ContainerSandbox` with the
Mesa API relay on (as a real run has it); the figure is the time from the sandbox call to the
first parsed event, p50 and max, and the p50 difference.

Engine: ``DOCKER_HOST`` (or a standard socket) when one answers; else, if podman is installed, a
private ``podman system service`` started for the benchmark; else the benchmark is skipped and says
why. Image: a busybox-static tree imported into the engine (no registry).

Run standalone (``python bench/containers.py``) or through ``python -m bench``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run standalone too

from bench.procs import stop  # noqa: E402

RUNS = 10
IMAGE = "localhost/mesa-bench-busybox:latest"
CONF = '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\nruntime = "runc"\n'


def _busybox_tar() -> bytes:
    """A root filesystem with busybox-static and its applets, as a tar stream."""
    applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True, check=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("bin", "tmp", "etc", "workspace", "home", "home/mesa", "run", "run/mesa"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if name == "tmp" else 0o755
            tar.addfile(info)
        tar.add("/bin/busybox", "bin/busybox")
        for applet in applets:
            if applet != "busybox":
                link = tarfile.TarInfo(f"bin/{applet}")
                link.type, link.linkname = tarfile.SYMTYPE, "busybox"
                tar.addfile(link)
        passwd = b"root:x:0:0:root:/root:/bin/sh\nmesa:x:1000:1000:mesa:/home/mesa:/bin/sh\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        tar.addfile(info, io.BytesIO(passwd))
    return buf.getvalue()


def _private_podman(scratch: Path) -> tuple[subprocess.Popen[bytes], str]:
    podman = shutil.which("podman")
    assert podman
    (scratch / "containers.conf").write_text(CONF)
    env = {**os.environ, "CONTAINERS_CONF": str(scratch / "containers.conf")}
    sock = scratch / "podman.sock"
    service = subprocess.Popen([podman, "system", "service", "--time=0", f"unix://{sock}"], env=env)
    for _ in range(200):  # readiness of the socket, at most 10 s
        if sock.exists():
            break
        time.sleep(0.05)
    return service, f"unix://{sock}"


def _first_output_s(sandbox: Any, runner: Any, ctx: Any) -> float:
    from runners.base import ParsedEvent

    class FirstOutput:
        at = 0.0

        def emit(self, event: ParsedEvent) -> None:
            if not self.at:
                self.at = time.perf_counter()

        def should_stop(self) -> str | None:
            return None

    sink = FirstOutput()
    start = time.perf_counter()
    outcome = sandbox.run(runner, ctx, sink)
    if outcome.exit_code != 0 or not sink.at:
        raise RuntimeError(f"the benchmark run failed: {outcome}")
    return sink.at - start


def _summary(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(samples) * 1000, 1), "max_ms": round(max(samples) * 1000, 1)}


def main() -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesa.settings")
    import django

    django.setup()
    import docker
    from runners.base import LineParser, ParsedEvent, RunContext
    from runners.executor import SubprocessRunner
    from runners.sandboxes.container import ContainerSandbox
    from runners.sandboxes.engine import engine_answers, engine_url
    from runners.sandboxes.host import HostSandbox

    class Lines:
        def parse_line(self, line: str) -> list[ParsedEvent]:
            return [ParsedEvent("text", {"text": line})]

    class Echo(SubprocessRunner):
        name = "bench"

        def command(self, ctx: RunContext) -> list[str]:
            return ["sh", "-c", "echo first; echo second"]

        def parser(self, ctx: RunContext) -> LineParser:
            return Lines()

    scratch = Path(tempfile.mkdtemp(prefix="mesa-bench-containers-"))
    service = None
    try:
        if engine_answers():
            url = engine_url()
        elif shutil.which("podman") and Path("/bin/busybox").exists():
            service, url = _private_podman(scratch)
        else:
            return {"skipped": "no container engine answers (DOCKER_HOST) and podman is not installed"}
        client = docker.DockerClient(base_url=url, version="1.41", timeout=60)
        client.api.import_image_from_data(_busybox_tar(), repository=IMAGE.rsplit(":", 1)[0], tag="latest")
        work = scratch / "work"
        work.mkdir()
        # A relay for the Mesa API, as in a real run (nothing needs to listen: the command does not call it).
        env = {"PATH": os.environ.get("PATH", ""), "MESA_API_URL": "http://127.0.0.1:1/api/v1"}

        def ctx(run_id: int) -> RunContext:
            return RunContext(
                run_id=run_id,
                agent_slug="bench",
                model="",
                prompt="",
                system_prompt="",
                cwd=work,
                env=env,
                timeout_s=60,
                max_turns=1,
                extra={"image": IMAGE, "kill_grace_s": 1},
            )

        host = [_first_output_s(HostSandbox(), Echo(), ctx(i)) for i in range(RUNS)]
        container = [_first_output_s(ContainerSandbox(client=client), Echo(), ctx(i)) for i in range(RUNS)]
        result = {
            "engine": client.version().get("Components", [{}])[0].get("Name", url),
            "runs": RUNS,
            "host": _summary(host),
            "container": _summary(container),
            "overhead_p50_ms": round((statistics.median(container) - statistics.median(host)) * 1000, 1),
        }
        return result
    finally:
        if service is not None:
            stop(service, timeout=10)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
