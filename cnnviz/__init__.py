"""cnnviz: convolution, pooling and their arithmetic, computed the way the lecture writes them.

The library never imports streamlit; pages import it. Arrays are numpy float64.
"""

from cnnviz.geometry import (
    AxisPlan,
    Plan2D,
    check_pool_padding,
    one_d_padding,
    output_size,
    plan_2d,
    plan_axis,
    pool_padding_max,
    pool_padding_ok,
    same_padding,
    transposed_output_size,
)
from cnnviz.inputs import format_grid, load_image, parse_grid
from cnnviz.lessons.presets import EXAMPLES, KERNELS, POOL_EXAMPLES
from cnnviz.ops import (
    conv2d,
    conv_transpose2d,
    convolve1d,
    convolve2d,
    correlate2d,
    pool2d,
    transposed_as_correlation,
)
from cnnviz.trace import (
    POOL_MODES,
    Step,
    Trace,
    as_grid,
    convolution_trace,
    correlation_trace,
    fmt,
    pad2d,
    pool_trace,
    rot180,
)

__all__ = [
    "EXAMPLES",
    "KERNELS",
    "POOL_EXAMPLES",
    "POOL_MODES",
    "AxisPlan",
    "Plan2D",
    "Step",
    "Trace",
    "as_grid",
    "check_pool_padding",
    "conv2d",
    "conv_transpose2d",
    "convolution_trace",
    "convolve1d",
    "convolve2d",
    "correlate2d",
    "correlation_trace",
    "fmt",
    "format_grid",
    "load_image",
    "one_d_padding",
    "output_size",
    "pad2d",
    "parse_grid",
    "plan_2d",
    "plan_axis",
    "pool2d",
    "pool_padding_max",
    "pool_padding_ok",
    "pool_trace",
    "rot180",
    "same_padding",
    "transposed_as_correlation",
    "transposed_output_size",
]
