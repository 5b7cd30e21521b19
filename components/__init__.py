"""Streamlit building blocks the pages share. The logic they call lives in `studio/`."""
