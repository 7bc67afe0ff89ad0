{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook=["{{ crm_raw_files_pre_hook() }}"]
    )
}}
-- Every raw transaction line, typed, with the reason of the first parsing gate it fails (null =
-- parsed), the exact-duplicate flag, a hash of the line and the size, modification time and MD5 of
-- its file when the line was loaded. A table, so the CSV files are parsed once.
--
-- Incremental by file: a run parses only the files that are new or whose size or modification
-- time changed since they were loaded (or that were loaded under other gate settings, or that hold
-- a line rejected as future-dated whose date has come), and drops
-- the lines of files that left the folder. A file that only grew (same first bytes, lines
-- appended: macros/crm_raw_files.sql) keeps its lines and only the appended lines are parsed; an
-- appended line that repeats a line already loaded from the file is an exact duplicate. The checks
-- against the masters (unknown customer or product) are made afterwards, in
-- base_crm__sales_transactions, so that a change of the masters applies to every file without
-- parsing it again.
{%- set files = crm_raw_files_to_load() %}
{%- set grown_files = [] %}
{%- for item in files['load'] if item.kept_rows > 0 %}{% do grown_files.append(item) %}{% endfor %}
{#- the raw text of a line: what makes two lines of a file exact duplicates #}
{%- set raw_columns = [
    'invoice_id', 'customer_id', 'invoice_date_raw', 'product_id', 'quantity_raw', 'revenue_raw', 'store_id'
] %}
with

source as (
    select * from {{ source('crm', 'sales_transactions') }}
    where {{ crm_raw_files_filter('filename', files) }}
),

file_stats as (
    {{ crm_raw_file_stats(
        'sales_transactions_*.csv', with_md5=true, path_filter=crm_raw_files_filter('filename', files)
    ) }}
),

kept_lines as (
    -- the lines already loaded from each file that only grew
    {%- for item in grown_files %}
    select
        '{{ item.name | replace("'", "''") }}' as source_file,
        {{ item.kept_rows | int }} as kept_rows
    {{ 'union all' if not loop.last }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as source_file,
        0 as kept_rows
    where false
    {%- endfor %}
),

numbered as (
    select
        source.*,
        {{ crm_load_row_number('filename') }} as load_row_id
    from source
),

file_offsets as (
    select
        filename,
        {{ crm_file_basename('filename') }} as source_file,
        min(load_row_id) - 1 as row_offset
    from numbered
    group by filename
),

trimmed as (
    select
        file_offsets.source_file,
        numbered.load_row_id - file_offsets.row_offset as source_row_number,
        file_stats.file_size as source_file_size,
        file_stats.file_modified_at as source_file_modified_at,
        file_stats.file_md5 as source_file_md5,
        nullif(trim(numbered.invoice_id), '') as invoice_id,
        nullif(trim(numbered.customer_id), '') as customer_id,
        nullif(trim(numbered.invoice_date), '') as invoice_date_raw,
        nullif(trim(numbered.product_id), '') as product_id,
        nullif(trim(numbered.quantity), '') as quantity_raw,
        nullif(trim(numbered.revenue), '') as revenue_raw,
        nullif(trim(numbered.store_id), '') as store_id
    from numbered
    inner join file_offsets
        on numbered.filename = file_offsets.filename
    left join file_stats
        on numbered.filename = file_stats.file_path
    left join kept_lines
        on file_offsets.source_file = kept_lines.source_file
    where numbered.load_row_id - file_offsets.row_offset > coalesce(kept_lines.kept_rows, 0)
),

typed as (
    select
        *,
        {{ crm_parse_iso_date('invoice_date_raw') }} as invoice_date,
        {{ crm_parse_decimal('quantity_raw') }} as quantity,
        {{ crm_parse_decimal('revenue_raw') }} as revenue
    from trimmed
),

checked as (
    select
        *,
        case
            when invoice_id is null then 'missing_invoice_id'
            when customer_id is null then 'missing_customer_id'
            when not {{ crm_regexp_full_match('customer_id', "'" ~ var('crm_valid_id_regex') ~ "'") }}
                then 'invalid_customer_id'
            when product_id is null then 'missing_product_id'
            when not {{ crm_regexp_full_match('product_id', "'" ~ var('crm_valid_id_regex') ~ "'") }}
                then 'invalid_product_id'
            when invoice_date_raw is null then 'missing_invoice_date'
            when invoice_date is null then 'invalid_invoice_date'
            when invoice_date < cast('{{ var("crm_min_valid_date") }}' as date)
                or invoice_date > current_date then 'invoice_date_out_of_range'
            when quantity is null then 'invalid_quantity'
            when revenue is null then 'invalid_revenue'
        end as parse_reject_reason,
        '{{ crm_gate_settings_fingerprint() }}' as gate_settings
    from typed
),

line_contents as (
    -- the lines parsed now and, from a file that grew, the lines kept: an appended line may
    -- repeat one of them
    select
        source_file,
        source_row_number,
        {{ raw_columns | join(',\n        ') }}
    from checked
    {%- if grown_files | length > 0 %}
    union all
    select
        source_file,
        source_row_number,
        {{ raw_columns | join(',\n        ') }}
    from {{ this }}
    where source_file in (
        {%- for item in grown_files %}'{{ item.name | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor -%}
    )
    {%- endif %}
),

content_hashes as (
    select
        *,
        hash({{ raw_columns | join(', ') }}) as content_hash
    from line_contents
),

repeated_hashes as (
    -- candidates only: grouping on a hash is much cheaper than on the seven text columns; a hash
    -- collision adds a candidate, never a duplicate (later_copies compares the columns themselves)
    select
        source_file,
        content_hash
    from content_hashes
    group by source_file, content_hash
    having count(*) > 1
),

later_copies as (
    -- ranking only the (few) lines whose hash repeats in their file, not every line
    select
        content_hashes.source_file,
        content_hashes.source_row_number,
        row_number() over (
            partition by
                content_hashes.source_file,
                content_hashes.{{ raw_columns | join(',\n                content_hashes.') }}
            order by content_hashes.source_row_number
        ) > 1 as is_later_copy
    from content_hashes
    inner join repeated_hashes
        on
            content_hashes.source_file = repeated_hashes.source_file
            and content_hashes.content_hash = repeated_hashes.content_hash
),

final as (
    select
        checked.source_file,
        checked.source_row_number,
        checked.source_file_size,
        checked.source_file_modified_at,
        checked.source_file_md5,
        checked.gate_settings,
        {{ crm_run_started_literal() }} as loaded_at,
        checked.invoice_id,
        checked.customer_id,
        checked.invoice_date_raw,
        checked.product_id,
        checked.quantity_raw,
        checked.revenue_raw,
        checked.store_id,
        checked.invoice_date,
        checked.quantity,
        checked.revenue,
        checked.parse_reject_reason,
        coalesce(later_copies.is_later_copy, false) as is_exact_duplicate,
        hash(
            checked.source_row_number, checked.invoice_id, checked.customer_id, checked.invoice_date_raw,
            checked.product_id, checked.quantity_raw, checked.revenue_raw, checked.store_id
        ) as line_hash
    from checked
    left join later_copies
        on
            checked.source_file = later_copies.source_file
            and checked.source_row_number = later_copies.source_row_number
)

select * from final
