"""Serving others is an explicit choice: `make run` stays on this machine; `make class`'s nginx config."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from serve_class import nginx_config, parse_args  # noqa: E402


def make_recipe(target: str) -> str:
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert match, f"no {target} target"
    return match.group(1)


def test_make_run_listens_on_localhost_only():
    recipe = make_recipe("run")
    assert "streamlit run app.py" in recipe and "--server.address 127.0.0.1" in recipe


def test_make_class_serves_loopback_unless_told_and_make_test_installs_nginx():
    assert "LISTEN ?= 127.0.0.1" in (ROOT / "Makefile").read_text()
    assert "--listen $(LISTEN)" in make_recipe("class")
    assert re.search(r"^test: .*\bnginx\b", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert parse_args([]).listen == "127.0.0.1" and parse_args([]).app_address == "127.0.0.1"


def test_the_generated_config_has_affinity_websocket_headers_and_health_checks(tmp_path):
    conf = nginx_config(tmp_path, ["127.0.0.1:9001", "10.0.0.5:8511"], port=8500, max_fails=3, fail_timeout=7)
    # A new browser goes to the process with the fewest connections; its cookie then names that process, whose
    # group has the other processes as backups; a cookie naming none is hashed.
    assert re.search(r"upstream cnnviz_new \{\s*least_conn;", conf)
    assert "cnnviz_route=$route_name;" in conf and "hash $cookie_cnnviz_route consistent;" in conf
    # ... and is set again when another process answered (after a failover the browser stays on its new one)
    assert 'map "$cookie_cnnviz_route:$route_name" $route_cookie' in conf and '"~^(p[0-9]+):\\1$" "";' in conf
    assert "p0 cnnviz_p0;" in conf and "p1 cnnviz_p1;" in conf and "default cnnviz_hashed;" in conf
    assert '"~(^|[ ,])127\\.0\\.0\\.1:9001$" p0;' in conf
    groups = dict(re.findall(r"upstream (cnnviz_p\d) \{(.*?)\}", conf, re.DOTALL))

    def lines(group: str) -> list[str]:
        return [line.strip() for line in groups[group].strip().splitlines()]

    assert lines("cnnviz_p0") == [
        "server 127.0.0.1:9001 max_fails=3 fail_timeout=7s;",
        "server 10.0.0.5:8511 backup;",
    ]
    assert lines("cnnviz_p1") == [
        "server 10.0.0.5:8511 max_fails=3 fail_timeout=7s;",
        "server 127.0.0.1:9001 backup;",
    ]
    assert conf.count("proxy_pass http://$backend;") == 2
    assert "proxy_set_header Upgrade $http_upgrade;" in conf and "location /_stcore/stream" in conf
    assert "listen 127.0.0.1:8500;" in conf  # loopback unless the lecturer says otherwise
    with pytest.raises(ValueError, match="no app processes to proxy to"):
        nginx_config(tmp_path, [])


def test_serve_class_refuses_nonsense_in_words(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--processes", "0"])
    assert "name the app processes with --upstream HOST:PORT" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--slots", "0"])
    assert "--slots 1 or more" in capsys.readouterr().err
