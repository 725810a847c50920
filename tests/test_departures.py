"""A page that says goodbye (its tab closed) is told apart from a connection that broke (ui/departures.py), on a
real Streamlit server: the goodbye patch must still fit this Streamlit version."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from stclient import Session  # noqa: E402
from timing import serve_streamlit  # noqa: E402

from ui import departures  # noqa: E402

PAGE = textwrap.dedent(
    """
    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from ui import departures

    departures.install()
    st.markdown("session " + get_script_run_ctx().session_id)
    st.markdown("left " + ",".join(sorted(departures.goodbyes())))
    """
)


def test_install_fits_this_streamlit():
    assert departures.install() is True


def test_goodbyes_are_remembered_then_forgotten_on_return():
    departures.record_goodbye("s1", now=0.0)
    assert departures.said_goodbye("s1")
    departures.forget("s1")
    assert not departures.said_goodbye("s1")
    departures.record_goodbye("old", now=0.0)
    departures.record_goodbye("new", now=10_000.0)  # the old goodbye is long past: forgotten
    assert departures.said_goodbye("new") and not departures.said_goodbye("old")


@pytest.mark.slow
def test_a_closed_page_says_goodbye_and_a_dropped_one_does_not(tmp_path):
    script = tmp_path / "page.py"
    script.write_text(PAGE)
    (tmp_path / "ui").symlink_to(ROOT / "ui")
    (tmp_path / "cnnviz").symlink_to(ROOT / "cnnviz")
    proc, base = serve_streamlit(script, tmp_path)
    try:
        ids = {}
        for name in ("closed", "dropped", "watcher"):
            session = Session(base).open()
            session.run()
            ids[name] = next(t for t in session.texts if t.startswith("session ")).split()[1]
            ids[name + "_session"] = session
        ids["closed_session"].close()
        ids["dropped_session"].drop()
        watcher = ids["watcher_session"]
        deadline = time.monotonic() + 20
        left = ""
        while time.monotonic() < deadline:
            watcher.run()  # the page lists which of the two said goodbye, read by the server itself
            left = next(t for t in watcher.texts if t.startswith("left"))
            if ids["closed"] in left:
                break
            time.sleep(0.25)
        assert ids["closed"] in left and ids["dropped"] not in left
        ids["dropped_session"].open(resume=True)  # the dropped page reconnects to its session
        watcher.run()
        assert ids["dropped"] not in next(t for t in watcher.texts if t.startswith("left"))
    finally:
        proc.terminate()
        proc.wait(10)
