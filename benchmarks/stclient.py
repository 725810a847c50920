"""A Streamlit client that speaks the browser's websocket protocol, for load benchmarks and proxy tests.

It does what the browser does: GET a page (for the XSRF and route cookies), open `/_stcore/stream` with the
subprotocols "streamlit, <xsrf token>[, <session id to resume>]", send `BackMsg.rerun_script` with the page's
script hash and the widget states, and read `ForwardMsg`s until `script_finished`. It remembers the widgets
the last run drew (id, kind, proto), so a caller can move a slider or press a button like a student.
"""

from __future__ import annotations

import http.cookiejar
import json
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Common_pb2 import FileURLsRequest, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

FINISHED = {  # ScriptFinished statuses that end a run
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
}


class SessionClosed(RuntimeError):
    """The server closed the websocket (its process died, or it dropped the session)."""


@dataclass
class Widget:
    id: str
    kind: str  # "slider", "button", "selectbox", ...
    proto: object
    fragment_id: str = ""  # the fragment that drew it: changing it reruns only that fragment


@dataclass
class RunResult:
    seconds: float
    messages: int
    bytes: int
    exceptions: list[str] = field(default_factory=list)  # texts of st.exception elements the run drew
    upstream: str = ""


def _figure_title(element) -> str:
    """A figure's title: a Plotly chart's, or a light figure's (the `cnnviz_figure` component: its data holds
    the figure's JSON as "spec"); "" for anything else."""
    if element.WhichOneof("type") == "plotly_chart":
        spec = element.plotly_chart.spec or "{}"
    else:
        proto = element.bidi_component
        if proto.component_name != "cnnviz_figure":
            return ""
        data = proto.json if proto.WhichOneof("data") == "json" else proto.mixed.json
        spec = json.loads(data or "{}").get("spec", "{}")
    title = json.loads(spec).get("layout", {}).get("title", {})
    return title.get("text", "") if isinstance(title, dict) else ""


class Session:
    """One browser tab: `open()`, `run()` the page, change widgets with `slide()`/`click()`, `close()`."""

    def __init__(self, base_url: str, page: str = "", *, timeout: float = 120.0, route: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.page = page  # the page's url path name, "" for the home page (app.py)
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self.route = route  # a route cookie to present to nginx (None: let nginx give one)
        self.ws = None
        self.session_id = ""
        self.upstream = ""  # which app process answered (nginx's X-Cnnviz-Upstream header)
        self.pages: dict[str, str] = {}  # url path name -> page script hash
        self.widgets: dict[str, Widget] = {}
        self.auto_rerun: list[tuple[float, str]] = []  # (interval, fragment id) of run_every fragments
        self.elements: list[str] = []  # kinds of element the last run drew, in order
        self._texts: list[tuple[str, str]] = []  # (fragment id, text) of headings, markdown, alerts, progress
        # Widget values this tab set; sent again with every rerun, as a browser does.
        self.values: dict[str, WidgetState] = {}
        self.query = ""  # the URL's query string the page reads (st.query_params), e.g. "home_source=..."

    # --- connection -----------------------------------------------------------------------------------------
    def cookie(self, name: str) -> str:
        """The value of this tab's cookie `name` ("" when it has none)."""
        return next((c.value for c in self.cookies if c.name == name), "")

    def _cookie_header(self) -> str:
        pairs = [f"{c.name}={c.value}" for c in self.cookies]
        if self.route and not self.cookie("cnnviz_route"):
            pairs.append(f"cnnviz_route={self.route}")
        return "; ".join(pairs)

    def get(self, path: str = "/") -> tuple[int, bytes, dict[str, str]]:
        """An HTTP GET with this tab's cookies: (status, body, headers)."""
        request = urllib.request.Request(self.base_url + path)
        if self._cookie_header():
            request.add_header("Cookie", self._cookie_header())
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        with opener.open(request, timeout=self.timeout) as response:
            headers = {k.lower(): v for k, v in response.headers.items()}
            # nginx lists every process it tried ("a, b" when a was down): the last one answered.
            self.upstream = headers.get("x-cnnviz-upstream", self.upstream).split(", ")[-1]
            return response.status, response.read(), headers

    def open(self, resume: bool = False) -> Session:
        """Load the page's HTML (cookies) and open the websocket; with `resume`, ask for the same session."""
        self.get("/" + self.page)
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        protocols = ["streamlit", self.cookie("_streamlit_xsrf") or "none"]
        if resume and self.session_id:
            protocols.append(self.session_id)
        self.ws = connect(
            f"{scheme}://{parts.netloc}/_stcore/stream",
            subprotocols=protocols,
            additional_headers={"Cookie": self._cookie_header(), "Origin": self.base_url},
            open_timeout=self.timeout,
            max_size=None,
            compression=None,
            proxy=None,
        ).__enter__()
        upstream = self.ws.response.headers.get("X-Cnnviz-Upstream") if self.ws.response else None
        self.upstream = (upstream or self.upstream).split(", ")[-1]
        return self

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None

    def drop(self) -> None:
        """Cut the connection without a goodbye, as a network drop does."""
        if self.ws is not None:
            self.ws.socket.close()
            self.ws = None

    # --- script runs -----------------------------------------------------------------------------------------
    @property
    def texts(self) -> list[str]:
        """The text of the headings, markdown, alerts and progress bars on the page now."""
        return [text for _, text in self._texts]

    def run(
        self, states: list[WidgetState] | None = None, *, fragment_id: str = "", auto: bool = False
    ) -> RunResult:
        """Ask for a rerun with the given widget states and wait for it to finish; the run's figures.

        Values (not button triggers) are remembered and sent again with later reruns, as the browser does.
        """
        for s in states or []:
            if s.WhichOneof("value") != "trigger_value":
                self.values[s.id] = s
        triggers = [s for s in states or [] if s.WhichOneof("value") == "trigger_value"]
        states = [*self.values.values(), *triggers]
        if self.ws is None:
            raise SessionClosed("not connected")
        # The first run names the page (as a browser opening its URL does); later runs send the page's script
        # hash from new_session, so that the server's own reruns (st.rerun) stay on the page too.
        page_hash = self._page_hash()
        state = ClientState(
            query_string=self.query,
            page_script_hash=page_hash,
            page_name="" if page_hash else self.page,
            widget_states=WidgetStates(widgets=states or []),
            fragment_id=fragment_id,
            is_auto_rerun=auto,
        )
        start = time.perf_counter()
        try:
            self.ws.send(BackMsg(rerun_script=state).SerializeToString())
        except ConnectionClosed as error:
            raise SessionClosed(str(error)) from None
        result = RunResult(0.0, 0, 0, upstream=self.upstream)
        if not fragment_id:  # a full run draws the page, and registers its timers, anew
            self.widgets, self.elements, self._texts, self.auto_rerun = {}, [], [], []
        else:  # the fragment draws its part again
            self._texts = [(f, t) for f, t in self._texts if f != fragment_id]
            self.widgets = {k: w for k, w in self.widgets.items() if w.fragment_id != fragment_id}
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no script_finished within {self.timeout:g} s")
            try:
                raw = self.ws.recv(timeout=remaining)
            except TimeoutError:
                raise TimeoutError(f"no script_finished within {self.timeout:g} s") from None
            except ConnectionClosed as error:
                raise SessionClosed(str(error)) from None
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            result.messages += 1
            result.bytes += len(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session" and not msg.metadata.run.fragment_ids:
                # A full run starts (also one a fragment asked for with st.rerun): the page is drawn anew.
                self.widgets, self.elements, self._texts, self.auto_rerun = {}, [], [], []
            if kind == "new_session":
                self.session_id = msg.new_session.initialize.session_id or self.session_id
                self.pages = {p.url_pathname: p.page_script_hash for p in msg.new_session.app_pages}
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._remember(msg.delta.new_element, msg.delta.fragment_id)
            elif kind == "stop_auto_rerun":
                self.auto_rerun = []
            elif kind == "auto_rerun":
                if (msg.auto_rerun.interval, msg.auto_rerun.fragment_id) not in self.auto_rerun:
                    self.auto_rerun.append((msg.auto_rerun.interval, msg.auto_rerun.fragment_id))
            elif kind == "page_info_changed":  # the server changed the URL (a link-bound widget): follow it
                self.query = msg.page_info_changed.query_string
            elif kind == "page_not_found":
                raise ValueError(f"the server has no page {self.page!r}")
            elif kind == "script_finished" and msg.script_finished in FINISHED:
                result.seconds = time.perf_counter() - start
                result.upstream = self.upstream
                result.exceptions = [e for e in self.elements if e.startswith("exception:")]
                return result

    def _page_hash(self) -> str:
        """The script hash of `self.page` ("Train_LeNet" and "Train LeNet" alike); "" for the home page or
        before the server listed its pages."""
        want = self.page.replace("_", " ").lower()
        if not want or len(self.pages) < 2:  # the first run's new_session lists a single provisional page
            return ""
        return next((h for name, h in self.pages.items() if name.replace("_", " ").lower() == want), "")

    def _remember(self, element, fragment_id: str) -> None:
        kind = element.WhichOneof("type")
        if kind == "exception":
            self.elements.append(f"exception: {element.exception.type}: {element.exception.message}")
            return
        self.elements.append(kind)
        if kind in ("heading", "markdown", "alert"):
            self._texts.append((fragment_id, getattr(element, kind).body))
        elif kind == "progress":
            self._texts.append((fragment_id, element.progress.text))
        elif kind in ("plotly_chart", "bidi_component"):  # a figure's title is text a student reads too
            title = _figure_title(element)
            if title:
                self._texts.append((fragment_id, title))
        proto = getattr(element, kind)
        widget_id = getattr(proto, "id", "")
        if widget_id:
            self.widgets[widget_id] = Widget(widget_id, kind, proto, fragment_id)
        if widget_id in self.values and getattr(proto, "set_value", False):
            self._adopt(widget_id, kind, proto)
        elif widget_id and widget_id not in self.values and not getattr(proto, "options", None):
            self._adopt(widget_id, kind, proto, shown=True)  # (a select slider sends its options' values)

    def _adopt(self, widget_id: str, kind: str, proto, *, shown: bool = False) -> None:
        """The server set a slider's or a number box's value (a callback moved it): the browser shows that
        value and sends it from then on, not the one the student last chose. `shown`: a slider or number box
        the student has not moved yet, whose value (set, else its default) the browser sends with every rerun
        as well (a fragment's rerun needs it: Streamlit takes a value the browser leaves out as unset)."""
        state = WidgetState(id=widget_id)
        if kind == "slider":
            state.double_array_value.data.extend(
                proto.value if proto.set_value or not shown else proto.default
            )
        elif kind == "number_input" and (proto.HasField("value") or (shown and proto.HasField("default"))):
            value = proto.value if proto.HasField("value") else proto.default
            if proto.data_type == proto.INT:  # what the browser sends for a whole-number box
                state.int_value = int(value)
            else:
                state.double_value = value
        else:
            return
        self.values[widget_id] = state

    def find(self, kind: str, key: str = "") -> Widget | None:
        """The first widget of `kind` the last run drew (whose id ends with `key`, if given)."""
        return next(
            (w for w in self.widgets.values() if w.kind == kind and (not key or w.id.endswith(key))), None
        )

    # --- what a student does -----------------------------------------------------------------------------------
    def slide(self, widget: Widget, value: float) -> RunResult:
        """Move a slider to `value` and wait for the rerun."""
        state = WidgetState(id=widget.id)
        state.double_array_value.data.append(value)
        return self.run([state], fragment_id=widget.fragment_id)

    def click(self, widget: Widget) -> RunResult:
        return self.run([WidgetState(id=widget.id, trigger_value=True)], fragment_id=widget.fragment_id)

    def upload(
        self, widget: Widget, files: list[tuple[str, bytes]], *, then_run: bool = True
    ) -> RunResult | None:
        """Upload `files` (name, bytes) to a file uploader as the browser does: ask the server for upload URLs
        (`file_urls_request` on the websocket), PUT each file there (multipart, with the XSRF token), then
        rerun with the uploader's new value (unless `then_run` is False: call `run()` yourself)."""
        request_id = uuid.uuid4().hex
        ask = FileURLsRequest(
            request_id=request_id, file_names=[n for n, _ in files], session_id=self.session_id
        )
        self.ws.send(BackMsg(file_urls_request=ask).SerializeToString())
        urls = None
        while urls is None:
            msg = ForwardMsg()
            msg.ParseFromString(self.ws.recv(timeout=self.timeout))
            if (
                msg.WhichOneof("type") == "file_urls_response"
                and msg.file_urls_response.response_id == request_id
            ):
                urls = list(msg.file_urls_response.file_urls)
        state = WidgetState(id=widget.id)
        for (name, data), url in zip(files, urls, strict=True):
            self._put(url.upload_url, name, data)
            info = UploadedFileInfo(name=name, size=len(data), file_id=url.file_id, file_urls=url)
            state.file_uploader_state_value.uploaded_file_info.append(info)
        self.values[state.id] = state
        return self.run(fragment_id=widget.fragment_id) if then_run else None

    def _put(self, path: str, name: str, data: bytes) -> None:
        if not self.cookie("_streamlit_xsrf"):  # the browser's health check is what sets it
            self.get("/_stcore/health")
        boundary = uuid.uuid4().hex
        body = b"".join(
            [
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'.encode(),
                b"Content-Type: application/octet-stream\r\n\r\n",
                data,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        request = urllib.request.Request(self.base_url + path, data=body, method="PUT")
        request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        request.add_header("X-Xsrftoken", self.cookie("_streamlit_xsrf"))
        request.add_header("Cookie", self._cookie_header())
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            if response.status not in (200, 204):
                raise OSError(f"upload of {name} answered {response.status}")
