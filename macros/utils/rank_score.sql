{#-
    Rank-based score from 1 to `bins` (bins = best) from a rank (1 = worst, ties share the lowest
    rank, as rank() gives) among n ranked rows: least(bins, 1 + floor(bins * percent_rank)) with
    percent_rank = (rank - 1) / (n - 1), computed in exact integer arithmetic (no floating-point
    boundary errors):
        score = 1 + #{ k in 1..bins-1 : bins * (rank - 1) >= k * (n - 1) }
    Ties share a rank, so two customers with the same measure always get the same score, and the
    result does not depend on row order (unlike ntile). A single ranked row scores 1
    (percent_rank 0). A null rank (row not ranked) gives null.
-#}
{% macro crm_bin_score(rank_column, ranked_rows, bins) -%}
    case
        when {{ rank_column }} is null then null
        when {{ ranked_rows }} = 1 then 1
        else 1
        {%- for k in range(1, bins | int) %}
            + case when {{ bins }} * ({{ rank_column }} - 1) >= {{ k }} * ({{ ranked_rows }} - 1) then 1 else 0 end
        {%- endfor %}
    end
{%- endmacro %}
