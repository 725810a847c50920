"""Streamlit-side helpers shared by the pages (cnnviz itself never imports streamlit)."""
