"""The lessons: what each page teaches, as numbers and text (numpy only; never plotly, torch or streamlit).

Presets, correlation against convolution, pooling, feature maps, layer arithmetic and the builder's table
(`layer_rows`), learning a filter, "check my work", the network spec and the PyTorch snippets. Built on the
numeric core (`cnnviz.geometry`, `cnnviz.trace`, `cnnviz.ops`); their figures are in `cnnviz.draw`, and
`tests/test_boundaries.py` checks that no lesson imports them.
"""
