"""Image Studio's core: everything below the pages, with no Streamlit import."""
