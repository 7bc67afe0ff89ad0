-- The named segments of the selected segmentation scheme (var crm_segment_scheme), with description
-- and suggested action, plus the labels `Not Active` (in scope, not scored) and `Anonymous` (walk-in
-- customers), so that every customer and every sales line relates to one row (key segment_label).
with

segment_cells as (
    select * from {{ ref('int_rfm_segment_cells') }}
),

segments as (
    select
        rfm_segment as segment_label,
        min(segment_priority) as segment_priority,
        min(segment_description) as segment_description,
        min(segment_suggested_action) as segment_suggested_action,
        count(*) as score_cells,
        true as is_rfm_segment
    from segment_cells
    group by rfm_segment
),

other_labels as (
    select
        {{ crm_not_active() }} as segment_label,
        900 as segment_priority,
        'In-scope customers without a core purchase in the last 12 months (never scored)' as segment_description,
        'Reactivation or onboarding campaigns by lifecycle event' as segment_suggested_action,
        0 as score_cells,
        false as is_rfm_segment
    union all
    select
        'Anonymous' as segment_label,
        999 as segment_priority,
        'Anonymous walk-in customers: sales only, outside CRM' as segment_description,
        'None (not addressable)' as segment_suggested_action,
        0 as score_cells,
        false as is_rfm_segment
),

unioned as (
    select * from segments
    union all
    select * from other_labels
),

final as (
    select
        cast(segment_label as {{ dbt.type_string() }}) as segment_label,
        cast(segment_priority as integer) as segment_priority,
        cast(segment_description as {{ dbt.type_string() }}) as segment_description,
        cast(segment_suggested_action as {{ dbt.type_string() }}) as segment_suggested_action,
        cast(score_cells as integer) as score_cells,
        cast(is_rfm_segment as boolean) as is_rfm_segment
    from unioned
)

select * from final
