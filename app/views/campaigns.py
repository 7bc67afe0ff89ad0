"""Campaign lists: filter the month's customers and download CSV or Excel (scripts/campaign_list.py)."""
import streamlit as st

import crm_data as data
import crm_ui as ui

month, segment = ui.current_filters()
st.title("Campaign lists")
ui.filter_caption(month, segment)
st.caption("The same filters as `scripts/campaign_list.py`. A list for a channel contains only customers "
           "who consented to that channel. The sidebar segment is the default segment filter.")

options = data.campaign_options()
segment_options = [s for s in data.segments()["segment_label"] if s != data.ANONYMOUS]
c1, c2, c3, c4 = st.columns(4)
status = c1.multiselect("Activity status", data.STATUS_ORDER, key="camp_status")
tiers = c2.multiselect("Value tier", data.TIER_ORDER, key="camp_tier")
events = c3.multiselect("Lifecycle event", data.EVENT_ORDER, key="camp_event")
chosen_segments = c4.multiselect("Segment", segment_options, key="camp_segment",
                                 default=[segment] if segment in segment_options else [])
c1, c2, c3, c4 = st.columns(4)
channel = c1.selectbox("Consent channel", ["any", "email", "sms", "phone"], key="camp_channel",
                       help="email, sms or phone keeps only customers with opt_<channel> = 1.")
groups = c2.multiselect("Customer group", options.get("group", []), key="camp_group")
cities = c3.multiselect("City", options.get("city", []), key="camp_city")
stores = c4.multiselect("Store (bought there up to the month end)", options.get("store", []), key="camp_store")
include_pii = st.checkbox("Include personal data (name and contact columns)", key="camp_pii", value=False,
                          help="Without it the list holds customer ids and attributes only.")
st.caption("Both files are safe to open in Excel: text such as a name starting with `=`, `+`, `-` or `@` "
           "is kept as text, never run as a formula (in the CSV it starts with an apostrophe `'`). "
           "Numbers, and phone numbers like `+254712345678`, are written unchanged.")

filters = dict(
    activity_status=status, value_tier=tiers, lifecycle_event=events, segment=chosen_segments,
    channel=None if channel == "any" else channel, customer_group=groups, city=cities, store=stores,
    include_pii=include_pii,
)
frame = data.campaign_list_frame(month, **filters)
st.metric("Customers in the list", f"{len(frame):,}", border=True, width="content")
st.dataframe(frame.head(500), hide_index=True, height=380)
if len(frame) > 500:
    st.caption(f"Preview of the first 500 of {len(frame):,} rows; the downloads hold every row.")

stem = f"campaign_{ui.month_label(month)}" + (f"_{filters['channel']}" if filters["channel"] else "")
left, right, _ = st.columns([1, 1, 3])
# Files are generated when a button is clicked (deferred), not on every rerun.
left.download_button("Download CSV", lambda: data.campaign_csv_bytes(frame), file_name=f"{stem}.csv",
                     mime="text/csv", key="camp_csv", icon=":material/download:", on_click="ignore")
right.download_button(
    "Download Excel", lambda: data.campaign_xlsx_bytes(frame), file_name=f"{stem}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="camp_xlsx",
    icon=":material/download:", on_click="ignore",
)
