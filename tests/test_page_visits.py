"""The values a student set on a page are still there after a visit to another page (`ui.keep_other_pages`):
Streamlit forgets a page's widget values while another page runs."""

import pytest
from conftest import app_test

GRID = "1 2 3 4 5\n6 7 8 9 1\n2 3 4 5 6\n7 8 9 1 2\n3 4 5 6 7"


def summary(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("Input "))


@pytest.mark.parametrize(
    "page, source, grid, setting, shown",
    [
        (
            "pages/1_Convolution.py",
            "conv_source",
            "conv_grid",
            ("number_input", "conv_stride_h", 2),
            "Input 5x5",
        ),
        ("pages/3_Pooling.py", "pool_input_source", "pool_typed", ("slider", "pool_size", 3), "Input 5x5"),
    ],
)
def test_a_typed_grid_and_a_setting_survive_a_visit_to_another_page(page, source, grid, setting, shown):
    kind, key, value = setting
    at = app_test()
    at.run()
    at.switch_page(page).run()
    at.selectbox(key=source).set_value("Type a grid").run()
    at.text_area(key=grid).set_value(GRID).run()
    getattr(at, kind)(key=key).set_value(value).run()
    before = summary(at)
    assert before.startswith(shown)
    at.switch_page("pages/2_Correlation_vs_convolution.py").run()
    at.switch_page("app.py").run()
    at.switch_page(page).run()
    assert not at.exception
    assert at.text_area(key=grid).value == GRID
    assert getattr(at, kind)(key=key).value == value
    assert summary(at) == before
