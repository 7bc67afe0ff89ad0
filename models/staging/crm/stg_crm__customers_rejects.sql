-- Rejected customers_master rows with their raw values and a machine-readable reason.
with

customers as (
    select * from {{ ref('base_crm__customers') }}
),

final as (
    select
        source_file,
        source_row_number,
        reject_reason,
        customer_id,
        customer_name,
        customer_group,
        city,
        created_date_raw,
        email,
        mobile_number,
        opt_email_raw,
        opt_sms_raw,
        opt_phone_raw
    from customers
    where reject_reason is not null
)

select * from final
