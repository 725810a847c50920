"""The Train LeNet page in headless Chromium: the one-screen live view while training, the run finishing, a
refresh (and a second tab) finding the run again by its URL token, a closed tab's run stopping."""

import re

import pytest
from browser_helpers import open_watched
from conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser

FULL_HD = {"width": 1920, "height": 1080}


def curve_points(page) -> int:
    """How many points the train curves have drawn (the SVG the browser draws from the numbers)."""
    svg = page.locator('svg[data-name="curves"]')
    return int(svg.get_attribute("data-train-points")) if svg.count() else -1


def step(page) -> int:
    text = page.locator('[data-testid="stProgress"]').first.inner_text()
    match = re.search(r"step (\d+) of", text)
    return int(match.group(1)) if match else -1


def start(page, epochs: int) -> None:
    field = page.get_by_label("Epochs")
    field.fill(str(epochs))
    field.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_function("() => /step [1-9]\\d* of/.test(document.body.innerText)", timeout=60_000)


def test_the_live_view_fits_one_full_hd_screen_and_the_run_finishes(server, browser):
    context, page, errors = open_watched(
        browser, f"{server}/Train_LeNet", (FULL_HD["width"], FULL_HD["height"])
    )
    try:
        assert "Train LeNet-5" in page.locator("h1").first.inner_text()
        # 10 epochs: long enough (about 8 s here) that the live view is seen mid-run, not only at the end.
        start(page, 10)
        first = curve_points(page)
        page.wait_for_timeout(2500)
        second = curve_points(page)
        # The first screen, unscrolled: the buttons, the curves, the filters and the activations all inside it.
        boxes = {
            "start": page.get_by_role("button", name="Start training").bounding_box(),
            "stop": page.get_by_role("button", name="Stop training").bounding_box(),
            "curves": page.locator('svg[data-name="curves"]').bounding_box(),
            "filters": page.locator('img[data-name="filters"]').bounding_box(),
            "activations": page.locator('img[data-name="activations"]').bounding_box(),
        }
        screenshot(page, "train_lenet_live_1920", full_page=False)
        for name, box in boxes.items():
            assert box is not None, name
            assert box["y"] >= 0 and box["y"] + box["height"] <= FULL_HD["height"], (name, box)
        page.get_by_text("3. After training").wait_for(timeout=120_000)
        wait_for_app(page)
        final = curve_points(page)
        assert final > max(first, 0) and second >= first, (first, second, final)
        progress = page.locator('[data-testid="stProgress"]').first.inner_text()
        assert re.search(r"finished.*step (\d+) of \1", progress), progress
        assert page.locator('[data-testid="stException"]').count() == 0
        screenshot(page, "train_lenet_finished")
        assert not errors, errors
    finally:
        context.close()


def test_a_refresh_and_a_second_tab_find_the_run_and_a_plain_link_does_not(server, browser):
    context = browser.new_context(viewport=FULL_HD)
    page = context.new_page()
    try:
        page.goto(f"{server}/Train_LeNet")
        wait_for_app(page)
        start(page, 100)
        assert re.search(r"[?&]run=[\w-]{20,}", page.url), page.url
        link = page.url
        before = step(page)
        page.reload()  # F5 during training
        wait_for_app(page)
        page.wait_for_function(
            f"() => {{ const m = /step (\\d+) of/.exec(document.body.innerText); return m && +m[1] > {before}; }}",
            timeout=60_000,
        )
        assert page.url == link
        second = context.new_page()  # the same link in a second tab
        second.goto(link)
        wait_for_app(second)
        second.wait_for_function(
            "() => /training.*step \\d+ of/.test(document.body.innerText)", timeout=30_000
        )
        second.get_by_role("button", name="Pause training").click()
        page.wait_for_function("() => document.body.innerText.includes('paused')", timeout=30_000)

        stranger = browser.new_context(viewport=FULL_HD).new_page()  # another person, the link without token
        stranger.goto(f"{server}/Train_LeNet")
        wait_for_app(stranger)
        stranger.get_by_text("Press Start training").wait_for(timeout=30_000)
        assert stranger.locator('[data-testid="stProgress"]').count() == 0
        stranger.context.close()
        page.reload()  # a paused run is found again too, still paused
        wait_for_app(page)
        page.wait_for_function("() => document.body.innerText.includes('paused')", timeout=30_000)
        page.get_by_role("button", name="Stop training").click()
        page.wait_for_function("() => document.body.innerText.includes('stopped')", timeout=30_000)
    finally:
        context.close()


def test_closing_the_tab_stops_its_training_thread(server, browser):
    """A session that is closed leaves no training thread behind (the slot count drops back): without a
    token in the URL the run stops at once; with one it waits for a reattach, then stops."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    first = context.new_page()
    first.goto(f"{server}/Train_LeNet")
    wait_for_app(first)
    start(first, 100)
    first.get_by_role("button", name="Pause training").click()  # a rerun reports the slot the thread holds
    first.get_by_text("training on this server now: 1 of").wait_for(timeout=30_000)
    context.close()  # the student closes the tab

    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    second = other.new_page()
    try:
        for _ in range(60):  # the reattach grace is 30 s
            second.goto(f"{server}/Train_LeNet")
            wait_for_app(second)
            if "training on this server now: 0 of" in second.locator("body").inner_text():
                break
            second.wait_for_timeout(1000)
        else:
            raise AssertionError("the closed session's training thread is still holding its slot")
    finally:
        other.close()
