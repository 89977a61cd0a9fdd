{#- `<expr> between <low> and <high>` for one of the plausible ranges in dbt_project.yml's vars
    (the values of workbook/platform/rules.py). Usage: {{ plausible('humidity_pct') }}, or with
    another expression: {{ plausible('temperature_c_unchecked', 'temperature_c') }}. -#}
{% macro plausible(expression, measure=none) -%}
    {%- set bounds = var('plausible_ranges')[measure or expression] -%}
    {{ expression }} between {{ bounds[0] }} and {{ bounds[1] }}
{%- endmacro %}
