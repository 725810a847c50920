"""Drawing: Plotly figures, Pillow pictures, the stepper's payload and the exports (never streamlit, never torch).

One palette (`cnnviz.draw.palette`), one grid builder (`cnnviz.draw.figures`), one module per topic.
"""
