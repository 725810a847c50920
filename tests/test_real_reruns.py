"""What only a real server shows: a browser sends every widget's value with each rerun (AppTest sends the
changed ones), so a range that shrinks under a widget's old value must be handled where the browser's value
does not win (a callback)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from stclient import Session  # noqa: E402
from timing import serve_streamlit  # noqa: E402


@pytest.fixture(scope="module")
def app_url():
    proc, url = serve_streamlit(ROOT / "app.py", ROOT)
    yield url
    proc.terminate()
    proc.wait(10)


def slider(session: Session, label: str):
    return next(w for w in session.widgets.values() if w.kind == "slider" and w.proto.label == label)


@pytest.mark.slow
def test_home_a_larger_zoom_keeps_the_window_inside_the_picture(app_url):
    """The moves bench_class's random student made before the page failed with StreamlitValueAboveMaxError
    (the 28x28 digit: a zoom of 23 leaves Left column 0..5, a zoom of 24 leaves 0..4)."""
    session = Session(app_url, "").open()
    try:
        session.run()
        moves = [("Left column", 9), ("Zoom (cells per side)", 23), ("Left column", 5), ("Left column", 4)]
        for label, value in [*moves, ("Zoom (cells per side)", 24)]:
            result = session.slide(slider(session, label), value)
            assert not result.exceptions, (label, value, result.exceptions)
        assert slider(session, "Left column").proto.max == 4
        again = session.slide(slider(session, "Top row"), 0)  # and the page goes on working
        assert not again.exceptions, again.exceptions
    finally:
        session.close()
