"""Usage: what the studio has billed, per person and day (admins only)."""

import streamlit as st

from components import frame, usage

frame.ensure_frame()

st.title("Usage")
if frame.studio().person.admin:
    usage.usage()
else:
    st.error("Only admins can see the studio's usage.", icon=":material/block:")
