-- Marts hold only column types that the DuckDB ODBC driver and Power BI handle well (SPEC section 7):
-- no HUGEINT (nor DECIMAL wider than 18 digits, stored as HUGEINT), unsigned integers, LIST / ARRAY,
-- STRUCT, MAP, UNION, INTERVAL, UUID, BLOB, BIT, ENUM or time-zone types. Returns offending columns.
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
