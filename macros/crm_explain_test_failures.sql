{#-
    on-run-end: every data test that failed or warned explains itself in the dbt log, so that a data
    engineer reads what failed, where, how many rows and how to fix it instead of dbt's bare
    "Got 2 results, configured to fail if >=2". For each such test it prints the test, the model
    and column it guards, the failing-row count, and up to `max_rows` failing rows: the row's
    `explanation` column when the test provides one (the reject-share gates and the invariants
    do), otherwise the row's values; then the fix from the test's `meta.fix` when it has one.
    Every line starts with "crm gate" so that scripts/tasks.py can repeat them in its summary.
    Values of columns tagged as personal data (macro crm_pii_columns) are never printed: the line
    shows `<personal data>` instead (the dbt log and the refresh logs are read by many).
-#}
{% macro crm_explain_test_failures(results, max_rows=5) %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set personal = [] -%}
    {%- for column in crm_pii_columns() %}{% do personal.append(column.column_name) %}{% endfor -%}
    {%- for result in results
        if result.node.resource_type == 'test' and result.status in ('fail', 'warn', 'error') -%}
        {%- set node = result.node -%}
        {%- set level = {'fail': 'FAIL', 'warn': 'WARN', 'error': 'ERROR'}[result.status] -%}
        {%- set guarded = (node.attached_node or '').split('.')[-1] -%}
        {%- set where_text = guarded ~ ('.' ~ node.column_name if node.column_name else '') -%}
        {%- set kind = node.test_metadata.name if node.test_metadata else 'singular test' -%}
        {%- if result.status == 'error' -%}
            {{ log('crm gate ' ~ level ~ ' ' ~ node.name ~ ' (' ~ kind ~ (' on ' ~ where_text if where_text else '') ~ ') could not run: ' ~ (result.message or '') | replace('\n', ' '), info=true) }}
        {%- else -%}
            {%- set rows = none -%}
            {%- set count = none -%}
            {%- if node.compiled_code -%}
                {%- set failing = '(' ~ node.compiled_code ~ '\n) as failing_rows' -%}
                {%- set counted = run_query('select count(*) from ' ~ failing) -%}
                {%- set count = counted.columns[0].values()[0] -%}
                {%- set columns = run_query('select * from ' ~ failing ~ ' limit 0').column_names -%}
                {%- if 'explanation' in columns -%}
                    {%- set rows = run_query('select * from ' ~ failing ~ ' limit ' ~ max_rows) -%}
                {%- else -%}
                    {#- identical failing rows (e.g. one orphan key on many lines) are shown once, with their count -#}
                    {%- set quoted = [] -%}
                    {%- for name in columns %}{% do quoted.append(adapter.quote(name)) %}{% endfor -%}
                    {%- set rows = run_query('select ' ~ quoted | join(', ') ~ ', count(*) as failing_rows from ' ~ failing
                        ~ ' group by ' ~ quoted | join(', ') ~ ' order by count(*) desc limit ' ~ max_rows) -%}
                {%- endif -%}
            {%- endif -%}
            {{ log('crm gate ' ~ level ~ ' ' ~ node.name ~ ' (' ~ kind ~ (' on ' ~ where_text if where_text else '') ~ '): '
                ~ (count if count is not none else result.failures) ~ ' failing row(s)', info=true) }}
            {%- if rows is not none -%}
                {%- for row in rows.rows -%}
                    {%- if 'explanation' in rows.column_names -%}
                        {{ log('crm gate   - ' ~ row['explanation'], info=true) }}
                    {%- else -%}
                        {%- set parts = [] -%}
                        {%- for name in rows.column_names -%}
                            {%- do parts.append(name ~ '=' ~ ('<personal data>' if name | lower in personal else row[name])) -%}
                        {%- endfor -%}
                        {{ log('crm gate   - ' ~ (parts | join(', '))[:300], info=true) }}
                    {%- endif -%}
                {%- endfor -%}
            {%- endif -%}
            {%- set fix = (node.config.meta or {}).get('fix') or (node.meta or {}).get('fix') -%}
            {%- if fix -%}
                {{ log('crm gate   fix: ' ~ fix, info=true) }}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}
