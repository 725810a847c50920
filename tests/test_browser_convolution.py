"""The Convolution page in headless Chromium: the stepper steps in the browser with no server rerun.

The numbers drawn are compared cell by cell with the library's trace; Play then Pause brings the page's
selected cell, check-my-work and the PyTorch snippet along; screenshots are kept at two projector sizes.
"""

import numpy as np
import pytest
from conftest import screenshot, wait_for_app

from cnnviz.gridcode import encode_grid
from cnnviz.lessons.presets import EXAMPLES
from cnnviz.trace import correlation_trace, fmt

pytestmark = pytest.mark.browser

SIX = EXAMPLES["6x6 input, vertical edge"]

# What the stepper draws, read from the DOM (the component lives in an open shadow root).
READ = """root => {
    const grid = name => {
        const cells = [...root.querySelectorAll(`.cell[data-grid="${name}"]`)];
        const rows = Math.max(...cells.map(c => +c.dataset.r)) + 1;
        const out = Array.from({length: rows}, () => []);
        for (const c of cells) out[+c.dataset.r][+c.dataset.c] = c.dataset.value;
        return out;
    };
    return {
        step: +root.dataset.step, i: +root.dataset.i, j: +root.dataset.j,
        sum: root.querySelector('.stepper-sum').textContent,
        input: grid('input'), products: grid('products'), output: grid('output'),
        window: [...root.querySelectorAll('[data-window]')].map(e => e.dataset.window.split(',').map(Number)),
        label: root.querySelector('.stepper-label').textContent,
    };
}"""


def texts(A) -> list[list[str]]:
    return [[fmt(v) for v in row] for row in np.asarray(A, dtype=float)]


def count_sent_messages(page) -> list:
    """Every message the browser sends the server over the websocket (a rerun request is one)."""
    sent: list = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    return sent


def stepper(page):
    return page.locator('[data-testid="stepper"]').first


def state(page) -> dict:
    return stepper(page).evaluate(READ)


def number_px(page) -> float:
    """On-screen size (CSS px) of the numbers in the input grid."""
    return stepper(page).evaluate(
        """root => { const t = root.querySelector('.cell[data-grid="input"] text');
                     return +t.getAttribute('font-size') * root.querySelector('svg').getScreenCTM().a; }"""
    )


def check_every_step_against(page, trace) -> None:
    """Step through the whole output with the Right key; each step's drawing must be the trace's."""
    s = state(page)
    assert s["input"] == texts(trace.padded)
    stepper(page).focus()
    stepper(page).press("Home")
    for k in range(trace.n_steps):
        s = state(page)
        step = trace.step(*trace.cell(k))
        assert (s["step"], s["i"], s["j"]) == (k + 1, *step.index)
        assert s["products"] == texts(step.products)
        assert s["sum"] == f"Y[{step.index[0]}, {step.index[1]}] = {step.expression()}"
        assert sorted(map(tuple, s["window"])) == [(int(r), int(c)) for r in step.rows for c in step.cols]
        filled = [v for row in s["output"] for v in row if v != ""]
        assert filled == [fmt(v) for v in trace.output.ravel()[: k + 1]]
        stepper(page).press("ArrowRight")


def test_stepping_runs_in_the_browser_and_draws_the_traces_numbers(server, page):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sent = count_sent_messages(page)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{server}/Convolution")
    wait_for_app(page)
    stepper(page).wait_for(timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    stepper(page).scroll_into_view_if_needed()
    trace = correlation_trace(SIX.input, SIX.kernel)

    # At 1920x1080 a 6x6 grid's numbers are at least 24 px tall on screen.
    assert number_px(page) >= 24, number_px(page)
    screenshot(page, "convolution_stepper_1920x1080")

    # Buttons and keys step with no message to the server (no rerun).
    sent.clear()
    before = state(page)
    stepper(page).get_by_role("button", name="Next ▶").click()
    stepper(page).get_by_role("button", name="Next ▶").click()
    s = state(page)
    assert (s["i"], s["j"]) == (0, 2) and s["sum"].endswith("= 0") and s["window"] != before["window"]
    assert s["label"] == "Step 3 of 16 · output cell (0, 2)"
    stepper(page).press("ArrowLeft")
    assert state(page)["sum"] == "Y[0, 1] = " + trace.step(0, 1).expression()
    stepper(page).press("End")
    assert state(page)["step"] == 16
    stepper(page).get_by_role("button", name="|◀ First").click()
    assert state(page)["step"] == 1
    for _ in range(5):
        stepper(page).press("ArrowRight")
    assert state(page)["step"] == 6
    assert sent == [], sent  # stepping sent nothing: no rerun per step
    # Once the student stops, the stepper tells the page its cell once: what the page says below follows.
    page.get_by_text("Selected: output cell (1, 1)").wait_for(timeout=30_000)
    assert len(sent) == 1, sent

    check_every_step_against(page, trace)

    # Hovering an input cell lights every output cell that reads it: the centre cell (2, 2) is read by 9.
    stepper(page).locator('.cell[data-grid="input"][data-r="2"][data-c="2"]').hover()
    assert stepper(page).get_attribute("data-lit") == "9"
    stepper(page).locator('.cell[data-grid="input"][data-r="0"][data-c="0"]').hover()
    assert stepper(page).get_attribute("data-lit") == "1"

    # Hovering an output cell shows its window (dashed), without stepping there.
    stepper(page).locator('.cell[data-grid="output"][data-r="3"][data-c="3"]').hover()
    assert stepper(page).locator(".look-preview").count() == 9
    # Clicking an output cell goes there and tells the page.
    stepper(page).locator('.cell[data-grid="output"][data-r="2"][data-c="1"]').click()
    assert (state(page)["i"], state(page)["j"]) == (2, 1)
    page.get_by_text("Selected: output cell (2, 1)").wait_for(timeout=30_000)
    # Stepping back from there: the page (its line, its exports) follows once the stepping stops, and the
    # rerun that tells it does not move the stepper.
    stepper(page).get_by_role("button", name="◀ Previous").click()
    stepper(page).get_by_role("button", name="◀ Previous").click()
    page.get_by_text("Selected: output cell (1, 3)").wait_for(timeout=30_000)
    wait_for_app(page)
    assert (state(page)["i"], state(page)["j"]) == (1, 3)
    assert not errors, errors


def test_play_then_pause_brings_the_page_along(server, page):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{server}/Convolution")
    wait_for_app(page)
    stepper(page).wait_for(timeout=60_000)
    # Type the right answer into check-my-work first, so its arithmetic for the selected cell shows.
    answer = page.locator("textarea").last
    answer.fill("\n".join(" ".join(fmt(v) for v in row) for row in SIX.output))
    answer.press("Control+Enter")
    page.get_by_text("All 16 cells are right").wait_for(timeout=30_000)
    wait_for_app(page)
    page.get_by_text("Show the PyTorch").click()  # unfold the snippet
    wait_for_app(page)

    stepper(page).scroll_into_view_if_needed()
    screenshot(page, "convolution_stepper_1366x768")
    stepper(page).get_by_role("button", name="▶ Play").click()
    page.wait_for_function("el => +el.dataset.step >= 4", arg=stepper(page).element_handle(), timeout=15_000)
    stepper(page).focus()
    stepper(page).press(" ")  # Space pauses
    s = state(page)
    assert stepper(page).get_attribute("data-playing") == "0" and s["step"] >= 4
    i, j = s["i"], s["j"]
    page.get_by_text(f"Selected: output cell ({i}, {j})").wait_for(timeout=30_000)
    wait_for_app(page)
    assert state(page)["step"] == s["step"]  # the rerun kept the paused cell on screen
    page.get_by_text(f"Selected cell ({i}, {j}): you wrote {fmt(SIX.output[i, j])}, right").wait_for()
    code = " ".join(page.get_by_test_id("stCode").all_inner_texts())
    assert f"Y[{i}, {j}] = " + correlation_trace(SIX.input, SIX.kernel).step(i, j).expression() in code
    assert f"print(Y[{i}, {j}])  # output cell ({i}, {j}) = {fmt(SIX.output[i, j])}" in code
    # Next carries on from the paused cell.
    stepper(page).get_by_role("button", name="Next ▶").click()
    assert state(page)["step"] == s["step"] + 1
    assert not errors, errors


@pytest.mark.parametrize(
    "shape, seed, kernel, padding, stride, dilation",
    [
        ((7, 9), 3, [[1, -2], [0.5, 3]], (1, 0, 2, 1), (2, 1), (1, 2)),
        ((8, 6), 11, [[0, 1, -1], [2, -3, 1], [1, 1, 0]], (0, 2, 1, 0), (1, 2), (2, 1)),
    ],
)
def test_random_settings_draw_the_traces_numbers(
    server, page, shape, seed, kernel, padding, stride, dilation
):
    page.set_viewport_size({"width": 1600, "height": 1000})
    # The settings come in through a link (every setting is kept in the page's address).
    params = {
        "conv_source": "Random+grid",
        "conv_rand_h": shape[0],
        "conv_rand_w": shape[1],
        "conv_rand_seed": seed,
        "conv_kernel_choice": "Type+my+own",
        "conv_K": encode_grid(kernel),
        "conv_pad_mode": "custom",
        **{f"conv_pad_{side}": p for side, p in zip("tblr", padding, strict=True)},
        "conv_stride_h": stride[0],
        "conv_stride_w": stride[1],
        "conv_dil_h": dilation[0],
        "conv_dil_w": dilation[1],
    }
    page.goto(f"{server}/Convolution?" + "&".join(f"{k}={v}" for k, v in params.items()))
    wait_for_app(page)
    stepper(page).wait_for(timeout=60_000)

    X = np.random.default_rng(seed).integers(0, 10, shape).astype(float)
    trace = correlation_trace(X, kernel, padding=(padding[:2], padding[2:]), stride=stride, dilation=dilation)
    stepper(page).scroll_into_view_if_needed()
    assert state(page)["label"].endswith(f"of {trace.n_steps} · output cell (0, 0)")
    check_every_step_against(page, trace)


def test_a_large_output_steps_a_block_and_next_moves_to_the_next_block(server, page):
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{server}/Convolution?conv_source=Random+grid&conv_rand_h=64&conv_rand_w=64")
    wait_for_app(page)
    stepper(page).wait_for(timeout=60_000)
    X = np.random.default_rng(0).integers(0, 10, (64, 64)).astype(float)
    trace = correlation_trace(X, SIX.kernel)  # 62x62 output, stepped by 8x8 block
    stepper(page).scroll_into_view_if_needed()
    s = state(page)
    assert s["label"] == "Step 1 of 3844 · output cell (0, 0)"
    assert number_px(page) >= 24  # a 10x10 crop of the input, at 1920x1080 with the sidebar open
    assert s["input"] == texts(trace.padded[:10, :10])  # the first block's windows
    stepper(page).focus()
    stepper(page).press("End")
    assert (state(page)["i"], state(page)["j"]) == (7, 7)
    stepper(page).press("ArrowRight")  # past the block's last cell: the server sends the next block
    page.wait_for_function(
        "el => el.dataset.i === '0' && el.dataset.j === '8'",
        arg=stepper(page).element_handle(),
        timeout=30_000,
    )
    wait_for_app(page)
    s = state(page)
    step = trace.step(0, 8)
    assert s["sum"] == f"Y[0, 8] = {step.expression()}"
    assert s["input"] == texts(trace.padded[:10, 8:18])
    screenshot(page, "convolution_64x64_block")
