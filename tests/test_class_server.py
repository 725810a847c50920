"""`make class` on this machine: two app processes behind nginx on loopback, one killed mid-lesson."""

from __future__ import annotations

import re
import socket
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from conftest import proc_stat  # noqa: E402
from serve_class import ClassServer, find_nginx, parse_args  # noqa: E402
from stclient import Session, SessionClosed  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

from cnnviz.lenet.job import training_processes  # noqa: E402

pytestmark = pytest.mark.slow


def zoom_rows(student: Session) -> int:
    """How many rows the home page's zoom window shows (from its grid's title "The numbers in rows a..b")."""
    text = next(t for t in student.texts if t.startswith("The numbers in rows"))
    first, last = re.search(r"rows (\d+)\.\.(\d+)", text).groups()
    return int(last) - int(first) + 1


def free_ports(n: int) -> int:
    """The first of `n` consecutive free loopback ports."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first + n > 65535:
            continue
        try:
            socks = []
            for port in range(first, first + n):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no run of free ports")


def test_two_processes_behind_nginx_and_one_killed_mid_lesson(tmp_path):
    assert find_nginx(), "nginx is missing: `make test` installs it (apt-get install -y nginx)"
    app_port, proxy_port = free_ports(2), free_ports(1)
    args = parse_args(
        [
            "--processes",
            "2",
            "--first-port",
            str(app_port),
            "--port",
            str(proxy_port),
            "--run-dir",
            str(tmp_path),
        ]
    )
    with ClassServer(args) as server:
        base = f"http://127.0.0.1:{proxy_port}"
        page = Session(base)
        status, body, headers = page.get("/")
        assert status == 200 and b"<html" in body.lower() and "cnnviz_route=" in headers.get("set-cookie", "")
        status, body, _ = page.get("/_stcore/health")
        assert (status, body) == (200, b"ok")

        # Four students arrive, one after the other, each a new browser: nginx sends each to the process with
        # fewer open sessions and names that process in the route cookie (p0 or p1).
        by_process: dict[str, list[Session]] = {}
        routes: dict[str, set[str]] = {}
        for _ in range(4):
            student = Session(base).open()
            student.run()
            by_process.setdefault(student.upstream, []).append(student)
            routes.setdefault(student.upstream, set()).add(student.cookie("cnnviz_route"))
        assert sorted(map(len, by_process.values())) == [2, 2], {u: len(s) for u, s in by_process.items()}
        assert sorted(routes.values(), key=sorted) == [{"p0"}, {"p1"}]  # one name per process
        for students in by_process.values():
            for student in students:
                zoom = student.find("slider", "home_zoom")
                result = student.slide(zoom, 5)
                assert not result.exceptions and zoom_rows(student) == 5

        killed_port, killed = server.apps[0]
        killed.kill()
        killed.wait(10)
        dead = f"127.0.0.1:{killed_port}"
        (alive,) = set(by_process) - {dead}

        for student in by_process[alive]:  # untouched: the same session, its zoom kept
            session_id = student.session_id
            student.run()
            assert student.session_id == session_id and student.upstream == alive
            assert zoom_rows(student) == 5

        for student in by_process[dead]:  # a clear reconnect: the tab comes back on the live process
            with pytest.raises(SessionClosed):
                student.run()
            old = student.session_id
            student.open(resume=True)
            result = student.run()
            assert result.upstream == alive and not result.exceptions
            assert student.session_id != old  # a fresh session there (the tab's widget values came along)
            assert {student.cookie("cnnviz_route")} == routes[alive]  # and it stays there from now on

        newcomer = Session(base).open()  # a new browser, and one whose cookie names no process: both there
        newcomer.run()
        stranger = Session(base, route="late-student").open()
        stranger.run()
        assert newcomer.upstream == alive and stranger.upstream == alive
        assert {newcomer.cookie("cnnviz_route"), stranger.cookie("cnnviz_route")} == routes[alive]
        for students in by_process.values():
            for student in students:
                student.close()
        newcomer.close()
        stranger.close()
    assert not (tmp_path / "nginx.pid").exists() or all(proc.poll() is not None for _, proc in server.apps)


def training_runs(pid: int) -> int:
    """Training processes (named cnnviz-train by cnnviz.lenet.job) that server process `pid` runs."""
    return len(training_processes(pid))


def niceness(pid: int) -> int:
    return int(proc_stat(pid)[16])


def wait_until(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.25)
    return condition()


def progress(student: Session) -> str:
    return next((t for t in student.texts if re.match(r"\*\*\w+\*\*: epoch", t)), "")


def live_tick(student: Session) -> str:
    """What the live view's 1 s timer asks for; the progress text it then shows."""
    interval, fragment_id = student.auto_rerun[-1]
    student.run(fragment_id=fragment_id, auto=True)
    return progress(student)


def test_a_run_outlives_a_network_drop_and_ends_when_its_page_is_gone(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_RECONNECT_GRACE", "60")  # a broken connection: a minute to come back
    monkeypatch.setenv("CNNVIZ_CLOSE_GRACE", "2")  # a closed page: 2 s (a refresh adopts the run in time)
    port = free_ports(1)
    args = parse_args(
        ["--processes", "1", "--no-proxy", "--first-port", str(port), "--run-dir", str(tmp_path)]
    )
    with ClassServer(args) as server:
        pid = server.apps[0][1].pid
        student = Session(f"http://127.0.0.1:{port}", "Train_LeNet").open()
        student.run()
        assert training_runs(pid) == 0
        epochs = student.find("number_input", "train_epochs")
        state = WidgetState(id=epochs.id, int_value=100)
        student.run([state])
        student.click(student.find("button", "train_start"))
        assert "**training**" in live_tick(student)
        assert wait_until(lambda: training_runs(pid) == 1)  # its process may take a moment to start
        (child,) = training_processes(pid)  # it yields the CPU to the servers: niceness 10 above theirs
        assert niceness(child) == min(19, niceness(pid) + 10)

        student.drop()  # the network goes away for 5 s; the browser then reconnects to its session
        time.sleep(5)
        student.open(resume=True)
        step = int(re.search(r"step (\d+)", live_tick(student)).group(1))
        time.sleep(1.5)
        text = live_tick(student)
        assert "**training**" in text and int(re.search(r"step (\d+)", text).group(1)) > step

        student.close()  # the tab is closed for good: the page said goodbye, the run ends after the short grace
        assert wait_until(lambda: training_runs(pid) == 0, timeout=30)  # far less than the minute
