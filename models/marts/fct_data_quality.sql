{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail'
    )
}}
-- What each build did with every raw row, per raw source, file, disposition and reason, so that the
-- business sees what was set aside. Appended at every build (history by build_id); each raw row is
-- counted exactly once per build: clean, clean but flagged, or rejected.
with

transactions as (
    select * from {{ ref('stg_crm__sales_transactions') }}
),

transaction_rejects as (
    select * from {{ ref('stg_crm__sales_transactions_rejects') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

customer_rejects as (
    select * from {{ ref('stg_crm__customers_rejects') }}
),

products as (
    select * from {{ ref('stg_crm__products') }}
),

product_rejects as (
    select * from {{ ref('stg_crm__products_rejects') }}
),

campaign_members as (
    select * from {{ ref('stg_crm__campaign_members') }}
),

campaign_member_rejects as (
    select * from {{ ref('stg_crm__campaign_members_rejects') }}
),

-- each source's clean rows (flagged when they carry a quality flag) and its rejected rows: the
-- staging model pairs split every raw row exactly once
classified_rows as (
    select
        'sales_transactions' as raw_source,
        source_file,
        case when is_exact_duplicate then 'flagged' else 'clean' end as disposition,
        case when is_exact_duplicate then 'exact_duplicate' else 'ok' end as reason,
        revenue
    from transactions
    union all
    select
        'sales_transactions' as raw_source,
        source_file,
        'rejected' as disposition,
        reject_reason as reason,
        parsed_revenue as revenue
    from transaction_rejects
    union all
    select
        'customers_master' as raw_source,
        source_file,
        case when dq_flags is not null then 'flagged' else 'clean' end as disposition,
        coalesce(dq_flags, 'ok') as reason,
        null as revenue
    from customers
    union all
    select
        'customers_master' as raw_source,
        source_file,
        'rejected' as disposition,
        reject_reason as reason,
        null as revenue
    from customer_rejects
    union all
    select
        'products_master' as raw_source,
        source_file,
        case when dq_flags is not null then 'flagged' else 'clean' end as disposition,
        coalesce(dq_flags, 'ok') as reason,
        null as revenue
    from products
    union all
    select
        'products_master' as raw_source,
        source_file,
        'rejected' as disposition,
        reject_reason as reason,
        null as revenue
    from product_rejects
    union all
    select
        'campaign_members' as raw_source,
        source_file,
        'clean' as disposition,
        'ok' as reason,
        null as revenue
    from campaign_members
    union all
    select
        'campaign_members' as raw_source,
        source_file,
        'rejected' as disposition,
        reject_reason as reason,
        null as revenue
    from campaign_member_rejects
),

final as (
    select
        cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as build_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as built_at,
        cast(raw_source as {{ dbt.type_string() }}) as raw_source,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(disposition as {{ dbt.type_string() }}) as disposition,
        cast(reason as {{ dbt.type_string() }}) as reason,
        cast(count(*) as bigint) as row_count,
        cast(sum(revenue) as decimal(18, 4)) as parsed_revenue
    from classified_rows
    group by raw_source, source_file, disposition, reason
)

select * from final
