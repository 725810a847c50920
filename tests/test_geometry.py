"""Output-size arithmetic, tiling and the cells a stride never visits."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnnviz import correlation_trace, output_size, plan_2d, plan_axis, same_padding
from cnnviz.geometry import (
    check_pool_padding,
    one_d_padding,
    pool_padding_max,
    pool_padding_ok,
    transposed_output_size,
)


@pytest.mark.parametrize(
    ("n", "f", "s", "p", "d", "expected"),
    [
        (6, 3, 1, 0, 1, 4),  # valid: n - f + 1
        (100, 5, 1, 2, 1, 100),  # same padding
        (100, 5, 2, 2, 1, 50),
        (100, 5, 1, 0, 1, 96),
        (227, 11, 4, 0, 1, 55),  # AlexNet conv1
        (10, 3, 2, 0, 1, 4),  # (10 - 3)/2 + 1 = 4.5, floored
        (7, 3, 2, 0, 1, 3),
        (6, 3, 3, 0, 1, 2),
        (7, 3, 1, 0, 2, 3),  # extent 5
    ],
)
def test_output_size_matches_the_formula_and_torch(n, f, s, p, d, expected):
    assert output_size(n, f, stride=s, padding=p, dilation=d) == expected
    y = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, f, f), stride=s, padding=p, dilation=d)
    assert y.shape[-1] == expected


def test_non_tiling_stride_names_the_cells_never_visited():
    plan = plan_axis(10, 3, stride=2)
    assert plan.size == 4 and not plan.tiles and plan.leftover == 1
    assert plan.unvisited == [9]  # the last column is silently dropped
    assert "floor(3.5)" in plan.formula()
    assert plan_axis(7, 3, stride=2).tiles
    assert plan_axis(7, 3, stride=2).unvisited == []


def test_stride_larger_than_kernel_skips_cells_between_windows():
    plan = plan_axis(8, 2, stride=3)  # windows at 0-1, 3-4, 6-7
    assert plan.unvisited == [2, 5]
    dilated = plan_axis(9, 3, stride=2, dilation=2)  # taps 0,2,4 / 2,4,6 / 4,6,8: odd cells never read
    assert dilated.unvisited == [1, 3, 5, 7]


def test_unvisited_mask_2d_and_padding_mask():
    plan = plan_2d((10, 7), (3, 3), stride=2, padding=(0, 1))
    mask = plan.unvisited_mask()
    assert mask.shape == (10, 7)
    assert mask[9].all() and not mask[:9, :].any()
    pad = plan.pad_mask()
    assert pad.shape == (10, 9) and pad[:, 0].all() and pad[:, -1].all() and not pad[:, 1:-1].any()


def test_visits_count_how_often_each_cell_is_used():
    plan = plan_axis(6, 3)  # border cells are used less than central ones: why padding helps
    assert plan.visits.tolist() == [1, 2, 3, 3, 2, 1]
    padded = plan_axis(6, 3, padding=1)
    assert padded.visits[1:-1].tolist() == [2, 3, 3, 3, 3, 2]


def test_tap_slice_equals_tap_index_column():
    for plan in [
        plan_axis(11, 3, stride=2, padding=1, dilation=2),
        plan_axis(9, 4, stride=3),
        plan_axis(5, 1),
    ]:
        for u in range(plan.f):
            assert np.arange(plan.padded)[plan.tap_slice(u)].tolist() == plan.tap_index[:, u].tolist()


def test_same_padding_splits_like_pytorch():
    assert same_padding(3) == (1, 1)
    assert same_padding(5) == (2, 2)
    assert same_padding(4) == (1, 2)  # the extra cell goes after (bottom/right)
    assert same_padding(3, dilation=2) == (2, 2)


def test_both_padding_conventions_give_the_same_size():
    plan = plan_axis(10, 3, stride=2, padding=1)
    assert plan.formula().endswith(f"= {plan.size}")
    assert plan.formula_total_padding().endswith(f"= {plan.size}")
    assert "floor((10 - 3 + 2 + 2) / 2)" in plan.formula_total_padding()


def test_formula_is_filled_in_with_the_users_numbers():
    assert plan_axis(6, 3).formula() == "floor((6 + 2*0 - 3) / 1) + 1 = floor(3/1) + 1 = 4"
    assert (
        plan_axis(7, 3, stride=1, dilation=2).formula()
        == "floor((7 + 2*0 - (2*(3 - 1) + 1)) / 1) + 1 = floor(2/1) + 1 = 3"
    )


# --- "same" padding with a stride: PyTorch refuses it, TensorFlow pads for ceil(n / s) -----------------------


@pytest.mark.parametrize(
    ("n", "f", "s", "d", "pads"),
    [
        (100, 5, 2, 1, (1, 2)),
        (100, 5, 1, 1, (2, 2)),
        (7, 3, 2, 1, (1, 1)),
        (6, 3, 2, 1, (0, 1)),
        (5, 1, 3, 1, (0, 0)),
    ],
)
def test_tensorflow_same_padding_gives_ceil_n_over_s_outputs(n, f, s, d, pads):
    from cnnviz.geometry import tf_same_padding

    assert tf_same_padding(n, f, s, d) == pads
    assert plan_axis(n, f, stride=s, padding=pads, dilation=d).size == -(-n // s)
    if s == 1:
        assert pads == same_padding(f, d)  # at stride 1 both frameworks agree


def test_same_with_stride_2_explains_both_conventions_with_the_numbers():
    with pytest.raises(
        ValueError, match=r'padding="same" only works with stride 1 \(got stride 2\), as in PyTorch'
    ) as err:
        plan_axis(100, 5, stride=2, padding="same")
    assert 'TensorFlow\'s "same" means ceil(100/2) = 50 outputs' in str(err.value)
    assert "padding 1 before and 2 after" in str(err.value)


def test_to_input_and_to_padded_are_inverse_and_name_the_padding():
    plan = plan_axis(5, 3, padding=(2, 1))
    assert plan.to_padded(0) == 2 and plan.to_input(2) == 0
    positions = np.arange(plan.padded)
    np.testing.assert_array_equal(plan.to_padded(plan.to_input(positions)), positions)
    assert plan.to_input(positions).tolist() == [-2, -1, 0, 1, 2, 3, 4, 5]  # -2, -1 and 5 are padding
    assert plan.reads_input(positions).tolist() == [False, False, True, True, True, True, True, False]
    plan2 = plan_2d((4, 6), (3, 3), padding=((1, 1), (2, 0)))
    assert plan2.to_input(0, 0) == (-1, -2)
    assert plan2.to_padded(3, 5) == (4, 7)


def test_trace_input_position_inverts_padded_position():
    trace = correlation_trace(np.ones((4, 5)), np.ones((3, 3)), padding=(1, 2))
    assert trace.padded_position(0, 0) == (1, 2)
    assert trace.input_position(1, 2) == (0, 0)
    for r in range(-1, 5):
        for c in range(-2, 7):
            assert trace.input_position(*trace.padded_position(r, c)) == (r, c)


@pytest.mark.parametrize(
    ("n", "f", "s", "p", "op", "d"),
    [
        (2, 3, 2, 0, 0, 1),
        (3, 3, 2, 1, 1, 1),
        (4, 2, 3, 0, 2, 1),
        (5, 3, 1, 2, 0, 2),
        (1, 1, 1, 0, 0, 1),
        (3, 4, 2, 1, 1, 3),
    ],
)
def test_transposed_output_size_matches_torch(n, f, s, p, op, d):
    y = F.conv_transpose2d(
        torch.zeros(1, 1, n, n), torch.zeros(1, 1, f, f), stride=s, padding=p, output_padding=op, dilation=d
    )
    size = transposed_output_size(n, f, stride=s, padding=p, output_padding=op, dilation=d)
    assert y.shape[-1] == size
    if op == 0:  # a stride-s convolution of the result has n outputs again
        assert output_size(size, f, stride=s, padding=p, dilation=d) == n


def test_transposed_output_size_refuses_in_words():
    assert transposed_output_size(2, 3, stride=2) == 5  # Dumoulin and Visin's 2x2 -> 5x5
    with pytest.raises(ValueError, match=r"crops the transposed output to nothing .* = -1; use less padding"):
        transposed_output_size(1, 3, padding=2)
    with pytest.raises(ValueError, match="output padding 2 must be smaller than the stride"):
        transposed_output_size(3, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="stride must be at least 1"):
        transposed_output_size(3, 3, stride=0)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize(("n", "m"), [(5, 3), (6, 4), (4, 4), (7, 1), (6, 2)])
def test_one_d_padding_gives_numpy_convolve_sizes(mode, n, m):
    before, after = one_d_padding(mode, m)
    assert plan_axis(n, m, padding=(before, after)).size == np.convolve(np.ones(n), np.ones(m), mode).size
    if mode == "same":
        assert before >= after and before + after == m - 1  # the extra cell before, as numpy crops


def test_one_d_padding_refuses_unknown_modes():
    with pytest.raises(ValueError, match='unknown mode \'circular\'; choose "full", "same" or "valid"'):
        one_d_padding("circular", 3)


@pytest.mark.parametrize(("f", "pad"), [(1, 0), (1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (4, 2), (5, 3)])
def test_pool_padding_rule_is_pytorchs(f, pad):
    try:
        F.max_pool2d(torch.zeros(1, 1, 6, 6), f, stride=1, padding=pad)
        torch_ok = True
    except RuntimeError:  # "pad should be at most half of effective kernel size"
        torch_ok = False
    assert pool_padding_ok(f, pad) == torch_ok == (pad <= pool_padding_max(f))
    plan = plan_2d((6, 6), (f, f), padding=pad)
    if torch_ok:
        check_pool_padding(plan)
    else:
        with pytest.raises(ValueError, match=rf"pooling padding {pad} is more than half the {f}x{f} window"):
            check_pool_padding(plan)


# --- Properties over many settings (hypothesis draws them; each failure shrinks to a smallest case) ----------


AXIS = {"n": st.integers(1, 40), "f": st.integers(1, 7), "s": st.integers(1, 4), "d": st.integers(1, 3)}
PROPERTIES = settings(max_examples=200, deadline=None)


@PROPERTIES
@given(**AXIS, p=st.integers(0, 4), data=st.data())
def test_a_strided_convolution_maps_each_transposed_size_back_to_n(n, f, s, p, d, data):
    op = data.draw(st.integers(0, s - 1), label="output_padding")  # picks one of the s sizes that map to n
    try:
        size = transposed_output_size(n, f, stride=s, padding=p, output_padding=op, dilation=d)
    except ValueError:
        assume(False)  # the padding crops everything: refused, as PyTorch refuses it
    assert output_size(size, f, stride=s, padding=p, dilation=d) == n


@PROPERTIES
@given(**AXIS, before=st.integers(0, 4), after=st.integers(0, 4))
def test_every_tap_reads_the_input_or_padding_and_positions_round_trip(n, f, s, before, after, d):
    assume(d * (f - 1) + 1 <= n + before + after)  # the window fits
    plan = plan_axis(n, f, stride=s, padding=(before, after), dilation=d)
    taps = plan.tap_index  # (size, f) padded positions
    x = plan.to_input(taps)
    np.testing.assert_array_equal(plan.to_padded(x), taps)
    np.testing.assert_array_equal(plan.reads_input(taps), (x >= 0) & (x < n))
    assert (x >= -before).all() and (x < n + after).all()  # padding only where the plan put it


def test_input_slices_cut_the_input_out_of_the_padded_grid():
    trace = correlation_trace(np.arange(12.0).reshape(3, 4), np.ones((2, 2)), padding=((1, 2), (3, 0)))
    np.testing.assert_array_equal(trace.padded[trace.plan.input_slices], trace.X)
    assert trace.plan.rows.input_slice == slice(1, 4) and trace.plan.cols.input_slice == slice(3, 7)
