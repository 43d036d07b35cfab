-- AG2_AGENT_STATE_CLIP: agent login sessions, summarized states and state reasons cut at 15-minute interval edges
-- (UTC), one row per fact x interval it overlaps, with the SECONDS of the fact inside that interval. RAA interval
-- semantics: a duration measure is the part of the span within the interval ("clipped" at its edges), so an
-- interval's measures add up to the time the agent was logged in during it
-- (https://enu.docs.genesys.com/Documentation/GI2/8.1.4/UG/ClassificationofMeasures).
-- Sources: SM_RES_SESSION_FACT (MEASURE 'LOGIN'), SM_RES_STATE_FACT ('STATE'), SM_RES_STATE_REASON_FACT ('REASON').
-- Completed facts only (ACTIVE_FLAG = 0): an open session or state counts once the run that sees its end completes it.
-- HOUR_KEY / DAY_KEY: the hour and UTC day of the 15-minute interval, so hours and days sum clipped quarters.
CREATE OR REPLACE VIEW AG2_AGENT_STATE_CLIP AS
WITH spans AS (
    SELECT 'LOGIN' AS MEASURE, CAST(NULL AS VARCHAR) AS STATE_NAME, CAST(NULL AS VARCHAR) AS REASON_TYPE,
           CAST(NULL AS VARCHAR) AS REASON, CAST(NULL AS VARCHAR) AS WORKMODE,
           f.RESOURCE_KEY, f.MEDIA_TYPE_KEY, f.START_TS, f.END_TS
    FROM SM_RES_SESSION_FACT f WHERE f.ACTIVE_FLAG = 0
    UNION ALL
    SELECT 'STATE', s.STATE_NAME, NULL, NULL, NULL, f.RESOURCE_KEY, f.MEDIA_TYPE_KEY, f.START_TS, f.END_TS
    FROM SM_RES_STATE_FACT f JOIN RESOURCE_STATE s ON s.RESOURCE_STATE_KEY = f.RESOURCE_STATE_KEY
    WHERE f.ACTIVE_FLAG = 0
    UNION ALL
    -- REASON: the software reason's value, else the hardware reason code, else the reason type (DoNotDisturb, Unknown)
    SELECT 'REASON', s.STATE_NAME, x.REASON_TYPE,
           coalesce(x.SOFTWARE_REASON_VALUE, x.HARDWARE_REASON, x.REASON_TYPE), x.WORKMODE,
           f.RESOURCE_KEY, f.MEDIA_TYPE_KEY, f.START_TS, f.END_TS
    FROM SM_RES_STATE_REASON_FACT f
    JOIN RESOURCE_STATE s ON s.RESOURCE_STATE_KEY = f.RESOURCE_STATE_KEY
    JOIN RESOURCE_STATE_REASON x ON x.RESOURCE_STATE_REASON_KEY = f.RESOURCE_STATE_REASON_KEY
    WHERE f.ACTIVE_FLAG = 0
)
SELECT
    q.k AS SUBHR_KEY,                                  -- 15-minute interval start, UTC epoch seconds (= DATE_TIME_KEY)
    q.k - q.k % 3600 AS HOUR_KEY,
    q.k - q.k % 86400 AS DAY_KEY,
    sp.RESOURCE_KEY,
    r.RESOURCE_NAME AS AGENT_NAME,
    sp.MEDIA_TYPE_KEY,
    m.MEDIA_NAME,
    sp.MEASURE,
    sp.STATE_NAME,
    sp.REASON_TYPE,
    sp.REASON,
    sp.WORKMODE,
    least(sp.END_TS, q.k + 900) - greatest(sp.START_TS, q.k) AS SECONDS
FROM spans sp
CROSS JOIN LATERAL (SELECT unnest(generate_series(sp.START_TS - sp.START_TS % 900, sp.END_TS - 1, 900)) AS k) q
JOIN RESOURCE_ r ON r.RESOURCE_KEY = sp.RESOURCE_KEY
JOIN MEDIA_TYPE m ON m.MEDIA_TYPE_KEY = sp.MEDIA_TYPE_KEY
