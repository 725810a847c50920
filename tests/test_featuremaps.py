"""cnnviz.lessons.featuremaps: filter banks, the RGB breakdown, 1x1 mixing and the transposed scatter view.

Two kinds of truth: the library's own single-channel ops (each bank map is one `correlate2d` per
kernel) and torch.nn.functional in float64.
"""

import base64
import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from cnnviz import KERNELS, conv2d, conv_transpose2d, correlate2d, pool2d
from cnnviz.draw.featuremaps import colorize, map_figure
from cnnviz.draw.figures import color_range
from cnnviz.lessons.featuremaps import (
    LUMA,
    MIX_PRESETS,
    channel_breakdown,
    filter_bank,
    layer_summary,
    mix_channels,
    mixing_formula,
    parse_mixing,
    to_channels,
    transposed_scatter,
    zero_insertion,
)
from cnnviz.ops import relu

RNG = np.random.default_rng(4)
BANK = {n: KERNELS[n].array for n in ["Vertical edge", "Horizontal edge", "Laplacian", "Box blur"]}


def test_to_channels_puts_channels_first():
    gray = RNG.random((5, 7))
    rgb = RNG.random((5, 7, 3))
    assert to_channels(gray).shape == (1, 5, 7)
    np.testing.assert_array_equal(to_channels(rgb)[2], rgb[:, :, 2])
    with pytest.raises(ValueError, match="must be"):
        to_channels(np.zeros(4))


@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 1), (2, 1), (3, 0)])
def test_bank_maps_equal_correlate2d_per_kernel_on_grayscale(stride, padding):
    X = RNG.integers(0, 256, (1, 13, 11)).astype(float)
    bank = filter_bank(X, BANK, stride=stride, padding=padding, pool_size=2)
    assert bank.names == tuple(BANK)
    for k, K in enumerate(BANK.values()):
        Y = correlate2d(X[0], K, stride=stride, padding=padding)
        np.testing.assert_allclose(bank.maps[k], Y, atol=1e-9)
        np.testing.assert_allclose(bank.activated[k], np.maximum(Y, 0), atol=1e-9)
        np.testing.assert_allclose(bank.pooled[k], pool2d(np.maximum(Y, 0), 2), atol=1e-9)
    assert bank.plan.shape == bank.maps.shape[1:]
    assert bank.pool_plan.shape == bank.pooled.shape[1:]


def test_bank_on_rgb_is_the_same_kernel_on_each_channel_summed_and_matches_torch():
    X = RNG.integers(0, 256, (3, 12, 10)).astype(float)
    bank = filter_bank(X, BANK, padding=1, pool_size=2, pool_mode="avg")
    assert bank.weights.shape == (4, 3, 3, 3) and bank.c_in == 3 and bank.c_out == 4
    for k, K in enumerate(BANK.values()):
        np.testing.assert_allclose(bank.maps[k], correlate2d(X.sum(axis=0), K, padding=1), atol=1e-9)
    Xt, Wt = torch.from_numpy(X)[None], torch.from_numpy(bank.weights)
    ref = F.conv2d(Xt, Wt, padding=1)
    np.testing.assert_allclose(bank.maps, ref[0].numpy(), atol=1e-9)
    pooled = F.avg_pool2d(F.relu(ref), 2)
    np.testing.assert_allclose(bank.pooled, pooled[0].numpy(), atol=1e-9)


def test_bank_errors_say_what_to_do():
    X = np.zeros((1, 6, 6))
    with pytest.raises(ValueError, match="at least one kernel"):
        filter_bank(X, {})
    with pytest.raises(ValueError, match="must share a size"):
        filter_bank(X, {"a": np.ones((3, 3)), "b": np.ones((5, 5))})
    with pytest.raises(ValueError, match="larger than the padded input"):
        filter_bank(np.zeros((1, 2, 2)), BANK)
    with pytest.raises(ValueError, match="pooling size"):
        filter_bank(X, BANK, pool_size=0)


def test_layer_summary_writes_shape_and_parameter_count():
    shape, params = layer_summary(3, 32, (5, 5), (100, 100))
    assert shape == "C_out x H_out x W_out = 32 x 100 x 100 = 320,000 numbers"
    assert params.endswith("= 32*(3*5*5 + 1) = 2,432 parameters")  # 5*5*3*32 weights + 32 biases
    _, one_by_one = layer_summary(3, 2, (1, 1), (4, 4))
    assert one_by_one.endswith("= 8 parameters")


@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 1), (2, 2)])
def test_rgb_breakdown_sums_to_conv2d_and_torch(stride, padding):
    X = RNG.integers(0, 256, (3, 9, 8)).astype(float)
    kernels = RNG.integers(-3, 4, (3, 3, 3)).astype(float)
    bias = -7.5
    b = channel_breakdown(X, kernels, bias, stride=stride, padding=padding)
    for c in range(3):
        np.testing.assert_allclose(b.parts[c], correlate2d(X[c], kernels[c], stride=stride, padding=padding))
    np.testing.assert_allclose(b.total + bias, b.final, atol=1e-9)
    np.testing.assert_allclose(b.final, conv2d(X, kernels[None], [bias], stride=stride, padding=padding)[0])
    ref = F.conv2d(
        torch.from_numpy(X)[None],
        torch.from_numpy(kernels)[None],
        torch.tensor([bias], dtype=torch.float64),
        stride=stride,
        padding=padding,
    )
    np.testing.assert_allclose(b.final, ref[0, 0].numpy(), atol=1e-9)


def test_rgb_breakdown_writes_one_cell_out():
    X = np.stack([np.full((3, 3), 1.0), np.full((3, 3), 2.0), np.full((3, 3), 3.0)])
    kernels = [np.ones((3, 3)), -np.ones((3, 3)), np.eye(3)]
    lines = channel_breakdown(X, kernels, 2.0).pixel_lines(0, 0)
    assert lines[0].startswith("R: 1*1 + 1*1") and lines[0].endswith("= 9")
    assert lines[1].endswith("= -18")
    assert lines[2].endswith("= 9")
    assert lines[3] == "final[0, 0] = 9 + (-18) + 9 + 2 = 2"


def test_rgb_breakdown_errors():
    X = np.zeros((3, 5, 5))
    with pytest.raises(ValueError, match="channel 2 is 2x2 but channel 1's is 3x3"):
        channel_breakdown(X, [np.ones((3, 3)), np.ones((2, 2)), np.ones((3, 3))])
    with pytest.raises(ValueError, match="3 channels but 2 kernels"):
        channel_breakdown(X, [np.ones((3, 3))] * 2)


def test_one_by_one_mixing_is_the_weighted_channel_sum():
    X = RNG.integers(0, 256, (3, 6, 7)).astype(float)
    weights = np.array(MIX_PRESETS["Swap channels (RGB -> BGR): 3 filters"] + (LUMA,))
    bias = np.array([0, 0, 0, 10.0])
    Y = mix_channels(X, weights, bias)
    assert Y.shape == (4, 6, 7)
    np.testing.assert_array_equal(Y[0], X[2])  # the swap
    np.testing.assert_allclose(Y[3], 0.299 * X[0] + 0.587 * X[1] + 0.114 * X[2] + 10, atol=1e-9)
    ref = F.conv2d(
        torch.from_numpy(X)[None], torch.from_numpy(weights)[:, :, None, None], torch.from_numpy(bias)
    )
    np.testing.assert_allclose(Y, ref[0].numpy(), atol=1e-9)


def test_luma_preset_matches_pillows_grayscale():
    rgb = RNG.integers(0, 256, (8, 8, 3)).astype(np.uint8)
    gray = np.asarray(Image.fromarray(rgb).convert("L"), dtype=float)
    mixed = mix_channels(to_channels(rgb), np.array(MIX_PRESETS["Grayscale (0.299 R + 0.587 G + 0.114 B)"]))
    assert np.max(np.abs(mixed[0] - gray)) <= 1.0  # PIL rounds to whole numbers


def test_parse_mixing_reads_optional_bias_and_rejects_bad_rows():
    w, b = parse_mixing([[1, 2, 3], [4, 5, 6]])
    assert w.shape == (2, 3) and np.all(b == 0)
    w, b = parse_mixing([[1, 2, 3, -4]])
    assert b.tolist() == [-4.0]
    with pytest.raises(ValueError, match="needs 3 weights"):
        parse_mixing([[1, 2]])
    assert mixing_formula([0.5, -1, 2], -3) == "out = R*0.5 + G*(-1) + B*2 + (-3)"


@pytest.mark.parametrize("stride,padding,k", [(2, 0, 3), (1, 0, 2), (3, 1, 3), (2, 1, 4)])
def test_transposed_scatter_equals_zero_insertion_and_torch(stride, padding, k):
    X = RNG.integers(-4, 5, (3, 2)).astype(float)
    K = RNG.integers(-3, 4, (k, k)).astype(float)
    stamps, full, Y = transposed_scatter(X, K, stride=stride, padding=padding)
    assert len(stamps) == X.size
    assert full.shape == ((3 - 1) * stride + k, (2 - 1) * stride + k)
    np.testing.assert_allclose(Y, conv_transpose2d(X, K, stride=stride, padding=padding), atol=1e-9)
    ref = F.conv_transpose2d(
        torch.from_numpy(X)[None, None], torch.from_numpy(K)[None, None], stride=stride, padding=padding
    )
    np.testing.assert_allclose(Y, ref[0, 0].numpy(), atol=1e-9)
    Z, flipped, inserted = zero_insertion(X, K, stride=stride, padding=padding)
    np.testing.assert_allclose(correlate2d(Z, flipped), Y, atol=1e-9)
    assert (~inserted).sum() == X.size  # exactly one data cell per input value
    np.testing.assert_array_equal(np.sort(Z[~inserted]), np.sort(X.ravel()))


def test_dumoulin_visin_example_2x2_to_5x5():
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    stamps, full, Y = transposed_scatter(X, np.ones((3, 3)), stride=2)
    assert Y.shape == (5, 5)
    assert (
        stamps[1].index == (0, 1)
        and stamps[1].rows.tolist() == [0, 1, 2]
        and stamps[1].cols.tolist() == [2, 3, 4]
    )
    assert Y[2, 2] == 1 + 2 + 3 + 4  # the centre is where all four stamps overlap
    Z, _, inserted = zero_insertion(X, np.ones((3, 3)), stride=2)
    assert Z.shape == (7, 7)  # one zero between inputs, a 2-cell border
    assert [tuple(p) for p in np.argwhere(~inserted)] == [(2, 2), (2, 4), (4, 2), (4, 4)]


def test_transposed_errors_come_from_the_zero_insertion_checks():
    with pytest.raises(ValueError, match="stride must be"):
        transposed_scatter([[1.0]], np.ones((3, 3)), stride=0)
    with pytest.raises(ValueError, match="crops the transposed output to nothing"):
        transposed_scatter([[1.0]], np.ones((3, 3)), stride=1, padding=2)


def test_relu_and_colorize():
    np.testing.assert_array_equal(relu([[-1, 0, 2]]), [[0, 0, 2]])
    colors = {"colorscale": "gray", "zmin": 0.0, "zmax": 10.0}
    rgb = colorize([[0, 5, 10, 20]], colors)
    assert rgb.dtype == np.uint8 and rgb.shape == (1, 4, 3)
    assert rgb[0, 0].tolist() == [0, 0, 0] and rgb[0, 2].min() >= 250
    np.testing.assert_array_equal(rgb[0, 3], rgb[0, 2])  # beyond zmax is clipped


def _image_of(fig) -> np.ndarray:
    source = fig.data[0].source
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))))


def test_map_figure_small_maps_are_numbered_heatmaps_with_row_0_on_top():
    Z = np.arange(12.0).reshape(3, 4)
    fig = map_figure(Z, title="t")
    assert fig.data[0].type == "heatmap"
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), Z)
    assert fig.data[0].text[1][2] == "6"
    assert fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1]  # reversed: row 0 at the top


def test_map_figure_large_maps_are_images_on_the_same_scale():
    Z = RNG.normal(size=(300, 200))
    colors = color_range([Z])
    fig = map_figure(Z, colors=colors, side_px=150)
    assert fig.data[0].type == "image" and fig.data[1].marker.showscale
    img = _image_of(fig)
    assert img.shape == (150, 100, 3)  # no more pixels than are shown
    assert fig.data[0].dx == pytest.approx(2.0)  # each image pixel covers 2x2 map cells
    block = Z[:2, :2].mean()  # the first pixel is the mean of the cells it covers, then coloured
    expected = colorize([[block]], colors)[0, 0]
    assert np.abs(img[0, 0].astype(int) - expected.astype(int)).max() <= 3
    full = map_figure(Z[:150, :150], colors=colors, side_px=150, heatmap_max=10)
    np.testing.assert_array_equal(_image_of(full), colorize(Z[:150, :150], colors))


def test_transposed_scatter_takes_stride_and_padding_pairs_like_the_ops():
    r = np.random.default_rng(7)
    X, K = r.normal(size=(3, 4)), r.normal(size=(3, 2))
    stamps, full, Y = transposed_scatter(X, K, stride=(2, 1), padding=(1, 0))
    assert full.shape == ((3 - 1) * 2 + 3, (4 - 1) * 1 + 2)
    np.testing.assert_allclose(Y, conv_transpose2d(X, K, stride=(2, 1), padding=(1, 0)), atol=1e-12)
    ref = F.conv_transpose2d(
        torch.tensor(X)[None, None], torch.tensor(K)[None, None], stride=(2, 1), padding=(1, 0)
    )[0, 0].numpy()
    np.testing.assert_allclose(Y, ref, atol=1e-12)


# ---- the Feature maps page's lesson, in words ----


def test_the_strongest_cell_is_found_inside_the_border():
    from cnnviz.lessons.featuremaps import strongest_cell

    Y = np.zeros((5, 5))
    Y[0, 0], Y[3, 2] = 100, -7  # the corner is the padding's own edge: not chosen
    assert strongest_cell(Y) == (3, 2)
    assert strongest_cell(np.array([[1.0, -9]])) == (0, 1)  # too small for a border


def test_the_centre_pixel_is_written_out_for_each_1x1_filter():
    from cnnviz.lessons.featuremaps import centre_pixel_lines, mix_channels

    X = np.arange(27.0).reshape(3, 3, 3)
    weights, biases = np.array([[1.0, 0, 0], [0.5, 0.5, 0]]), np.array([0.0, 2])
    (ci, cj), lines = centre_pixel_lines(X, weights, biases, mix_channels(X, weights, biases))
    assert (ci, cj) == (1, 1)
    assert lines == ["map 1: 4*1 + 13*0 + 22*0 = 4", "map 2: 4*0.5 + 13*0.5 + 22*0 + 2 = 10.5"]


def test_a_stamp_alone_and_the_transposed_sizes_on_the_numbers():
    from cnnviz.lessons.featuremaps import stamp_canvas, transposed_size_text, zero_insertion_text

    stamps, full, _ = transposed_scatter(np.array([[1.0, 2], [3, 4]]), np.ones((3, 3)), stride=2)
    canvas, box = stamp_canvas(stamps[1], full.shape)
    assert box == (0, 2, 2, 4) and np.nansum(canvas) == 18 and np.isnan(canvas[0, 0])
    assert "`(2 - 1)*2 - 2*0 + 3 = 5` rows" in transposed_size_text((2, 2), (3, 3), stride=2, padding=0)
    assert "s - 1 = 1 zero(s)" in zero_insertion_text(3, stride=2, padding=0)
    assert "k - 1 - p = 1 zero(s)" in zero_insertion_text(3, stride=2, padding=1)


def test_the_rgb_check_and_the_two_transposed_routes_in_words():
    from cnnviz.lessons.featuremaps import breakdown_check, transposed_agree_text, zero_insertion

    rgb = np.arange(48.0).reshape(3, 4, 4)
    K = np.array([[1.0, 0, -1]] * 3)
    text = breakdown_check(channel_breakdown(rgb, [K, K, K], 2.0, padding=1), 2.0, K.shape)
    assert "is **0**" in text and "3 x 3 x 3 weights + 1 bias = **28** parameters" in text
    X, Kt = np.array([[1.0, 2], [3, 4]]), np.ones((3, 3))
    _, _, Y = transposed_scatter(X, Kt, stride=2)
    Z, flipped, _ = zero_insertion(X, Kt, stride=2)
    from cnnviz.ops import conv_transpose2d
    from cnnviz.trace import correlation_trace

    words = transposed_agree_text(correlation_trace(Z, flipped), Y, conv_transpose2d(X, Kt, stride=2))
    assert words.startswith("Z is 7x7") and "**agree** cell for cell" in words
