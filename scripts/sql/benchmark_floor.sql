-- The benchmark's floor (scripts/benchmark.py, docs/performance.md): the snapshot of SPEC section 5
-- in one statement, DuckDB alone, on a clean raw folder with the default seeds (category consumable =
-- core, device = entry, group 'General' = walk-ins). A Python format string: {raw} is the raw folder,
-- {t_high} ... {f_mid} the seed value_tier_calibration's thresholds, {not_active} the label of var
-- crm_not_active_label (benchmark.floor_sql fills them); literal braces are doubled.
create or replace table snap as
with
lines as (                                  -- typed read, products joined: role and units
    select
        l.customer_id,
        l.invoice_id,
        l.invoice_date,
        year(l.invoice_date) * 12 + month(l.invoice_date) - 1 as mi,
        l.quantity,
        p.category,
        cast(l.quantity * p.unit_size as decimal(18, 4)) as units
    from read_csv('{raw}/sales_transactions_*.csv', header = true, auto_detect = false,
        columns = {{'invoice_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'invoice_date': 'DATE',
                   'product_id': 'VARCHAR', 'quantity': 'DECIMAL(18,4)', 'revenue': 'DECIMAL(18,4)',
                   'store_id': 'VARCHAR'}}) as l
    inner join (
        select product_id, lower(trim(category)) as category,
               cast(nullif(unit_size, '') as decimal(18, 4)) as unit_size
        from read_csv('{raw}/products_master.csv', header = true, all_varchar = true)
    ) as p using (product_id)
),
bounds as (select min(mi) as lo, max(mi) as hi from lines),
first_buy as (select customer_id, min(mi) as fm from lines where quantity > 0 group by customer_id),
customers as (                              -- in scope, from the month they exist (SPEC 4)
    select c.customer_id,
           greatest(least(year(c.created) * 12 + month(c.created) - 1, f.fm), b.lo) as from_mi
    from (
        select customer_id, lower(trim(customer_group)) as grp, try_cast(created_date as date) as created
        from read_csv('{raw}/customers_master.csv', header = true, all_varchar = true)
    ) as c
    left join first_buy as f using (customer_id)
    cross join bounds as b
    where coalesce(c.grp, '') <> 'general' and (c.created is not null or f.fm is not null)
),
core as (select * from lines where category = 'consumable' and quantity > 0),
monthly as (                                -- core positive lines per customer x month
    select customer_id, mi, sum(units) as u, min(invoice_date) as fcd, max(invoice_date) as lcd
    from core group by customer_id, mi
),
entry as (
    select customer_id, mi, min(invoice_date) as fed
    from lines where category = 'device' and quantity > 0 group by customer_id, mi
),
invoice_months as (                         -- o6, exact distinct count: an invoice adds 1 when
    select customer_id, mi,                 -- seen and leaves 6 months later (or when seen again)
           lead(mi) over (partition by customer_id, invoice_id order by mi) as nxt
    from (select distinct customer_id, invoice_id, mi from core)
),
o6_deltas as (
    select customer_id, mi, sum(d) as d from (
        select customer_id, mi, 1 as d from invoice_months
        union all
        select customer_id, least(mi + 6, coalesce(nxt, mi + 6)), -1 from invoice_months
    ) group by customer_id, mi
),
spine as (                                  -- dense customer x month
    select c.customer_id, s.mi
    from customers as c cross join bounds as b, generate_series(c.from_mi, b.hi) as s(mi)
),
running as (
    select s.customer_id, s.mi,
        coalesce(sum(m.u) over w, 0) as m_total,
        coalesce(sum(o.d) over w, 0) as o6,
        min(m.fcd) over w as first_core_purchase_date,
        max(m.lcd) over w as last_core_purchase_date,
        min(e.fed) over w as first_entry_purchase_date
    from spine as s
    left join monthly as m using (customer_id, mi)
    left join entry as e using (customer_id, mi)
    left join o6_deltas as o using (customer_id, mi)
    window w as (partition by s.customer_id order by s.mi rows between unbounded preceding and current row)
),
windows as (                                -- a k-month window = running sum - running sum k rows back
    select *,
        m_total - coalesce(lag(m_total, 1) over c, 0) as m1,
        m_total - coalesce(lag(m_total, 6) over c, 0) as m6,
        m_total - coalesce(lag(m_total, 12) over c, 0) as m12,
        m_total - coalesce(lag(m_total, 13) over c, 0) as m13,
        m_total - coalesce(lag(m_total, 24) over c, 0) as m24,
        m_total - coalesce(lag(m_total, 25) over c, 0) as m25
    from running
    window c as (partition by customer_id order by mi)
)
select
    customer_id,
    make_date(cast(mi // 12 as integer), cast(mi % 12 + 1 as integer), 1) as report_month,
    m_total, m1, m6, m12, m13, m24, m25,
    cast(o6 as integer) as o6,
    first_entry_purchase_date, first_core_purchase_date, last_core_purchase_date,
    cast(mi - (year(first_core_purchase_date) * 12 + month(first_core_purchase_date) - 1) + 1 as integer)
        as tenure_months,
    cast(m6 / 6 as decimal(18, 4)) as avg_monthly_consumption,
    case when o6 > 0 then cast(m6 / o6 as decimal(18, 4)) end as avg_order_size,
    case when m12 > 0 then 'Active' else '{not_active}' end as activity_status,
    case
        when m12 <= 0 then null
        when m6 = 0 then 'Passive'
        when m6 >= 6 * {t_high} and m6 >= {a_high} * o6 and o6 >= {f_high} then 'Diamond'
        when m6 >= 6 * {t_high} and o6 >= {f_mid} then 'Platinum'
        when m6 >= 6 * {t_mid_high} then 'Gold'
        when m6 >= 6 * {t_mid} then 'Silver'
        else 'Bronze'
    end as value_tier,
    case
        when m1 > 0 and m1 = m_total then 'New'
        when m12 = 0 and m13 > 0 then 'Lost'
        when m1 > 0 and m1 = m13 and m_total > m13 then 'Reactivated'
    end as lifecycle_event
from windows
