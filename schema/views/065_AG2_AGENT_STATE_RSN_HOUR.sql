-- AG2_AGENT_STATE_RSN_HOUR: not-ready and after-call-work time by reason per hour (UTC), agent and media, from
-- AG2_AGENT_STATE_CLIP (SM_RES_STATE_REASON_FACT clipped at interval edges). REASON: the software reason's value, else the
-- hardware reason code, else the reason type (DoNotDisturb; Unknown for a work mode without a reason).
CREATE OR REPLACE VIEW AG2_AGENT_STATE_RSN_HOUR AS
SELECT
    HOUR_KEY AS DATE_TIME_KEY,
    strftime(make_timestamp(HOUR_KEY * 1000000), '%Y-%m-%d %H') AS LABEL,
    RESOURCE_KEY,
    AGENT_NAME,
    MEDIA_TYPE_KEY,
    MEDIA_NAME,
    STATE_NAME,
    REASON_TYPE,
    REASON,
    WORKMODE,
    CAST(SUM(SECONDS) AS BIGINT) AS STATE_TIME
FROM AG2_AGENT_STATE_CLIP
WHERE MEASURE = 'REASON' AND STATE_NAME IN ('NotReady', 'AfterCallWork')
GROUP BY ALL
