"""The entry point: `streamlit run app.py`. It routes to the topic pages in pages/, in file-name order.

Each page's label and URL come from its file name, as with Streamlit's pages/ folder
(`pages/3_Pooling.py` -> "Pooling" at /Pooling); the home page is pages/0_Home.py at /.
"""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent / "pages"


def label(path: Path) -> str:
    """ "2_Correlation_vs_convolution.py" -> "Correlation vs convolution"."""
    return path.stem.split("_", 1)[1].replace("_", " ")


files = sorted(PAGES.glob("[0-9]*_*.py"), key=lambda p: int(p.stem.split("_", 1)[0]))
pages = [
    st.Page(str(p), title=label(p), url_path=p.stem.split("_", 1)[1], default=i == 0)
    for i, p in enumerate(files)
]
st.navigation(pages).run()
