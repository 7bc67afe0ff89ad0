{#-
    Rank-based score from 1 to `bins` (bins = best): least(bins, 1 + floor(bins * percent_rank())),
    where percent_rank = (rank - 1) / (n - 1) over the partition, computed in exact integer
    arithmetic (no floating-point boundary errors):
        score = 1 + #{ k in 1..bins-1 : bins * (rank - 1) >= k * (n - 1) }
    Ties share a rank, so two customers with the same measure always get the same score, and the
    result does not depend on row order (unlike ntile). A partition of one customer scores 1
    (percent_rank 0). Rows where `include` is false get null and are not ranked.
-#}
{% macro crm_rank_score(measure, partition_by, include, bins, descending=false) -%}
    {%- set window -%}
        (partition by {{ partition_by }}, {{ include }} order by {{ measure }} {{ 'desc' if descending else 'asc' }})
    {%- endset -%}
    {%- set n_rows -%}count(*) over (partition by {{ partition_by }}, {{ include }}){%- endset -%}
    case
        when not ({{ include }}) then null
        when {{ n_rows }} = 1 then 1
        else 1
        {%- for k in range(1, bins | int) %}
            + case when {{ bins }} * (rank() over {{ window }} - 1) >= {{ k }} * ({{ n_rows }} - 1) then 1 else 0 end
        {%- endfor %}
    end
{%- endmacro %}
