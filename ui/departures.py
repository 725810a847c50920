"""Which browser sessions left for good: their page said goodbye (a closed tab, a closed browser), as against a
connection that just broke (a network drop, a laptop lid, a server restart in between).

A browser that closes a page sends the websocket's close frame (code 1000 or 1001); a broken connection ends
without one (the server sees code 1006). Streamlit treats both alike (the session is disconnected and may come
back), so the training queue could only wait its full reconnect grace before stopping a closed page's run.
`install()` lets this process tell them apart: it records, per session, a goodbye (Starlette's disconnect
message carries the code; Streamlit's `Runtime.disconnect_session` gets the client that saw it).

This reads two internals of Streamlit 1.67's Starlette server (`StarletteSessionClient._websocket`, the
`websocket.disconnect` message). If a later version moves them, `install()` returns False, nothing is recorded,
and runs simply wait the full grace (tests/test_departures.py fails first, so the change is noticed).
"""

from __future__ import annotations

import threading
import time

GOODBYE_CODES = (1000, 1001)  # normal closure; "going away" (the page is closed or navigates away)
_FORGET_AFTER = 600.0  # seconds a goodbye is remembered (a session id is never reused)
_left: dict[str, float] = {}  # session id -> when its page said goodbye
_lock = threading.Lock()
_installed: list[bool] = []


def said_goodbye(session_id: str) -> bool:
    """Whether this session's page closed its connection on purpose (and has not come back since: a session
    that reconnects is connected again, which callers check first)."""
    with _lock:
        return session_id in _left


def goodbyes() -> set[str]:
    """The sessions whose pages said goodbye and have not come back."""
    with _lock:
        return set(_left)


def record_goodbye(session_id: str, now: float | None = None) -> None:
    now = time.monotonic() if now is None else now
    with _lock:
        for old in [s for s, t in _left.items() if now - t > _FORGET_AFTER]:
            del _left[old]
        _left[session_id] = now


def forget(session_id: str) -> None:
    with _lock:
        _left.pop(session_id, None)


def install() -> bool:
    """Record goodbyes from now on in this server process (idempotent). Returns whether it could."""
    if _installed:
        return _installed[0]
    try:
        from starlette.websockets import WebSocket
        from streamlit.runtime import Runtime

        raise_on_disconnect = WebSocket._raise_on_disconnect
        disconnect_session = Runtime.disconnect_session
        connect_session = Runtime.connect_session
    except (ImportError, AttributeError):
        _installed.append(False)
        return False

    def _raise_on_disconnect(self, message):
        if message.get("type") == "websocket.disconnect":
            self.cnnviz_close_code = message.get("code")
        return raise_on_disconnect(self, message)

    def _disconnect_session(self, session_id, *, client=None):
        websocket = getattr(client, "_websocket", None)
        if getattr(websocket, "cnnviz_close_code", None) in GOODBYE_CODES:
            record_goodbye(session_id)
        return disconnect_session(self, session_id, client=client)

    def _connect_session(self, *args, **kwargs):
        session_id = connect_session(self, *args, **kwargs)
        forget(session_id)  # a page that comes back (a reconnect to the same session) is here again
        return session_id

    WebSocket._raise_on_disconnect = _raise_on_disconnect
    Runtime.disconnect_session = _disconnect_session
    Runtime.connect_session = _connect_session
    _installed.append(True)
    return True
