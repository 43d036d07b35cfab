-- AG2_AGENT_GROUP_IRF: AG2_AGENT_IRF's rows once per agent group of the agent when the IRF started
-- (IRF.RESOURCE_GROUP_COMBINATION_KEY -> RESOURCE_GROUP_COMBINATION -> GROUP_), in the spirit of GIM RAA's agent-group
-- aggregates (AGT_AGENT_GRP_*). An agent in two groups counts in both; an IRF of an agent with no known group counts
-- once, under GROUP_KEY -1 / GROUP_NAME 'NONE', so that the groups' totals add up to the agents' totals plus NONE.
CREATE OR REPLACE VIEW AG2_AGENT_GROUP_IRF AS
SELECT a.*, g.GROUP_KEY, g.GROUP_NAME
FROM AG2_AGENT_IRF a
JOIN RESOURCE_GROUP_COMBINATION c ON c.GROUP_COMBINATION_KEY = coalesce(a.RESOURCE_GROUP_COMBINATION_KEY, -1)
JOIN GROUP_ g ON g.GROUP_KEY = c.GROUP_KEY
