"""The PostgreSQL publish target as a Dagster resource and asset: wiring only (the work is etl.storage.publish_pg)."""

import dagster as dg
from pydantic import Field

from etl.orchestration.assets import MART_TABLES
from etl.orchestration.config import MartResource
from etl.progress import phase
from etl.storage.publish_pg import DEFAULT_SCHEMA, publish_postgres
from etl.storage.writer import writer_lock

#: What a run reports when its load committed but the PostgreSQL publish failed (the previous publish stays).
PG_PUBLISH_FAILED = "mart committed, PostgreSQL publish failed"


class PostgresTarget(dg.ConfigurableResource):
    """Where the mart is published in PostgreSQL: a DSN and the tenant's schema. An empty DSN: not published."""

    dsn: str = Field("", description="postgresql://USER[:PASSWORD]@HOST:PORT/DB (empty: no PostgreSQL publish)")
    db_schema: str = Field(DEFAULT_SCHEMA, description="the PostgreSQL schema of this tenant's mart")


@dg.asset(
    key=["postgres", "gim_mart"],
    deps=[["mart", t] for t in MART_TABLES],
    group_name="publish",
    kinds={"postgres"},
    pool="duckdb_writer",
)
def postgres_mart(context: dg.AssetExecutionContext, mart_db: MartResource, pg_target: PostgresTarget):
    """The mart's tables, dimensions and views in PostgreSQL, incrementally, in one transaction per run."""
    if not pg_target.dsn:
        context.log.info("no PostgreSQL target configured (pg_target.dsn is empty): nothing published")
        return dg.MaterializeResult(metadata={"published": False})
    try:
        with writer_lock(mart_db.database), phase("publish to PostgreSQL"):
            result = publish_postgres(mart_db.database, pg_target.dsn, pg_target.db_schema)
    except Exception as exc:  # the load committed: say so, and how to finish
        raise dg.Failure(
            description=f"{PG_PUBLISH_FAILED} (run {context.run_id}): {exc}; publish again with"
            f" `gim-etl publish --db {mart_db.database} --publish DSN --pg-schema {pg_target.db_schema}`",
            metadata={"mart_committed": True, "postgres_published": False},
        ) from exc
    changed = {t.name: t.rows_copied for t in result.tables if t.mode != "skipped"}
    context.log.info(f"published to PostgreSQL schema {result.schema} in {result.seconds:.1f} s: {changed}")
    return dg.MaterializeResult(
        metadata={
            "published": True,
            "schema": result.schema,
            "rows_copied": result.rows_copied,
            "tables_changed": len(changed),
            "views": result.views,
            "seconds": result.seconds,
        }
    )
