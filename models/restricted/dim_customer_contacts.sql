-- Contact details of every customer (personal data, SPEC section 12): the only model past staging
-- that holds them. It lives in the schema `restricted` of the build warehouse, which is never
-- published to the serving file or Parquet; campaign lists with --include-pii (and the app's
-- campaign page) read it there. With var crm_serving_include_pii it is also published to the
-- restricted serving file crm_serving_restricted.duckdb (docs/powerbi.md).
with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

final as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(customer_name as {{ dbt.type_string() }}) as customer_name,
        cast(email as {{ dbt.type_string() }}) as email,
        cast(mobile_number as {{ dbt.type_string() }}) as mobile_number
    from customers
)

select * from final
