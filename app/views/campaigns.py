"""Campaign lists: filter the month's customers and download CSV or Excel (scripts/campaign_list.py)."""

import streamlit as st

import crm_data as data
import crm_ui as ui

month, segment = ui.current_filters()
st.title("Campaign lists")
ui.filter_caption(month, segment)
st.caption(
    "The same filters as `scripts/campaign_list.py`. A list for a channel contains only customers "
    "who consented to that channel. The sidebar segment is the default segment filter."
)

options = data.campaign_options()
segment_options = [s for s in data.segments()["segment_label"] if s != data.ANONYMOUS]
c1, c2, c3, c4 = st.columns(4)
status = c1.multiselect("Activity status", data.STATUS_ORDER, key="camp_status")
tiers = c2.multiselect("Value tier", data.TIER_ORDER, key="camp_tier")
events = c3.multiselect("Lifecycle event", data.EVENT_ORDER, key="camp_event")
chosen_segments = c4.multiselect(
    "Segment", segment_options, key="camp_segment", default=[segment] if segment in segment_options else []
)
c1, c2, c3, c4 = st.columns(4)
channels = data.campaign_list.CHANNELS  # {channel: (consent column, contact column)}, var crm_contact_channels
channel = c1.selectbox(
    "Consent channel",
    ["any", *channels],
    key="camp_channel",
    help=" or ".join(f"{name} keeps only customers with {consent} = 1" for name, (consent, _) in channels.items())
    + ".",
)
groups = c2.multiselect("Customer group", options.get("group", []), key="camp_group")
cities = c3.multiselect("City", options.get("city", []), key="camp_city")
stores = c4.multiselect("Store (bought there up to the month end)", options.get("store", []), key="camp_store")
include_pii = st.checkbox(
    "Include personal data (name and contact columns)",
    key="camp_pii",
    value=False,
    help="Without it the list holds customer ids and attributes only. Names and contact details are read from the "
    "build warehouse (never from the serving file), and every download holding them is recorded in the export "
    "log with your user name, the filters and the row count.",
)
st.caption(
    "Both files are safe to open in Excel: text such as a name starting with `=`, `+`, `-` or `@` "
    "is kept as text, never run as a formula (in the CSV it starts with an apostrophe `'`). "
    "Numbers, and phone numbers like `+254712345678`, are written unchanged."
)

filters = dict(
    activity_status=status,
    value_tier=tiers,
    lifecycle_event=events,
    segment=chosen_segments,
    channel=None if channel == "any" else channel,
    customer_group=groups,
    city=cities,
    store=stores,
    include_pii=include_pii,
)
# The page shows the list's size and its first rows (both counted and cut in DuckDB); the whole list is
# read only when a download or the campaign record asks for it.
size = data.campaign_list_size(month, **filters)
try:
    preview = data.campaign_list_preview(month, **filters)
except data.pii.ContactsUnavailable as error:
    st.error(f"Contact details are not available right now: {error}")
    st.stop()
st.metric("Customers in the list", f"{size:,}", border=True, width="content")
st.dataframe(preview, hide_index=True, height=380)
if size > len(preview):
    st.caption(f"Preview of the first {len(preview):,} of {size:,} rows; the downloads hold every row.")


def whole_list():
    """The whole list (build_campaign_list, cached per file version and filters)."""
    return data.campaign_list_frame(month, **filters)


stem = f"campaign_{ui.month_label(month)}" + (f"_{filters['channel']}" if filters["channel"] else "")
if include_pii:
    st.caption(
        "This list holds personal data: each download is recorded in the export log "
        "(`warehouse/logs/pii_exports.log`: time, user, filters, rows; never the data). Keep the file where only "
        "you and the campaign tool can read it, and delete it after the campaign."
    )
changed_cells = data.control_character_cells(preview)
if changed_cells:
    st.warning(
        f"{changed_cells:,} cell(s) of the preview hold control characters that Excel files cannot store: the "
        "Excel download shows each as \ufffd; the CSV keeps them as they are."
    )
logged_filters = {"month": ui.month_label(month), **{k: v for k, v in filters.items() if k != "include_pii"}}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download_buttons(list_of, stem: str, key: str, labels: tuple[str, str], **options) -> None:
    """A CSV and an Excel download button side by side. The file is made when its button is clicked
    (deferred, not on every rerun) from list_of(); one holding personal data is logged (crm_data)."""
    left, right, _ = st.columns([1, 1, 3])
    buttons = (
        (left, labels[0], "csv", "text/csv", data.campaign_csv_bytes),
        (right, labels[1], "xlsx", XLSX_MIME, data.campaign_xlsx_bytes),
    )
    for column, label, suffix, mime, to_bytes in buttons:
        file_name = f"{stem}.{suffix}"
        download = {"page": "Campaign lists", "file_name": file_name, "filters": logged_filters}
        column.download_button(
            label,
            lambda to_bytes=to_bytes, download=download: to_bytes(list_of(), download),
            file_name=file_name,
            mime=mime,
            key=f"{key}_{suffix}",
            on_click="ignore",
            **options,
        )


download_buttons(whole_list, stem, "camp", ("Download CSV", "Download Excel"), icon=":material/download:")

# Recording the list as a campaign with a holdout (SPEC section 11; scripts/campaign_record.py).
campaign_list = data.campaign_list  # scripts/campaign_list.py, as imported by crm_data
st.subheader("Record as a campaign")
st.caption(
    "Splits the list reproducibly into a contacted group and a held-out group (not contacted), writes the "
    f"record into the campaigns folder (`{campaign_list.campaign_record.campaign_dir()}`) and offers the "
    "contacted group for sending. With a consent channel, only consenting customers are members. The next "
    "`make build` measures the response on the Campaign results page."
)
with st.form("camp_record_form"):
    c1, c2, c3 = st.columns([2, 1, 1])
    campaign_name = c1.text_input("Campaign name", key="camp_record_name")
    send_date = c2.date_input("Send date", key="camp_record_send_date")
    holdout_share = c3.number_input(
        "Holdout share",
        min_value=0.0,
        max_value=0.9,
        step=0.05,
        value=campaign_list.campaign_record.DEFAULT_HOLDOUT_SHARE,
        key="camp_record_share",
    )
    record_clicked = st.form_submit_button("Record campaign", icon=":material/save:")
if record_clicked:
    try:
        contacted, campaign, record_path = campaign_list.record_list_as_campaign(
            whole_list(),
            month,
            campaign_name=campaign_name,
            channel=filters["channel"],
            send_date=send_date,
            holdout_share=holdout_share,
        )
    except ValueError as error:
        st.error(str(error))
    else:
        st.session_state["camp_recorded"] = (
            campaign.campaign_id,
            len(campaign.contacted),
            len(campaign.holdout),
            str(record_path),
            contacted,
        )
if "camp_recorded" in st.session_state:
    campaign_id, n_contacted, n_holdout, record_path, contacted = st.session_state["camp_recorded"]
    st.success(
        f"Campaign `{campaign_id}` recorded in `{record_path}`: {n_contacted:,} contacted, {n_holdout:,} held out."
    )
    download_buttons(
        lambda: contacted,
        f"{campaign_id}_contacted",
        "camp_contacted",
        ("Contacted list (CSV)", "Contacted list (Excel)"),
    )
