# The code location's image: `gim-etl` with Dagster, the S3 and deploy extras. One image serves the gRPC code
# server (the default command), the daemon/webserver (if you run them from it) and every run pod that
# K8sRunLauncher starts (dagster_home/dagster.k8s.yaml, job_image).
#   docker build -t gim-etl:0.1.0 .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DAGSTER_HOME=/opt/dagster/dagster_home \
    GIM_ETL_MART_DIR=/marts

WORKDIR /opt/gim-etl
COPY pyproject.toml constraints.txt README.md ./
COPY etl ./etl
COPY schema ./schema
RUN pip install --no-cache-dir -c constraints.txt ".[s3,deploy]"

COPY dagster_home/dagster.postgres.yaml /opt/dagster/dagster_home/dagster.yaml
RUN mkdir -p /marts && useradd --uid 1000 --create-home gim && chown -R gim /marts /opt/dagster
USER gim

EXPOSE 4000
CMD ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", "4000", "-m", "etl.definitions"]
