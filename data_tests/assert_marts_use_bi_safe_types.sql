-- Marts hold only column types that the DuckDB ODBC driver and Power BI handle well (SPEC section 7):
-- no HUGEINT (nor DECIMAL wider than 18 digits, stored as HUGEINT), unsigned integers, LIST / ARRAY,
-- STRUCT, MAP, UNION, INTERVAL, UUID, BLOB, BIT, ENUM or time-zone types. Returns offending columns.
-- Runs after every mart is built (and so before the publish node); a new mart is added here.
-- depends_on: {{ ref('dim_customers') }}
-- depends_on: {{ ref('dim_dates') }}
-- depends_on: {{ ref('dim_products') }}
-- depends_on: {{ ref('dim_rfm_segments') }}
-- depends_on: {{ ref('dim_stores') }}
-- depends_on: {{ ref('fct_campaign_members') }}
-- depends_on: {{ ref('fct_customer_monthly_snapshot') }}
-- depends_on: {{ ref('fct_customer_stores') }}
-- depends_on: {{ ref('fct_customer_value') }}
-- depends_on: {{ ref('fct_customer_value_model_fits') }}
-- depends_on: {{ ref('fct_data_quality') }}
-- depends_on: {{ ref('fct_sales') }}
-- depends_on: {{ ref('kpi_campaign_response') }}
-- depends_on: {{ ref('kpi_cohort_retention') }}
-- depends_on: {{ ref('kpi_customer_grid') }}
-- depends_on: {{ ref('kpi_customer_rfm') }}
-- depends_on: {{ ref('kpi_customer_value_by_segment') }}
-- depends_on: {{ ref('kpi_customer_value_by_tier') }}
-- depends_on: {{ ref('kpi_customer_value_leaving') }}
-- depends_on: {{ ref('kpi_customer_value_p_alive_bands') }}
-- depends_on: {{ ref('kpi_customer_value_validation') }}
-- depends_on: {{ ref('kpi_monthly_board') }}
-- depends_on: {{ ref('kpi_monthly_board_by_segment') }}
-- depends_on: {{ ref('kpi_rfm_score_bands') }}
-- depends_on: {{ ref('kpi_sales_by_category') }}
-- depends_on: {{ ref('kpi_sales_by_period') }}
-- depends_on: {{ ref('kpi_segment_migration') }}
-- depends_on: {{ ref('kpi_segment_summary') }}
-- depends_on: {{ ref('kpi_tier_migration') }}
-- depends_on: {{ ref('kpi_tier_migration_by_segment') }}
-- depends_on: {{ ref('kpi_tier_summary') }}

with

columns as (
    select
        table_name,
        column_name,
        upper(data_type) as data_type,
        numeric_precision
    from information_schema.columns
    where table_schema = 'marts'
),

final as (
    select * from columns
    where
        data_type not in ('VARCHAR', 'BOOLEAN', 'SMALLINT', 'INTEGER', 'BIGINT', 'DOUBLE', 'DATE', 'TIMESTAMP')
        and not (data_type like 'DECIMAL(%' and numeric_precision <= 18)
)

select * from final
