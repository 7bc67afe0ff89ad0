{#-
    File-level incremental loading of the transaction files (base_crm__sales_transaction_lines).
    A file is parsed again when it is new, when its size or modification time changed, when the
    gate settings (vars crm_valid_id_regex, crm_min_valid_date) changed since it was loaded, or when
    it holds lines rejected as dated in the future whose date has come since (the gate compares
    with current_date); the lines of a file that left the folder are dropped. `dbt build --full-refresh` parses every file.

    A file that only grew (lines appended, as a monthly extract adds to the current year's file)
    keeps its loaded lines and only the new lines are parsed. "Only grew" is checked on the bytes:
    the file is longer than when it was last loaded, its first bytes up to the old length have the
    MD5 recorded then (source_file_md5), and the old part ended with a line break (so no old line was
    continued). Anything else is parsed again whole.
-#}

{#- size and modification time of the raw files matching `pattern`, without reading them -#}
{#- with_md5: also the MD5 of each file's bytes, read only for the files whose path passes
    path_filter (a predicate on `filename`) -#}
{% macro crm_raw_file_stats(pattern, with_md5=false, path_filter='true') -%}
    {{ return(adapter.dispatch('crm_raw_file_stats', 'crm_warehouse')(pattern, with_md5, path_filter)) }}
{%- endmacro %}

{% macro default__crm_raw_file_stats(pattern, with_md5=false, path_filter='true') -%}
    select
        filename as file_path,
        {{ crm_file_basename('filename') }} as source_file,
        cast(size as bigint) as file_size,
        cast(epoch_ms(last_modified) as bigint) as file_modified_at
        {%- if with_md5 %},
        md5(content) as file_md5
        {%- endif %}
    from read_blob('{{ crm_raw_dir() }}/{{ pattern }}')
    where {{ path_filter }}
{%- endmacro %}

{#- for files that grew (a list of dicts: path, name, old_size, old_md5): the names of those whose
    first old_size bytes still have the recorded MD5 and end with a line break -#}
{% macro crm_raw_files_that_only_grew(candidates) -%}
    {{ return(adapter.dispatch('crm_raw_files_that_only_grew', 'crm_warehouse')(candidates)) }}
{%- endmacro %}

{% macro default__crm_raw_files_that_only_grew(candidates) -%}
    {%- set query -%}
        with
        candidates as (
            {%- for item in candidates %}
            select
                '{{ item.path | replace("'", "''") }}' as file_path,
                '{{ item.name | replace("'", "''") }}' as source_file,
                cast({{ item.old_size | int }} as bigint) as old_size,
                '{{ item.old_md5 }}' as old_md5
            {{ 'union all' if not loop.last }}
            {%- endfor %}
        ),
        blobs as (
            -- a literal path list, so that only these files are read
            select filename, content
            from read_blob('{{ crm_raw_dir() }}/sales_transactions_*.csv')
            where filename in (
                {%- for item in candidates %}'{{ item.path | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor -%}
            )
        )
        select candidates.source_file
        from candidates
        inner join blobs
            on candidates.file_path = blobs.filename
        where
            md5(blobs.content[1:candidates.old_size]) = candidates.old_md5
            and blobs.content[candidates.old_size:candidates.old_size] = cast('\x0A' as blob)
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{% macro crm_gate_settings_fingerprint() -%}
    {{- local_md5(var('crm_valid_id_regex') ~ '|' ~ var('crm_min_valid_date')) -}}
{%- endmacro %}

{#- {'all': parse every file,
     'load': [{'path': ..., 'name': file name, 'kept_rows': lines kept}, ...] to parse (kept_rows
             > 0: only the lines after them, the file grew), 'drop': [file names] to delete} -#}
{% macro crm_raw_files_to_load() -%}
    {%- if not execute or not crm_is_incremental() -%}
        {{ return({'all': true, 'load': [], 'drop': []}) }}
    {%- endif -%}
    {#- a warehouse built before source_file_md5 existed gets the column in this run (on_schema_change
        append_new_columns); until then its files are parsed whole when they change -#}
    {%- set loaded_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- set md5_column = 'source_file_md5' if 'source_file_md5' in loaded_columns else 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
    {%- set query -%}
        with
        current_files as (
            {{ crm_raw_file_stats('sales_transactions_*.csv') }}
        ),
        loaded as (
            -- each file as it was when its last line was loaded (appended lines carry the newer
            -- size, time and MD5)
            select
                source_file,
                max(source_row_number) as loaded_rows,
                arg_max(source_file_size, source_row_number) as loaded_size,
                arg_max(source_file_modified_at, source_row_number) as loaded_modified_at,
                arg_max_null({{ md5_column }}, source_row_number) as loaded_md5,
                bool_and(gate_settings = '{{ crm_gate_settings_fingerprint() }}') as same_gates
            from {{ this }}
            group by source_file
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
        compared as (
            select
                current_files.file_path,
                current_files.source_file,
                loaded.loaded_rows,
                loaded.loaded_size,
                loaded.loaded_md5,
                case
                    when
                        loaded.source_file is null
                        or not loaded.same_gates
                        or current_files.source_file in (select source_file from dated_in_range_now)
                        then 'load'
                    when
                        current_files.file_size = loaded.loaded_size
                        and current_files.file_modified_at = loaded.loaded_modified_at
                        then 'keep'
                    when current_files.file_size > loaded.loaded_size and loaded.loaded_md5 is not null
                        then 'grew'
                    else 'load'
                end as action
            from current_files
            left join loaded
                on current_files.source_file = loaded.source_file
        )
        select action, file_path, source_file, loaded_rows, loaded_size, loaded_md5
        from compared
        where action <> 'keep'
        union all
        select distinct 'drop' as action, null as file_path, source_file, null, null, null
        from loaded
        where source_file not in (select source_file from current_files)
        order by 1, 3
    {%- endset -%}
    {%- set result = {'all': false, 'load': [], 'drop': []} -%}
    {%- set grown = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- if row['action'] == 'load' -%}
            {%- do result['load'].append({'path': row['file_path'], 'name': row['source_file'], 'kept_rows': 0}) -%}
        {%- elif row['action'] == 'grew' -%}
            {%- do grown.append({'path': row['file_path'], 'name': row['source_file'], 'old_size': row['loaded_size'],
                'old_md5': row['loaded_md5'], 'loaded_rows': row['loaded_rows']}) -%}
        {%- else -%}
            {%- do result['drop'].append(row['source_file']) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if grown | length > 0 -%}
        {%- set only_grew = crm_raw_files_that_only_grew(grown) -%}
        {%- for item in grown -%}
            {%- do result['load'].append({'path': item.path, 'name': item.name,
                'kept_rows': (item.loaded_rows | int) if item.name in only_grew else 0}) -%}
        {%- endfor -%}
    {%- endif -%}
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
            {%- for item in files['load'] %}'{{ (item.name if by_name else item.path) | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor -%}
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
    {#- a file that only grew keeps its lines -#}
    {%- for item in files['load'] if item.kept_rows == 0 %}{% do names.append(item.name) %}{% endfor -%}
    {%- for name in files['drop'] %}{% do names.append(name) %}{% endfor -%}
    {%- if crm_is_incremental() and names | length > 0 -%}
        delete from {{ this }} where source_file in (
            {%- for name in names %}'{{ name | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor -%}
        )
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}

{#- What decides the rules of every month, derived from the project (no hand-written list): every
    seed of the project (its file's checksum, from dbt's graph) and, with its value in this run, every
    var named crm_* that a model or test of the project reads (found in their code: var('crm_...')) or
    that this run sets with --vars (a var read only inside a macro changes rows when a run overrides
    it; a changed default in dbt_project.yml is a project change, which scripts/tasks.py answers with
    a full refresh). A change of any of them (a seed edited, added or removed, a var changed, a new
    var read by a new model) recomputes every month (int_source_digests). Returns the text that is
    digested (one line per seed and var, sorted); empty at parse time. -#}
{% macro crm_rule_settings() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set pattern = modules.re.compile("var\\(\\s*['\"](crm_\\w+)['\"]") -%}
    {%- set lines = [] -%}
    {%- set names = [] -%}
    {%- for node in graph.nodes.values() if node.package_name == project_name -%}
        {%- if node.resource_type == 'seed' -%}
            {%- do lines.append('seed ' ~ node.name ~ ' ' ~ node.checksum.checksum) -%}
        {%- endif -%}
        {%- for name in pattern.findall(node.raw_code or '') if name not in names -%}
            {%- do names.append(name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for name in (invocation_args_dict.get('vars') or {}).keys() -%}
        {%- if name.startswith('crm_') and name not in names -%}{%- do names.append(name) -%}{%- endif -%}
    {%- endfor -%}
    {%- for name in names -%}
        {%- do lines.append('var ' ~ name ~ ' ' ~ tojson(var(name, none))) -%}
    {%- endfor -%}
    {{ return(lines | sort | join('\n')) }}
{%- endmacro %}

{#- MD5 of crm_rule_settings(): the settings digest of int_source_digests -#}
{% macro crm_rule_settings_fingerprint() -%}
    {{- local_md5(crm_rule_settings()) -}}
{%- endmacro %}
