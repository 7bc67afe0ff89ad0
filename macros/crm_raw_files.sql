{#-
    File-level incremental loading of the transaction files (base_crm__sales_transaction_lines).
    A file is parsed again when it is new, when its size or modification time changed, when the
    gate settings (vars crm_valid_id_regex, crm_min_valid_date) changed since it was loaded, or when
    it holds lines rejected as dated in the future whose date has come since (the gate compares
    with current_date); the lines of a file that left the folder are dropped. `dbt build --full-refresh` parses every file.
-#}

{#- size and modification time of the raw files matching `pattern`, without reading them -#}
{% macro crm_raw_file_stats(pattern) -%}
    {{ return(adapter.dispatch('crm_raw_file_stats', 'crm_warehouse')(pattern)) }}
{%- endmacro %}

{% macro default__crm_raw_file_stats(pattern) -%}
    select
        filename as file_path,
        {{ crm_file_basename('filename') }} as source_file,
        cast(size as bigint) as file_size,
        cast(epoch_ms(last_modified) as bigint) as file_modified_at
    from read_blob('{{ crm_raw_dir() }}/{{ pattern }}')
{%- endmacro %}

{% macro crm_gate_settings_fingerprint() -%}
    {{- local_md5(var('crm_valid_id_regex') ~ '|' ~ var('crm_min_valid_date')) -}}
{%- endmacro %}

{#- {'all': parse every file, 'load': [[path, file name], ...] to parse, 'drop': [file names] to delete} -#}
{% macro crm_raw_files_to_load() -%}
    {%- if not execute or not crm_is_incremental() -%}
        {{ return({'all': true, 'load': [], 'drop': []}) }}
    {%- endif -%}
    {%- set query -%}
        with
        current_files as (
            {{ crm_raw_file_stats('sales_transactions_*.csv') }}
        ),
        loaded as (
            select distinct source_file, source_file_size, source_file_modified_at, gate_settings
            from {{ this }}
        ),
        dated_in_range_now as (
            -- lines rejected as dated in the future whose date has come since: their file is
            -- parsed again, as a full refresh today would accept them
            select distinct source_file
            from {{ this }}
            where
                parse_reject_reason = 'invoice_date_out_of_range'
                and invoice_date <= current_date
                and invoice_date >= cast('{{ var("crm_min_valid_date") }}' as date)
        ),
        unchanged as (
            select current_files.source_file
            from current_files
            inner join loaded
                on
                    current_files.source_file = loaded.source_file
                    and current_files.file_size = loaded.source_file_size
                    and current_files.file_modified_at = loaded.source_file_modified_at
                    and loaded.gate_settings = '{{ crm_gate_settings_fingerprint() }}'
            where current_files.source_file not in (select source_file from dated_in_range_now)
            group by current_files.source_file
            having count(*) = (select count(*) from loaded as same_file where same_file.source_file = current_files.source_file)
        )
        select 'load' as action, file_path, source_file
        from current_files
        where source_file not in (select source_file from unchanged)
        union all
        select distinct 'drop' as action, null as file_path, source_file
        from loaded
        where source_file not in (select source_file from current_files)
        order by 1, 3
    {%- endset -%}
    {%- set result = {'all': false, 'load': [], 'drop': []} -%}
    {%- for row in run_query(query).rows -%}
        {%- if row['action'] == 'load' -%}
            {%- do result['load'].append([row['file_path'], row['source_file']]) -%}
        {%- else -%}
            {%- do result['drop'].append(row['source_file']) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(result) }}
{%- endmacro %}

{#- a predicate on the file path (by_name: on the file name) keeping the files to load -#}
{% macro crm_raw_files_filter(path_column, files, by_name=false) -%}
    {%- if files['all'] -%}
        true
    {%- elif files['load'] | length == 0 -%}
        false
    {%- else -%}
        {{ path_column }} in (
            {%- for item in files['load'] %}'{{ item[1 if by_name else 0] | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor -%}
        )
    {%- endif -%}
{%- endmacro %}

{#- for the reconciliation test: the transaction files parsed by this run (`dbt build`), or all (`dbt test`) -#}
{% macro crm_transaction_files_to_check(lines_relation=none) -%}
    {%- set lines = lines_relation if lines_relation is not none else ref('base_crm__sales_transaction_lines') -%}
    {%- if not execute or flags.WHICH != 'build' or var('crm_test_every_row', false) -%}
        {{ return({'all': true, 'load': [], 'drop': []}) }}
    {%- endif -%}
    {%- set query -%}
        with loaded as (
            select distinct source_file from {{ lines }} where loaded_at = {{ crm_run_started_literal() }}
        )
        select stats.file_path, stats.source_file
        from ({{ crm_raw_file_stats('sales_transactions_*.csv') }}) as stats
        where stats.source_file in (select source_file from loaded)
        order by 2
    {%- endset -%}
    {%- set result = {'all': false, 'load': [], 'drop': []} -%}
    {%- for row in run_query(query).rows -%}
        {%- do result['load'].append([row['file_path'], row['source_file']]) -%}
    {%- endfor -%}
    {{ return(result) }}
{%- endmacro %}

{#- pre-hook: delete the lines of the files parsed again or gone -#}
{% macro crm_raw_files_pre_hook() -%}
    {%- set files = crm_raw_files_to_load() -%}
    {%- set names = [] -%}
    {%- for item in files['load'] %}{% do names.append(item[1]) %}{% endfor -%}
    {%- for name in files['drop'] %}{% do names.append(name) %}{% endfor -%}
    {%- if crm_is_incremental() and names | length > 0 -%}
        delete from {{ this }} where source_file in (
            {%- for name in names %}'{{ name | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor -%}
        )
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}

{#- the vars that change the rules of every month; a change recomputes every month -#}
{% macro crm_rule_settings_fingerprint() -%}
    {{- local_md5([
        var('crm_first_report_month'), var('crm_last_report_month'), var('crm_monetary_measure'),
        var('crm_score_bins'), var('crm_segment_scheme'), var('crm_valid_id_regex'), var('crm_min_valid_date')
    ] | join('|')) -}}
{%- endmacro %}
