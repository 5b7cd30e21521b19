"""Real-browser tests: `streamlit run app.py` driven by Chromium (see support.py)."""
