{#-
    Runs at the start of `dbt build` / `dbt run` (on-run-start): checks the raw landing folder
    before anything reads it, so that a missing folder, a missing file or a wrong header stops
    the build with a message naming the file and what is wrong, instead of a DuckDB parse error
    deep inside a model.

    Every source of `crm` declares in its meta `raw_file` (a file name or glob inside the folder);
    its expected header is the source's column list, in order (without `filename`, added by the reader).
-#}
{% macro crm_validate_raw_landing() %}
    {%- if target.type == 'spark' -%}
        {{ return(crm_spark_register_raw_landing()) }}
    {%- endif -%}
    {%- if execute and flags.WHICH in ('build', 'run') -%}
        {%- set raw_dir = crm_raw_dir() -%}
        {%- set problems = [] -%}
        {%- set all_files = run_query("select file from glob('" ~ raw_dir ~ "/*')").columns[0].values() -%}
        {%- if all_files | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                "Raw landing folder '" ~ raw_dir ~ "' does not exist or is empty. Set CRM_RAW_DIR to a folder "
                ~ "holding sales_transactions_YYYY.csv files, customers_master.csv and products_master.csv (SPEC section 1).") }}
        {%- endif -%}
        {#- crm_campaigns: the campaigns folder (macros/crm_campaigns.sql), optional -#}
        {%- for node in graph.sources.values() if node.source_name in ('crm', 'crm_campaigns') -%}
            {%- set folder = crm_campaign_dir() if node.source_name == 'crm_campaigns' else raw_dir -%}
            {%- set pattern = folder ~ '/' ~ node.meta.raw_file -%}
            {%- set files = run_query("select file from glob('" ~ pattern ~ "') order by file").columns[0].values() -%}
            {%- if files | length == 0 and not node.meta.get('optional', false) -%}
                {%- do problems.append("missing file: no '" ~ node.meta.raw_file ~ "' in '" ~ folder ~ "' (source " ~ node.source_name ~ "." ~ node.name ~ ")") -%}
            {%- endif -%}
            {%- set expected = node.columns.keys() | reject('equalto', 'filename') | list -%}
            {%- for file in files -%}
                {%- set first_line = run_query(
                    "select line from read_csv('" ~ file ~ "', header = false, auto_detect = false, "
                    ~ "columns = {'line': 'VARCHAR'}, delim = chr(31), quote = '', escape = '') limit 2"
                ).columns[0].values() -%}
                {%- if first_line | length == 0 or first_line[0] is none -%}
                    {%- do problems.append(file ~ ": file is empty (no header line); expected header " ~ expected | join(',')) -%}
                {%- else -%}
                    {%- set found = [] -%}
                    {%- for name in first_line[0].replace('\ufeff', '').replace('\r', '').split(',') -%}
                        {%- do found.append(name | trim | replace('"', '') | lower) -%}
                    {%- endfor -%}
                    {%- if found != expected -%}
                        {%- set missing = expected | reject('in', found) | list -%}
                        {%- set unexpected = found | reject('in', expected) | list -%}
                        {%- do problems.append(
                            file ~ ": wrong header. expected '" ~ expected | join(',') ~ "' but found '" ~ found | join(',') ~ "'"
                            ~ (" (missing: " ~ missing | join(', ') ~ ")" if missing else "")
                            ~ (" (unexpected: " ~ unexpected | join(', ') ~ ")" if unexpected else "")
                            ~ (" (same columns, wrong order)" if not missing and not unexpected else "")) -%}
                    {%- endif -%}
                    {%- if first_line | length < 2 -%}
                        {{ log("WARNING: " ~ file ~ " has a header but no data rows.", info=true) }}
                    {%- endif -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if problems | length > 0 -%}
            {{ exceptions.raise_compiler_error(
                "The raw landing folder '" ~ raw_dir ~ "' is not laid out as SPEC section 1 requires:\n  - "
                ~ problems | join("\n  - ")) }}
        {%- endif -%}
        {{ log("Raw landing folder '" ~ raw_dir ~ "' checked: " ~ all_files | length ~ " files, headers as expected.", info=true) }}
    {%- endif -%}
    select 1
{% endmacro %}

{#- the raw landing folder: CRM_RAW_DIR, default the bundled demo data (relative to the project root) -#}
{% macro crm_raw_dir() -%}
    {{ return(env_var('CRM_RAW_DIR', 'data/demo').replace('\\', '/').rstrip('/')) }}
{%- endmacro %}
