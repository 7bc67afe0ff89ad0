-- Every R x F x M score cell for the configured number of bins (var crm_score_bins) with its named
-- segment: the first rule, by priority, of the segmentation seed selected by var
-- crm_segment_scheme (rfm_11 = seed rfm_segments, bank_8 = seed rfm_segments_bank) whose score
-- ranges contain the cell.
with

eleven_segment_rules as (
    select * from {{ ref('rfm_segments') }}
),

bank_rules as (
    select * from {{ ref('rfm_segments_bank') }}
),

rules as (
    select
        'rfm_11' as segment_scheme,
        *
    from eleven_segment_rules
    union all
    select
        'bank_8' as segment_scheme,
        *
    from bank_rules
),

scores as (
    {{ dbt.generate_series(var('crm_score_bins') | int) }}
),

cells as (
    select
        -- integers on every engine (dbt.generate_series multiplies by power(), a double on Spark)
        cast(recency_scores.generated_number as integer) as recency_score,
        cast(frequency_scores.generated_number as integer) as frequency_score,
        cast(monetary_scores.generated_number as integer) as monetary_score
    from scores as recency_scores
    cross join scores as frequency_scores
    cross join scores as monetary_scores
),

matches as (
    select
        cells.recency_score,
        cells.frequency_score,
        cells.monetary_score,
        rules.segment_name,
        rules.priority,
        rules.description,
        rules.suggested_action,
        row_number() over (
            partition by cells.recency_score, cells.frequency_score, cells.monetary_score
            order by rules.priority
        ) as match_order
    from cells
    inner join rules
        on
            rules.segment_scheme = '{{ var("crm_segment_scheme") }}'
            and cells.recency_score between rules.r_min and rules.r_max
            and cells.frequency_score between rules.f_min and rules.f_max
            and cells.monetary_score between rules.m_min and rules.m_max
),

final as (
    select
        cast(cells.recency_score as integer) as recency_score,
        cast(cells.frequency_score as integer) as frequency_score,
        cast(cells.monetary_score as integer) as monetary_score,
        {{ dbt.concat([
            dbt.cast('cells.recency_score', api.Column.translate_type('string')),
            dbt.cast('cells.frequency_score', api.Column.translate_type('string')),
            dbt.cast('cells.monetary_score', api.Column.translate_type('string'))
        ]) }} as rfm_cell,
        matches.segment_name as rfm_segment,
        matches.priority as segment_priority,
        matches.description as segment_description,
        matches.suggested_action as segment_suggested_action
    from cells
    left join matches
        on
            cells.recency_score = matches.recency_score
            and cells.frequency_score = matches.frequency_score
            and cells.monetary_score = matches.monetary_score
            and matches.match_order = 1
)

select * from final
