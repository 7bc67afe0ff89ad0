-- In the segment and tier summaries, the shares of customers and of sales of every report month add
-- up to 1 (Not Active is a group of its own, so nobody is left out). Returns the months that do not.
with

segment_summary as (
    select * from {{ ref('kpi_segment_summary') }}
),

tier_summary as (
    select * from {{ ref('kpi_tier_summary') }}
),

shares as (
    select
        'segment' as grouping,
        report_month,
        share_of_customers,
        share_of_sales_12m
    from segment_summary
    union all
    select
        'tier' as grouping,
        report_month,
        share_of_customers,
        share_of_sales_12m
    from tier_summary
),

totals as (
    select
        grouping,
        report_month,
        sum(share_of_customers) as customer_share,
        sum(share_of_sales_12m) as sales_share
    from shares
    group by grouping, report_month
)

select * from totals
where abs(customer_share - 1) > 0.000001 or (sales_share is not null and abs(sales_share - 1) > 0.000001)
