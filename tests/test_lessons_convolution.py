"""The Convolution page's lesson words (cnnviz.lessons.convolution), checked by hand."""

import numpy as np

from cnnviz.lessons.convolution import (
    kernel_text,
    matches_example,
    slide_caption,
    slide_marks,
    slide_mistakes,
    summary,
    tiling_warning,
)
from cnnviz.lessons.presets import EXAMPLES
from cnnviz.trace import correlation_trace

SIX = EXAMPLES["6x6 input, vertical edge"]


def test_kernel_text_writes_the_scale_in_front():
    assert kernel_text(np.array([[1.0, 0], [0, -1]])) == "K = [[1, 0], [0, -1]]"
    assert kernel_text(np.ones((1, 2)), "1/9") == "K = 1/9 x [[1, 1]]"


def test_the_lecture_example_is_recognised_only_with_its_own_output():
    trace = correlation_trace(SIX.input, SIX.kernel)
    assert matches_example(trace, SIX)
    assert not matches_example(correlation_trace(SIX.input, SIX.kernel, padding=1), SIX)
    assert "matches its (correct) answer" in summary(trace, lecture=True)
    assert summary(trace, lecture=False).startswith("Input 6x6, kernel 3x3 -> **output 4x4** (16 cells)")
    one = correlation_trace(SIX.input[:3, :3], SIX.kernel)
    assert summary(one, lecture=False).startswith("Input 3x3, kernel 3x3 -> **output 1x1** (1 cell)")


def test_the_slides_mistakes_are_named_cell_by_cell():
    example = next(ex for ex in EXAMPLES.values() if ex.slide_errors)
    i, j, printed, correct = example.slide_errors[0]
    assert slide_marks(example)[0] == (i, j)
    assert slide_caption(example).startswith("the slide printed ")
    assert f"({i}, {j}): slide" in slide_mistakes(example)


def test_a_stride_that_does_not_tile_names_the_rows_and_columns_never_read():
    assert tiling_warning(correlation_trace(np.zeros((6, 6)), np.ones((3, 3)))) == ""
    text = tiling_warning(correlation_trace(np.zeros((6, 6)), np.ones((3, 3)), stride=2))
    assert "rows [5]" in text and "columns [5]" in text and "PyTorch drops them silently" in text


def test_a_dense_layer_needs_a_weight_per_number_of_the_picture():
    from cnnviz.lessons.convolution import dense_layer_text

    assert "(784 + 1) x 1,000 = **785,000 weights**" in dense_layer_text((28, 28))
    assert "this picture is 2 x 2 x 3" in dense_layer_text((2, 2, 3))
