"""Every page survives random use: each keyed widget is set to random values (typos in the text boxes) and
no run may raise. The standard: bad input shows a message and keeps the last good state, never a traceback.

The budget here is small (a few actions per page and seed) so the file stays fast; to hunt for rarer
crashes run it by hand with more seeds, e.g. `python tests/test_fuzz_pages.py 10` (or name pages after the
seed count). A failure prints the actions that led to it, so it can be replayed as a regression test.
"""

from __future__ import annotations

import random
import sys

import pytest
from conftest import ROOT, app_test, stepper_elements, stepper_payloads
from streamlit import config

PAGES = ["app.py"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))
ACTIONS = 12  # widget changes per page and seed
SEEDS = (0, 1)

# What a student might type or paste into a grid or signal box; most of it is wrong on purpose.
TYPED = [
    "",
    "abc",
    "-",
    "0",
    "nan",
    "1e999",
    "1/0",
    "1,,2",
    "\u22121",  # a typographic minus sign, as pasted from a slide
    "1 2\n3",  # ragged rows
    "[[1,2],[3,4]]",
    "1 2\n3 4",
    "1 2 3\n4 5 6\n7 8 9",
    "9 " * 80,  # one very long row
    "5\n" * 70,  # one very tall column
]

# Widgets the fuzzer leaves alone. Starting a LeNet run would train in a background thread for minutes,
# and the download box would reach for the network.
NOT_TOUCHED = {"train_start", "train_download"}

WIDGET_KINDS = [
    "button",
    "checkbox",
    "toggle",
    "radio",
    "selectbox",
    "multiselect",
    "select_slider",
    "slider",
    "number_input",
    "text_input",
    "text_area",
]


def keyed_widgets(at) -> list:
    """The widgets a user could change now: those with a key, not disabled, not left alone on purpose."""
    return [
        w
        for kind in WIDGET_KINDS
        for w in getattr(at, kind)
        if w.key is not None and w.key not in NOT_TOUCHED and not w.disabled
    ]


def option_values(at, widget) -> list:
    """The values behind a radio's, selectbox's, multiselect's or select_slider's labels.

    AppTest's `widget.options` are the labels a user reads (after `format_func`), but `set_value` wants the
    values the page passed in. Streamlit keeps those in the widget's registered deserializer, so read them
    from there (a private corner of Streamlit: if an upgrade moves it, this fails loudly, not silently).
    """
    session = at.session_state._state._state  # AppTest's wrapper -> SafeSessionState -> SessionState
    deserializer = session._new_widget_state.widget_metadata[widget.id].deserializer
    return list(deserializer.__self__.options)


def on_grid(rng, low, high, step, as_int: bool):
    """A value a user could pick: `low`, `high` or one between them, in steps of `step` (any, if None)."""
    between = low + step * rng.randint(0, round((high - low) / step)) if step else rng.uniform(low, high)
    value = rng.choice([low, high, between])
    return int(round(value)) if as_int else round(value, 10)  # AppTest gives an int widget's bounds as floats


def random_value(rng, at, widget):
    """A value for `widget` that a user could enter, "click" for a button; also sets it on the widget."""
    kind = widget.type
    if kind == "button":
        widget.click()
        return "click"
    if kind in ("checkbox", "toggle"):
        value = rng.random() < 0.5
    elif kind in ("radio", "selectbox", "select_slider"):
        value = rng.choice(option_values(at, widget))
    elif kind == "multiselect":
        options = option_values(at, widget)
        value = rng.sample(options, rng.randint(0, min(3, len(options))))
    elif kind in ("text_input", "text_area"):
        value = rng.choice(TYPED)
    elif kind == "slider":
        as_int = isinstance(widget.value[0] if isinstance(widget.value, tuple | list) else widget.value, int)
        ends = [on_grid(rng, widget.min, widget.max, widget.step, as_int) for _ in range(2)]
        value = tuple(sorted(ends)) if isinstance(widget.value, tuple | list) else ends[0]
    elif kind == "number_input":
        as_int = isinstance(widget.value, int)
        low = widget.min if widget.min is not None else -50
        high = widget.max if widget.max is not None else 50
        value = on_grid(rng, low, high, None, as_int)
    else:
        raise AssertionError(f"no rule for a {kind}")
    widget.set_value(value)
    return value


def steppers(at) -> list[tuple[str, list[int]]]:
    """(key, output shape) of every stepper component: its element id ends with the user's key."""
    found = []
    for el, payload in zip(stepper_elements(at), stepper_payloads(at), strict=True):
        found.append((el.proto.id.split("-", 2)[2], payload["shape"]))
    return found


def pick_random_cell(rng: random.Random, at, key: str, shape: list[int]):
    """What a browser could send as the stepper's state: a cell, one outside the output, or garbage."""
    value = rng.choice(
        [
            {"cell": [rng.randrange(shape[0]), rng.randrange(shape[1])]},
            {"cell": [shape[0] + 3, -1]},
            {"cell": "x"},
            {},
        ]
    )
    at.session_state[key] = value
    return value


def fuzz(page: str, seed: int, actions: int) -> tuple[list[str], str | None]:
    """Set `actions` random widgets (or stepper cells) on `page`, rerunning after each; returns (the action
    log, the problem)."""
    rng = random.Random(seed)
    at = app_test(page).run()
    log = []
    for _ in range(actions):
        widgets = keyed_widgets(at)
        if not widgets:
            return log, "no widget left to change"
        components = steppers(at)
        if components and rng.random() < 0.25:
            key, shape = rng.choice(components)
            log.append(f"stepper {key!r} = {pick_random_cell(rng, at, key, shape)!r}")
        else:
            widget = rng.choice(widgets)
            value = random_value(rng, at, widget)
            log.append(f"{widget.type} {widget.key!r} = {value!r}")
        try:
            at.run()
        except Exception as error:  # AppTest itself raised, e.g. a stored value no longer among the options
            return log, f"the run raised {type(error).__name__}: {error}"
        if at.exception:
            return log, "\n".join(f"{e.message}\n{''.join(e.stack_trace)}" for e in at.exception)
    return log, None


@pytest.fixture(autouse=True)
def full_error_details():
    """Show the real error in `at.exception`, not the redacted message users see (.streamlit/config.toml)."""
    before = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "full")
    yield
    config.set_option("client.showErrorDetails", before)


def report(page: str, seed: int, log: list[str], problem: str) -> str:
    return "\n".join([f"{page}, seed {seed}, after these actions:", *log, problem])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("page", PAGES)
def test_random_widget_values_never_crash_a_page(page, seed):
    log, problem = fuzz(page, seed, ACTIONS)
    assert problem is None, report(page, seed, log, problem)
    assert len(log) == ACTIONS  # every action was taken


if __name__ == "__main__":  # python tests/test_fuzz_pages.py [seeds] [pages...]
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    config.set_option("client.showErrorDetails", "full")
    failures = 0
    for page in sys.argv[2:] or PAGES:
        for seed in range(seeds):
            log, problem = fuzz(page, seed, 25)
            failures += problem is not None
            print(report(page, seed, log, problem) if problem else f"ok {page} seed {seed}", flush=True)
    sys.exit(1 if failures else 0)
