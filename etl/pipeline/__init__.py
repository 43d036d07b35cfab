"""The load of a run, without Dagster: staged events in, facts in the mart out (`load.py`); Dagster's assets and
the golden fixtures' writer both call it."""
