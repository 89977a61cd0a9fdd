# The image of the Dagster webserver and daemon in docker-compose.yml: the workbook with its
# locked dependencies (uv.lock), laid out under /app as in the repository.
FROM python:3.11-slim-bookworm

# git: `dbt debug` checks for it and fails without it (the README's command table runs it).
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

# uv from PyPI, pinned: the version that wrote uv.lock.
RUN pip install --no-cache-dir uv==0.13.9

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DAGSTER_HOME=/opt/dagster/home \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false

WORKDIR /app

# 1. The dependencies exactly as locked (no dev tools). A layer of its own, so that changing
#    the workbook's code does not reinstall them. Bytecode is compiled here, so no Dagster
#    process compiles dagster from source when it starts.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project

# 2. The workbook itself: what the UI loads and what the README's commands run.
COPY README.md ./
COPY workbook/ workbook/
COPY solutions/ solutions/
COPY phase*.py ./
COPY workspace.yaml workspace.solutions.yaml ./
COPY data/generate_weather.py data/generate_weather.py
COPY dbt_project/ dbt_project/
RUN uv sync --locked --no-dev

# 3. dbt's manifests, prepared at build time as dagster-dbt documents for deployment, so that no
#    container parses dbt when it starts: Phase 4 as the learner wrote it and the reference
#    solution (its own copy of the project, under .workbook/dbt/solutions). Parsing connects to no
#    database, but profiles.yml needs its variables: placeholders (the real ones come from
#    docker-compose.yml at run time). Importing a phase file also writes the workbook's stamp
#    (target/workbook_manifest.json), which tells the running stack the manifest is current.
RUN export WORKBOOK_DATABASE_URL=postgresql://build@localhost:5432/build \
        WORKBOOK_PG_HOST=localhost WORKBOOK_PG_PORT=5432 WORKBOOK_PG_USER=build \
        WORKBOOK_PG_PASSWORD= WORKBOOK_PG_DBNAME=build \
    && dagster-dbt project prepare-and-package --file phase4_dbt_assets.py \
    && dagster-dbt project prepare-and-package --file solutions/phase4_dbt_assets.py

# 4. Dagster's instance settings for the stack (storage in PostgreSQL, the run queue).
COPY docker/dagster.yaml /opt/dagster/home/dagster.yaml
RUN mkdir -p /opt/dagster/home/storage

EXPOSE 3000
CMD ["dagster-webserver", "--host", "0.0.0.0", "--port", "3000", "--workspace", "/app/workspace.yaml"]
