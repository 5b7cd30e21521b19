"""The Usage page's parts: images billed per person per day, the month against its limit."""

from __future__ import annotations

import csv
import io

import pandas as pd
import streamlit as st

from components import frame
from studio.service import UsageDay


def usage() -> None:
    service = frame.studio()
    days = service.people.usage()
    month = service.people.images_billed_this_month()
    limit = service.settings.studio_monthly_image_limit
    if limit:
        st.metric("Images billed this month", f"{month} of {limit}")
        st.progress(min(1.0, month / limit))
    else:
        st.metric("Images billed this month", month, help="No monthly limit is set.")
    if not days:
        st.info("Nothing billed in the last 30 days.", icon=":material/info:")
        return
    table = pd.DataFrame(
        [{"Day": row.day, "Person": row.person, "Images": row.images} for row in days]
    )
    st.subheader("Images billed per person per day, last 30 days")
    st.bar_chart(table, x="Day", y="Images", color="Person")
    st.download_button(
        "Download CSV",
        data=usage_csv(days),
        file_name="studio-usage.csv",
        mime="text/csv",
        icon=":material/download:",
    )


def usage_csv(days: list[UsageDay]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["day", "person", "images"])
    for row in sorted(days, key=lambda row: (row.day, row.person)):
        writer.writerow([row.day, row.person, row.images])
    return buffer.getvalue()
