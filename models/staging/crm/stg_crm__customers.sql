-- Clean customers: one row per customer_id (the first row of a duplicated key wins).
with

customers as (
    select * from {{ ref('base_crm__customers') }}
),

final as (
    select
        customer_id,
        customer_name,
        customer_group,
        city,
        created_date,
        email,
        mobile_number,
        opt_email,
        opt_sms,
        opt_phone,
        dq_flags,
        source_file,
        source_row_number
    from customers
    where reject_reason is null
)

select * from final
