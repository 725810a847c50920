"""The lessons: what each page teaches, as numbers and text (numpy only; never plotly, torch or streamlit).

Presets, correlation against convolution, pooling, feature maps, layer arithmetic, learning a filter, the
network spec and the PyTorch snippets. Built on the numeric core (`cnnviz.geometry`, `cnnviz.trace`,
`cnnviz.ops`).
"""
