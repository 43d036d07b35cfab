-- AG2_QUEUE_MSF: one row per MEDIATION_SEGMENT_FACT (a stay in an interaction queue, virtual queue or workbin) with
-- the flags and durations the AG2_QUEUE_* views sum. In the spirit of GIM RAA's AGT_QUEUE: attributed to the
-- interval of queue entry (MSF START_TS). Which stays have an MSF at all depends on the GIM options the mart was
-- loaded with (populate-mm-ixnqueue-facts, populate-mm-workbin-facts; the first inbound queue always has one).
-- Active MSFs (ACTIVE_FLAG = 1, still waiting) count as ENTERED and ACTIVE with the mediation time known so far.
CREATE OR REPLACE VIEW AG2_QUEUE_MSF AS
SELECT
    f.MEDIATION_SEGMENT_ID,
    f.INTERACTION_ID,
    f.START_TS,
    f.START_TS - f.START_TS % 900 AS SUBHR_KEY,       -- 15-minute interval start, UTC epoch seconds (= DATE_TIME_KEY)
    f.START_TS - f.START_TS % 3600 AS HOUR_KEY,
    f.START_TS - f.START_TS % 86400 AS DAY_KEY,
    f.RESOURCE_KEY,
    r.RESOURCE_NAME AS QUEUE_NAME,
    r.RESOURCE_SUBTYPE AS QUEUE_TYPE,                 -- InteractionQueue, VirtualQueue, InteractionWorkBin
    f.MEDIA_TYPE_KEY,
    m.MEDIA_NAME,
    d.TECHNICAL_RESULT,
    d.RESULT_REASON,
    1 AS ENTERED,
    CASE WHEN d.TECHNICAL_RESULT = 'Diverted' THEN 1 ELSE 0 END AS DIVERTED,   -- distributed by routing
    CASE WHEN d.TECHNICAL_RESULT = 'Pulled' THEN 1 ELSE 0 END AS PULLED,       -- pulled by an agent or strategy
    -- ACCEPTED: distributed and taken; a stay distributed to a target the customer left while it was alerting
    -- (Diverted [AbandonedWhileRinging], online media) is ABANDONED_INVITE instead.
    CASE WHEN d.TECHNICAL_RESULT IN ('Diverted', 'Pulled') AND d.RESULT_REASON <> 'AbandonedWhileRinging'
         THEN 1 ELSE 0 END AS ACCEPTED,
    -- ABANDONED: the customer left while the interaction waited here (Abandoned [AbandonedWhileQueued] for online
    -- media; GIM's "abandoned in the mediation DN").
    CASE WHEN d.TECHNICAL_RESULT IN ('Abandoned', 'CustomerAbandoned') THEN 1 ELSE 0 END AS ABANDONED,
    CASE WHEN d.TECHNICAL_RESULT = 'Diverted' AND d.RESULT_REASON = 'AbandonedWhileRinging'
         THEN 1 ELSE 0 END AS ABANDONED_INVITE,
    CASE WHEN d.TECHNICAL_RESULT = 'Cleared' THEN 1 ELSE 0 END AS CLEARED,    -- left the queue another way (e.g. VQ)
    CAST(f.ACTIVE_FLAG AS INTEGER) AS ACTIVE,
    f.MEDIATION_DURATION AS MEDIATION_TIME
FROM MEDIATION_SEGMENT_FACT f
JOIN RESOURCE_ r ON r.RESOURCE_KEY = f.RESOURCE_KEY
JOIN TECHNICAL_DESCRIPTOR d ON d.TECHNICAL_DESCRIPTOR_KEY = f.TECHNICAL_DESCRIPTOR_KEY
JOIN MEDIA_TYPE m ON m.MEDIA_TYPE_KEY = f.MEDIA_TYPE_KEY
