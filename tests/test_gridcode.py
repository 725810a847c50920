"""A typed grid in a link: the compact encoding reads back exactly, and a hand-edited link says what is wrong."""

import numpy as np
import pytest

from cnnviz.gridcode import MAX_SIDE, decode_grid, encode_grid


@pytest.mark.parametrize(
    "X",
    [
        [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
        [[1 / 9] * 3] * 3,
        [[0.1, -2.5e-7, 1e20], [-0.0, 3, 123456789.125]],
        [[7]],
        np.random.default_rng(0).normal(size=(64, 64)),
    ],
)
def test_a_grid_round_trips_bit_for_bit(X):
    X = np.asarray(X, dtype=float)
    text = encode_grid(X)
    np.testing.assert_array_equal(decode_grid(text), X)
    assert set(text) <= set("0123456789-._~e+")  # URL-unreserved (and "e+" of exponents): nothing to escape


def test_the_encoding_is_short_and_readable():
    assert encode_grid([[1, 0, -1], [2, 0, -2]]) == "1_0_-1~2_0_-2"
    assert encode_grid([[0.5]]) == "0.5"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", r"the link's grid is empty; it should look like 1_0_-1~2_0_-2"),
        ("1_2~3_x", r"row 2, cell 2 is 'x', not a number"),
        ("1_2~3", r"row 2 has 1 numbers but row 1 has 2"),
        ("1__2", r"row 1, cell 2 is '', not a number"),
        ("1e999", r"too large"),
        ("~".join(["1"] * (MAX_SIDE + 1)), r"has 65 rows; a link carries at most 64"),
        ("nan", r"'nan', not a number"),
    ],
)
def test_a_bad_link_raises_a_clear_value_error(text, match):
    with pytest.raises(ValueError, match=match):
        decode_grid(text)


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.zeros(3), r"only a non-empty 2-D grid"),
        ([[np.inf]], r"NaN or infinite"),
        (np.zeros((65, 2)), r"grids up to 64x64"),
    ],
)
def test_what_cannot_go_in_a_link_is_refused(X, match):
    with pytest.raises(ValueError, match=match):
        encode_grid(X)
