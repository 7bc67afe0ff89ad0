-- Nothing is lost: for every raw file, the rows read straight from the CSV equal the clean rows plus
-- the rejected rows (SPEC section 1). Returns the files that do not reconcile.
-- In `dbt build`, the transaction files checked are those parsed by this run (the others have not
-- changed since the run that parsed and checked them); `dbt test` checks every file.
{%- set files = crm_transaction_files_to_check() %}
{#- campaign files: an absent or empty campaigns folder has nothing to reconcile -#}
{%- set campaign_files = crm_campaign_files() %}
with

raw_counts as (
    {%- for source_name in ['sales_transactions', 'customers_master', 'products_master'] %}
    select
        '{{ source_name }}' as raw_source,
        {{ crm_file_basename('filename') }} as source_file,
        count(*) as raw_rows
    from {{ source('crm', source_name) }}
    {%- if source_name == 'sales_transactions' %}
    where {{ crm_raw_files_filter('filename', files) }}
    {%- endif %}
    group by filename
    {{ 'union all' if not loop.last }}
    {%- endfor %}
    {%- if campaign_files is none or campaign_files | length > 0 %}
    union all
    select
        'campaign_members' as raw_source,
        {{ crm_file_basename('filename') }} as source_file,
        count(*) as raw_rows
    from {{ source('crm_campaigns', 'campaign_members') }}
    group by filename
    {%- endif %}
),

landed_rows as (
    select
        'sales_transactions' as raw_source,
        source_file
    from {{ ref('stg_crm__sales_transactions') }}
    where {{ crm_raw_files_filter('source_file', files, by_name=true) }}
    union all
    select
        'sales_transactions' as raw_source,
        source_file
    from {{ ref('stg_crm__sales_transactions_rejects') }}
    where {{ crm_raw_files_filter('source_file', files, by_name=true) }}
    union all
    select
        'customers_master' as raw_source,
        source_file
    from {{ ref('stg_crm__customers') }}
    union all
    select
        'customers_master' as raw_source,
        source_file
    from {{ ref('stg_crm__customers_rejects') }}
    union all
    select
        'products_master' as raw_source,
        source_file
    from {{ ref('stg_crm__products') }}
    union all
    select
        'products_master' as raw_source,
        source_file
    from {{ ref('stg_crm__products_rejects') }}
    union all
    select
        'campaign_members' as raw_source,
        source_file
    from {{ ref('stg_crm__campaign_members') }}
    union all
    select
        'campaign_members' as raw_source,
        source_file
    from {{ ref('stg_crm__campaign_members_rejects') }}
),

landed_counts as (
    select
        raw_source,
        source_file,
        count(*) as landed_rows
    from landed_rows
    group by raw_source, source_file
),

compared as (
    select
        coalesce(raw_counts.raw_source, landed_counts.raw_source) as raw_source,
        coalesce(raw_counts.source_file, landed_counts.source_file) as source_file,
        coalesce(raw_counts.raw_rows, 0) as raw_rows,
        coalesce(landed_counts.landed_rows, 0) as landed_rows
    from raw_counts
    full outer join landed_counts
        on
            raw_counts.raw_source = landed_counts.raw_source
            and raw_counts.source_file = landed_counts.source_file
)

select * from compared
where raw_rows <> landed_rows
