{#- Fails for every non-null value of the column outside its plausible range (dbt_project.yml's
    vars, from workbook/platform/rules.py). Usage in a schema.yml:
      - plausible_range: {arguments: {measure: temperature_c}}   (measure defaults to the column) -#}
{% test plausible_range(model, column_name, measure=none) %}
select {{ column_name }} as out_of_range_value
from {{ model }}
where {{ column_name }} is not null
  and not ({{ plausible(column_name, measure or column_name) }})
{% endtest %}
