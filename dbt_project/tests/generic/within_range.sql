{#- A generic data test of our own (the workbook is offline: no dbt hub packages).
    Fails for every non-null value of the column outside [min_value, max_value].
    Usage in a schema.yml:  - within_range: {min_value: -90, max_value: 60}  -#}
{% test within_range(model, column_name, min_value=none, max_value=none) %}
select {{ column_name }} as out_of_range_value
from {{ model }}
where {{ column_name }} is not null
  and (
    {%- if min_value is not none %} {{ column_name }} < {{ min_value }}{% endif %}
    {%- if min_value is not none and max_value is not none %} or{% endif %}
    {%- if max_value is not none %} {{ column_name }} > {{ max_value }}{% endif %}
  )
{% endtest %}
