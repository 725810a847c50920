"""Layer arithmetic: the lecture's worked numbers, then every shape, parameter count and receptive field
checked against the same layers built in PyTorch (presets and seeded random stacks)."""

import numpy as np
import pytest
import torch
from torch import nn

from cnnviz.draw.layers import FieldView, field_figure, output_figure, seen_counts
from cnnviz.lessons.layer_rows import layer_from_row, layer_to_row, layers_from_rows
from cnnviz.lessons.layers import (
    PRESETS,
    Conv,
    Flatten,
    Linear,
    Pool,
    ReLU,
    analyse,
    axis_paths,
    axis_reach,
    paths,
    shape_text,
    torch_code,
)

# --- Worked numbers a person can check by hand (shared/TEACHING.md sections 1, 3, 4, 8) ---------------------


def test_lenet5_parameters_and_shapes():
    p = PRESETS["LeNet-5 (32x32 digits)"]
    a = analyse(p.input_shape, p.layers)
    assert a.error is None
    by_name = {r.name: r for r in a.rows}
    assert [by_name[n].params for n in ("C1", "C3", "C5", "F6", "output")] == [156, 2416, 48120, 10164, 850]
    assert a.params == 61706
    assert [shape_text(by_name[n].shape) for n in ("C1", "S2", "C3", "S4", "C5")] == [
        "6@28x28",
        "6@14x14",
        "16@10x10",
        "16@5x5",
        "120@1x1",
    ]
    assert by_name["C3"].params_formula == "16*(6*5*5 + 1) = 2,416"
    assert by_name["F6"].params_formula == "(120 + 1)*84 = 10,164"


def test_alexnet_first_layer():
    p = PRESETS["AlexNet's first layer (227x227x3)"]
    conv1 = analyse(p.input_shape, p.layers).rows[1]
    assert conv1.shape == (96, 55, 55)
    assert conv1.values == 290_400
    assert conv1.params == 34_944
    assert conv1.size_formula == "H = W = floor((227 + 2*0 - 11) / 4) + 1 = floor(216/4) + 1 = 55"
    assert conv1.field[0].size == 11 and conv1.field[0].jump == 4


@pytest.mark.parametrize(
    ("title", "shape"),
    [
        ("100x100x3, 32 filters 5x5, same, stride 1", (32, 100, 100)),
        ("100x100x3, 32 filters 5x5, same padding, stride 2", (32, 50, 50)),
        ("100x100x3, 32 filters 5x5, valid", (32, 96, 96)),
    ],
)
def test_hundred_by_hundred_examples(title, shape):
    p = PRESETS[title]
    a = analyse(p.input_shape, p.layers)
    assert a.output.shape == shape
    # 5*5*3*32 + 32 = 2,432 (the notes print 2,430, an arithmetic slip; torch agrees below).
    assert a.params == 5 * 5 * 3 * 32 + 32 == 2432


def test_fully_connected_comparison():
    p = PRESETS["Fully connected on a 64x64x3 image"]
    a = analyse(p.input_shape, p.layers)
    assert a.rows[1].shape == (12288,)
    assert a.params == (12288 + 1) * 1000 + (1000 + 1) * 1 == 12_290_001


@pytest.mark.parametrize(("f", "growth"), [(3, [3, 5, 7, 9]), (5, [5, 9, 13, 17])])
def test_stacked_convolutions_grow_the_field(f, growth):
    a = analyse((1, 40, 40), [Conv(2, f)] * len(growth))
    assert [r.field[0].size for r in a.rows[1:]] == growth


def test_pooling_multiplies_the_growth():
    p = PRESETS["Pooling multiplies the growth"]
    a = analyse(p.input_shape, p.layers)
    assert [r.field[0].size for r in a.rows[1:]] == [3, 4, 8, 10, 18]
    assert [r.field[0].jump for r in a.rows[1:]] == [1, 2, 2, 4, 4]


# --- Errors a student can act on; the rows before the error stay ---------------------------------------------


@pytest.mark.parametrize(
    ("layers", "where", "match"),
    [
        ([Conv(4, 3), Conv(4, 9)], 2, r"kernel 9x9 is larger than the padded input 6x6; add padding"),
        ([Conv(4, 3), Linear(10)], 2, r"linear layer needs a flat vector but gets maps 4@6x6; add a flatten"),
        ([Flatten(), Conv(4, 3)], 2, r"conv layer needs C@HxW maps but gets a flat vector of 64"),
        ([Flatten(), Linear(10, in_features=60)], 2, r"expects 60 inputs but the layer before gives 64"),
        ([Pool("max", 2, padding=2)], 1, r"padding 2 is more than half the 2x2 window"),
        ([Conv(4, 3, stride=2, padding="same")], 1, r'padding="same" only works with stride 1'),
        ([Conv(4, 3, dilation=5)], 1, r"dilated to 11x11\) is larger than the padded input 8x8"),
    ],
)
def test_a_layer_that_does_not_fit_stops_the_walk_with_its_name(layers, where, match):
    a = analyse((1, 8, 8), layers)
    assert a.error_index == where
    assert a.error.startswith(f"Layer {where} (")
    with pytest.raises(ValueError, match=match):
        raise ValueError(a.error)
    assert len(a.rows) == where  # the input and every layer before the failing one


def test_the_table_reads_like_a_teacher_types_it():
    for preset in PRESETS.values():
        for layer in preset.layers:
            assert layer_from_row(layer_to_row(layer)) == layer
    row = {"layer": "max pool", "kernel": 3.0, "stride": float("nan"), "padding": None}
    assert layer_from_row(row) == Pool("max", 3)  # blank stride = the window
    row = {"layer": "conv", "out": 8.0, "kernel": 3.0, "padding": " Same "}
    assert layer_from_row(row) == Conv(8, 3, padding="same")
    with pytest.raises(ValueError, match=r"the stride must be a whole number, got 1.5"):
        layer_from_row({"layer": "conv", "out": 8, "kernel": 3, "stride": 1.5})
    with pytest.raises(ValueError, match=r'padding must be a number, "same" or "valid", got \'abc\''):
        layer_from_row({"layer": "conv", "out": 8, "kernel": 3, "padding": "abc"})
    with pytest.raises(ValueError, match=r"padding must be a number, got 'same'"):
        layer_from_row({"layer": "avg pool", "kernel": 2, "padding": "same"})
    with pytest.raises(ValueError, match=r"give the number of filters C_out"):
        layer_from_row({"layer": "conv", "kernel": 3})
    layers, error, where = layers_from_rows(
        [{"layer": "ReLU"}, {}, {"layer": "linear", "out": 0}, {"layer": "flatten"}]
    )
    assert layers == [ReLU()] and where == 3  # the blank row is skipped, the count keeps the table's rows
    assert error == "Layer 3 (linear): the number of outputs (column out) must be at least 1, got 0"


# --- The independent truth: the same layers in PyTorch -------------------------------------------------------


def torch_layers(analysis, *, avg_pools: bool = False) -> list[nn.Module]:
    """The analysed layers as torch modules, built here from the specs (not from `torch_code`)."""
    modules = []
    for prev, row in zip(analysis.rows, analysis.rows[1:], strict=False):
        layer = row.layer
        if isinstance(layer, Conv):
            m = nn.Conv2d(
                prev.shape[0], layer.out_channels, layer.kernel, layer.stride, layer.padding, layer.dilation
            )
        elif isinstance(layer, Pool):
            pool = nn.AvgPool2d if (avg_pools or layer.mode == "avg") else nn.MaxPool2d
            m = pool(layer.size, layer.step, layer.padding)
        elif isinstance(layer, ReLU):
            m = nn.ReLU()
        elif isinstance(layer, Flatten):
            m = nn.Flatten()
        else:
            m = nn.Linear(prev.shape[0], layer.out_features)
        modules.append(m.double())
    return modules


def random_stack(rng: np.random.Generator) -> tuple[tuple[int, int, int], list]:
    """An input shape and a few layers, not all of which fit (the misfits test the error path)."""
    shape = (int(rng.integers(1, 4)), int(rng.integers(6, 40)), int(rng.integers(6, 40)))
    layers = []
    for _ in range(int(rng.integers(1, 6))):
        kind = rng.choice(["conv", "conv", "pool", "relu"])
        if kind == "conv":
            f, s, d = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
            padding = "same" if (s == 1 and rng.random() < 0.3) else int(rng.integers(0, 3))
            layers.append(Conv(int(rng.integers(1, 5)), f, s, padding, d))
        elif kind == "pool":
            f = int(rng.integers(1, 4))
            layers.append(
                Pool(
                    str(rng.choice(["max", "avg"])),
                    f,
                    int(rng.integers(1, 4)),
                    int(rng.integers(0, f // 2 + 1)),
                )
            )
        else:
            layers.append(ReLU())
    if rng.random() < 0.5:
        layers += [Flatten(), Linear(int(rng.integers(1, 20)))]
    return shape, layers


NON_SQUARE = [
    (
        "non-square kernel, stride, padding, dilation",
        (2, 17, 23),
        [Conv(3, (3, 5), (1, 2), (1, 2), (2, 1)), ReLU()],
    ),
    (
        "non-square pooling",
        (1, 15, 20),
        [Conv(2, (1, 3)), Pool("avg", (3, 2), (2, 1), (1, 0)), Flatten(), Linear(5)],
    ),
]
CASES = (
    [(p.title, p.input_shape, list(p.layers)) for p in PRESETS.values()]
    + NON_SQUARE
    + [(f"random {seed}", *random_stack(np.random.default_rng(seed))) for seed in range(40)]
)


@pytest.mark.parametrize(("title", "input_shape", "layers"), CASES, ids=[c[0] for c in CASES])
def test_shapes_and_parameters_match_torch(title, input_shape, layers):
    a = analyse(input_shape, layers)
    x = torch.zeros(1, *input_shape, dtype=torch.float64)  # (N, C, H, W)
    with torch.no_grad():
        for row, module in zip(a.rows[1:], torch_layers(a), strict=True):
            x = module(x)
            assert tuple(x.shape[1:]) == row.shape, row.what
            assert sum(p.numel() for p in module.parameters()) == row.params, row.what
    if a.error is not None:  # torch refuses the same layer (or cannot build it)
        bad = layers[a.error_index - 1]
        with pytest.raises((RuntimeError, ValueError)):
            full = analyse(input_shape, layers[: a.error_index - 1])
            if isinstance(bad, Conv):
                m = nn.Conv2d(
                    full.output.shape[0], bad.out_channels, bad.kernel, bad.stride, bad.padding, bad.dilation
                )
            elif isinstance(bad, Pool):
                m = (nn.MaxPool2d if bad.mode == "max" else nn.AvgPool2d)(bad.size, bad.step, bad.padding)
            else:
                m = nn.Linear(full.output.shape[0] if len(full.output.shape) == 1 else 1, bad.out_features)
            m.double()(x)


@pytest.mark.parametrize(("title", "input_shape", "layers"), CASES[:11], ids=[c[0] for c in CASES[:11]])
def test_the_generated_pytorch_code_runs_and_agrees(title, input_shape, layers, capsys):
    a = analyse(input_shape, layers)
    exec(torch_code(a), {})  # prints the output shape and the parameter count
    shape_line, params_line = capsys.readouterr().out.strip().splitlines()
    assert shape_line == f"torch.Size([1, {', '.join(map(str, a.output.shape))}])"
    assert int(params_line) == a.params


def backprop_region(a, index: int, cell: tuple[int, int]) -> np.ndarray:
    """(H, W) gradient of one output cell of row `index` w.r.t. the input, every weight 1 and every bias 0.

    Max pools become average pools of the same geometry: max pooling routes the gradient to one winner,
    average pooling to every cell of the window, which is what the receptive field counts.
    """
    modules = torch_layers(a, avg_pools=True)[:index]
    for m in modules:
        if isinstance(m, nn.Conv2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    x = torch.ones(1, *a.input_shape, dtype=torch.float64, requires_grad=True)
    y = x
    for m in modules:
        y = m(y)
    y[0, 0, cell[0], cell[1]].backward()
    return x.grad[0].sum(0).numpy()


def solid(a, index: int) -> bool:
    """True when the field up to row `index` is a solid box of real pixels: no dilation gaps, no stride longer
    than its window, and no padding after a layer whose windows left input cells unvisited (that padding
    stands where those cells are, so the recurrence's box covers pixels nothing reads)."""
    for axis in ("rows", "cols"):
        plans = [getattr(p, axis) for p in a.plans(index)]
        for k, p in enumerate(plans):
            later_padding = any(q.pad_before or q.pad_after for q in plans[k + 1 :])
            if p.dilation > 1 or p.stride > p.extent or (later_padding and not p.tiles):
                return False
    return True


@pytest.mark.parametrize(("title", "input_shape", "layers"), CASES, ids=[c[0] for c in CASES])
def test_receptive_field_matches_torch_backprop(title, input_shape, layers):
    a = analyse(input_shape, layers)
    rows = [r.index for r in a.spatial_rows if r.index > 0]
    if not rows:
        return
    index = rows[-1]
    _, h_out, w_out = a.rows[index].shape
    for cell in {(0, 0), (h_out - 1, w_out - 1), (h_out // 2, w_out // 3)}:
        grad = backprop_region(a, index, cell)
        counts = paths(a.plans(index), cell, a.input_shape[1:])
        np.testing.assert_array_equal(grad != 0, counts != 0)
        if counts.any():  # the gradient is the path count times one constant (channels, 1/f^2 per pool)
            scale = grad[counts != 0] / counts[counts != 0]
            np.testing.assert_allclose(scale, scale[0], rtol=1e-12)
        view = FieldView(a, index, cell)
        r0, c0, r1, c1 = view.region
        assert r1 - r0 + 1 == a.rows[index].field[0].size and c1 - c0 + 1 == a.rows[index].field[1].size
        rr, cc = np.nonzero(grad)
        if rr.size:  # every pixel torch says matters lies inside the recurrence's region
            box = (rr.min(), cc.min(), rr.max(), cc.max())
            clip = view.clipped
            assert clip[0] <= box[0] and clip[1] <= box[1] and box[2] <= clip[2] and box[3] <= clip[3]
            if solid(a, index):
                assert box == clip
        else:
            assert view.seen == 0


def test_field_figure_draws_the_counts_with_padding_around_them():
    a = analyse((1, 8, 8), [Conv(1, 3, padding=1), Conv(1, 3, padding=1)])
    view = FieldView(a, 2, (0, 0))
    assert view.region == (-2, -2, 2, 2)
    assert view.clipped == (0, 0, 2, 2)
    fig = field_figure(view)
    z = np.asarray(fig.data[0].z)
    assert z.shape == (10, 10)  # input rows -2..7: two rows of padding the field reaches
    assert fig.data[0].y0 == -2 and fig.data[0].x0 == -2
    np.testing.assert_array_equal(z[2:, 2:], view.counts)
    assert np.isnan(np.asarray(fig.data[1].z, dtype=float)[2:, 2:]).all()  # no grey over the picture
    assert not np.isnan(np.asarray(fig.data[1].z, dtype=float)[0]).any()  # grey over the padding
    shape = fig.layout.shapes[0]
    assert (shape.x0, shape.x1, shape.y0, shape.y1) == (-2.5, 2.5, -2.5, 2.5)
    assert fig.layout.yaxis.autorange == "reversed"


def test_border_cells_see_fewer_pixels():
    a = analyse((1, 8, 8), [Conv(1, 3, padding=1)])
    seen = seen_counts(a, 1)
    assert seen[0, 0] == 4 and seen[0, 3] == 6 and seen[3, 3] == 9
    fig = output_figure(a, 1, (2, 5))
    shape = fig.layout.shapes[0]
    assert (shape.x0, shape.y0) == (4.5, 1.5)
    assert len(fig.data[1].x) == 64  # one invisible click target per cell


@pytest.mark.parametrize(("title", "input_shape", "layers"), CASES, ids=[c[0] for c in CASES])
def test_reach_of_every_cell_equals_the_paths_of_each(title, input_shape, layers):
    a = analyse(input_shape, layers)
    plans = a.plans(len(a.rows) - 1)
    for axis, n in (("rows", input_shape[1]), ("cols", input_shape[2])):
        axis_plans = [getattr(p, axis) for p in plans]
        reach = axis_reach(axis_plans, n)
        expected = np.stack([axis_paths(axis_plans, i, n) != 0 for i in range(reach.shape[0])])
        np.testing.assert_array_equal(reach, expected)
