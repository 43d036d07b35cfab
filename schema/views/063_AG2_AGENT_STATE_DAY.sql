-- AG2_AGENT_STATE_DAY: agent utilisation per UTC day (UTC), agent and media, from AG2_AGENT_STATE_CLIP (facts
-- clipped at interval edges). LOGIN_TIME is login-session time; READY/NOT_READY/WRAP/BUSY/LOGGED_ON_ONLY_TIME the
-- summarized states (SM_RES_STATE_FACT: Ready, NotReady, AfterCallWork, Busy, LoggedOnOnly) and add up to LOGIN_TIME
-- unless max-state-duration cut a state short. NOT_READY_TIME includes do-not-disturb factored in as NotReady.
-- Seconds; DATE_TIME_KEY is the interval start as UTC epoch seconds. Not ready by reason: AG2_AGENT_STATE_RSN_DAY.
CREATE OR REPLACE VIEW AG2_AGENT_STATE_DAY AS
SELECT
    DAY_KEY AS DATE_TIME_KEY,
    strftime(make_timestamp(DAY_KEY * 1000000), '%Y-%m-%d') AS LABEL,
    RESOURCE_KEY,
    AGENT_NAME,
    MEDIA_TYPE_KEY,
    MEDIA_NAME,
    CAST(coalesce(SUM(SECONDS) FILTER (WHERE MEASURE = 'LOGIN'), 0) AS BIGINT) AS LOGIN_TIME,
    CAST(coalesce(SUM(SECONDS) FILTER (WHERE MEASURE = 'STATE' AND STATE_NAME = 'Ready'), 0) AS BIGINT) AS READY_TIME,
    CAST(coalesce(SUM(SECONDS) FILTER (WHERE MEASURE = 'STATE' AND STATE_NAME = 'NotReady'), 0) AS BIGINT)
        AS NOT_READY_TIME,
    CAST(coalesce(SUM(SECONDS) FILTER (WHERE MEASURE = 'STATE' AND STATE_NAME = 'AfterCallWork'), 0) AS BIGINT)
        AS WRAP_TIME,
    CAST(coalesce(SUM(SECONDS) FILTER (WHERE MEASURE = 'STATE' AND STATE_NAME = 'Busy'), 0) AS BIGINT) AS BUSY_TIME,
    CAST(coalesce(SUM(SECONDS) FILTER (WHERE MEASURE = 'STATE' AND STATE_NAME = 'LoggedOnOnly'), 0) AS BIGINT)
        AS LOGGED_ON_ONLY_TIME
FROM AG2_AGENT_STATE_CLIP
GROUP BY ALL
