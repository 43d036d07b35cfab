# `models` first: it registers `agent_models`, which builds on the classes `models` defines (see agent_models.py).
import etl.ingest.models  # noqa: F401
