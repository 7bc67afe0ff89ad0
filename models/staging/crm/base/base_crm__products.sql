-- Every raw products_master row, typed, with its CRM role, reject reason (null = clean) and flags.
with

source as (
    select * from {{ source('crm', 'products_master') }}
),

category_roles as (
    select * from {{ ref('product_category_roles') }}
),

numbered as (
    select
        source.*,
        {{ crm_load_row_number('filename') }} as source_row_number
    from source
),

trimmed as (
    select
        {{ crm_file_basename('filename') }} as source_file,
        source_row_number,
        nullif(trim(product_id), '') as product_id,
        nullif(trim(product_name), '') as product_name,
        nullif(trim(brand), '') as brand,
        lower(nullif(trim(category), '')) as category,
        nullif(trim(unit_size), '') as unit_size_raw
    from numbered
),

typed as (
    select
        trimmed.*,
        category_roles.crm_role,
        {{ crm_parse_decimal('trimmed.unit_size_raw') }} as unit_size,
        row_number() over (
            partition by trimmed.product_id order by trimmed.source_file, trimmed.source_row_number
        ) as key_occurrence
    from trimmed
    left join category_roles
        on trimmed.category = lower(category_roles.category)
),

checked as (
    select
        *,
        case
            when product_id is null then 'missing_product_id'
            when not {{ crm_regexp_full_match('product_id', "'" ~ var('crm_valid_id_regex') ~ "'") }}
                then 'invalid_product_id'
            when key_occurrence > 1 then 'duplicate_product_id'
            when category is null then 'missing_category'
            when crm_role is null then 'unknown_category'
            when crm_role = 'core' and coalesce(unit_size, 0) <= 0 then 'invalid_unit_size'
        end as reject_reason,
        case
            when unit_size_raw is not null and unit_size is null then 'invalid_unit_size'
        end as dq_flags
    from typed
)

select * from checked
