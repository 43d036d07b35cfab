"""Ingestion of the configuration log (../shared/contract/config.md): models, reading and staging."""
