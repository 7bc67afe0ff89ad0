-- How far to trust the customer value predictions (SPEC section 9): for the calibration month (var
-- crm_value_calibration_month; default the latest report month with 6 later months) and each of
-- the next months up to 12 (and up to the last report month), the repeat occasions that the chosen
-- model predicted at the calibration month for the calibration month's customers, against the
-- occasions those customers actually made from the calibration month's end to the end of that
-- month: in total and per calibration frequency x = 0, 1, ..., 6, 7+ (the paper's conditional
-- expectations check). Empty when no month has a later month.
with

holdout as (
    select * from {{ ref('int_customer_value__holdout_predictions') }}
),

inputs as (
    select * from {{ ref('int_customer_value__inputs') }}
),

calibration as (
    select distinct
        calibration_month,
        calibration_month_index,
        model
    from holdout
),

calibration_customers as (
    select
        inputs.customer_id,
        inputs.x,
        case when inputs.x >= 7 then '7+' else cast(inputs.x as {{ dbt.type_string() }}) end as x_group,
        least(inputs.x, 7) as x_group_order
    from inputs
    inner join calibration
        on inputs.report_month_index = calibration.calibration_month_index
),

later_months as (
    select
        inputs.customer_id,
        inputs.report_month,
        inputs.report_month_index - calibration.calibration_month_index as months_ahead,
        inputs.x
    from inputs
    inner join calibration
        on
            inputs.report_month_index > calibration.calibration_month_index
            and inputs.report_month_index <= calibration.calibration_month_index + 12
),

actual_by_group as (
    select
        later_months.months_ahead,
        later_months.report_month,
        calibration_customers.x_group,
        calibration_customers.x_group_order,
        count(*) as customers,
        sum(later_months.x - calibration_customers.x) as actual_repeat_occasions
    from later_months
    inner join calibration_customers
        on later_months.customer_id = calibration_customers.customer_id
    group by
        later_months.months_ahead,
        later_months.report_month,
        calibration_customers.x_group,
        calibration_customers.x_group_order
),

predicted_by_group as (
    select
        months_ahead,
        case when x >= 7 then '7+' else cast(x as {{ dbt.type_string() }}) end as x_group,
        sum(customers) as customers,
        sum(customers * expected_occasions) as predicted_repeat_occasions
    from holdout
    group by months_ahead, case when x >= 7 then '7+' else cast(x as {{ dbt.type_string() }}) end
),

by_group as (
    select
        actual_by_group.months_ahead,
        actual_by_group.report_month,
        actual_by_group.x_group,
        actual_by_group.x_group_order,
        actual_by_group.customers,
        predicted_by_group.customers as predicted_customers,
        predicted_by_group.predicted_repeat_occasions,
        actual_by_group.actual_repeat_occasions
    from actual_by_group
    inner join predicted_by_group
        on
            actual_by_group.months_ahead = predicted_by_group.months_ahead
            and actual_by_group.x_group = predicted_by_group.x_group
),

with_total as (
    select * from by_group
    union all
    select
        months_ahead,
        report_month,
        'total' as x_group,
        8 as x_group_order,
        sum(customers) as customers,
        sum(predicted_customers) as predicted_customers,
        sum(predicted_repeat_occasions) as predicted_repeat_occasions,
        sum(actual_repeat_occasions) as actual_repeat_occasions
    from by_group
    group by months_ahead, report_month
),

final as (
    select
        cast(calibration.calibration_month as date) as calibration_month,
        cast(with_total.report_month as date) as report_month,
        cast(with_total.months_ahead as integer) as months_ahead,
        cast(with_total.x_group as {{ dbt.type_string() }}) as x_group,
        cast(with_total.x_group_order as integer) as x_group_order,
        cast(calibration.model as {{ dbt.type_string() }}) as model,
        cast(with_total.customers as bigint) as customers,
        cast(with_total.predicted_customers as bigint) as predicted_customers,
        cast(with_total.predicted_repeat_occasions as double) as predicted_repeat_occasions,
        cast(with_total.actual_repeat_occasions as bigint) as actual_repeat_occasions,
        cast(with_total.predicted_repeat_occasions / with_total.customers as double) as predicted_per_customer,
        cast(with_total.actual_repeat_occasions * 1.0 / with_total.customers as double) as actual_per_customer
    from with_total
    cross join calibration
)

select * from final
