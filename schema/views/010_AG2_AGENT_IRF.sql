-- AG2_AGENT_IRF: one row per agent INTERACTION_RESOURCE_FACT with the flags and durations the AG2_AGENT_* views sum.
-- In the spirit of GIM RAA's AGT_AGENT (AG2_AGENT_* views): source IRF, agent resources only
-- (RESOURCE_.RESOURCE_TYPE = 'Agent'; no queue, routing point or strategy rows), attributed to the interval of the IRF
-- START_TS (the time the interaction was offered to or started by the agent). Active IRFs (ACTIVE_FLAG = 1) are
-- included with the durations known so far; ACTIVE counts them.
-- Edit freely: every AG2_AGENT_SUBHR/HOUR/DAY measure is a SUM over a column of this view.
CREATE OR REPLACE VIEW AG2_AGENT_IRF AS
SELECT
    f.INTERACTION_RESOURCE_ID,
    f.INTERACTION_ID,
    f.START_TS,
    f.START_TS - f.START_TS % 900 AS SUBHR_KEY,       -- 15-minute interval start, UTC epoch seconds (= DATE_TIME_KEY)
    f.START_TS - f.START_TS % 3600 AS HOUR_KEY,       -- hour start, UTC epoch seconds
    f.START_TS - f.START_TS % 86400 AS DAY_KEY,       -- UTC day start, epoch seconds
    f.RESOURCE_KEY,
    r.RESOURCE_NAME AS AGENT_NAME,
    r.EMPLOYEE_ID,
    f.RESOURCE_GROUP_COMBINATION_KEY,                -- the agent's groups when the IRF started (-1: none known)
    f.MEDIA_TYPE_KEY,
    m.MEDIA_NAME,
    t.INTERACTION_TYPE,
    t.INTERACTION_SUBTYPE,
    d.RESOURCE_ROLE,
    d.TECHNICAL_RESULT,
    d.RESULT_REASON,
    -- OFFERED: the interaction reached the agent (routed, transferred, consulted, pulled); IRFs the agent started
    -- (Initiated / InitiatedConsult roles) are work, not offers.
    CASE WHEN d.RESOURCE_ROLE NOT IN ('Initiated', 'InitiatedConsult') THEN 1 ELSE 0 END AS OFFERED,
    -- ACCEPTED: an offered interaction the agent handled (RAA ACCEPTED: CUSTOMER_HANDLE_COUNT > 0).
    CASE WHEN d.RESOURCE_ROLE NOT IN ('Initiated', 'InitiatedConsult') AND f.HANDLE_COUNT > 0 THEN 1 ELSE 0 END
        AS ACCEPTED,
    -- HANDLED: any IRF the agent handled, offered or self-initiated; the denominator of AVG_HANDLE_TIME.
    CASE WHEN f.HANDLE_COUNT > 0 THEN 1 ELSE 0 END AS HANDLED,
    -- REJECTED: invitation rejected or revoked before acceptance (Redirected or Abandoned [Revoked | Rejected]).
    CASE WHEN d.TECHNICAL_RESULT IN ('Redirected', 'Abandoned') AND d.RESULT_REASON IN ('Revoked', 'Rejected')
         THEN 1 ELSE 0 END AS REJECTED,
    -- ABANDONED_INVITE: the customer left an online interaction while the agent's invitation was alerting
    -- (RAA ABANDONED_INVITE; CustomerAbandoned [AbandonedWhileRinging]): neither accepted nor rejected by the agent.
    CASE WHEN d.TECHNICAL_RESULT = 'CustomerAbandoned' AND d.RESULT_REASON = 'AbandonedWhileRinging'
         THEN 1 ELSE 0 END AS ABANDONED_INVITE,
    -- TRANSFERRED: handled and then transferred on (RAA TRANSFER_INIT_AGENT).
    CASE WHEN d.TECHNICAL_RESULT = 'Transferred' AND f.HANDLE_COUNT > 0 THEN 1 ELSE 0 END AS TRANSFERRED,
    CASE WHEN d.TECHNICAL_RESULT = 'Completed' THEN 1 ELSE 0 END AS COMPLETED,
    -- REPLIES: replies sent (RAA RESPONSES for offline media): Initiated IRFs of OutboundReply interactions that the
    -- agent completed (sent).
    CASE WHEN d.RESOURCE_ROLE = 'Initiated' AND t.INTERACTION_SUBTYPE = 'OutboundReply'
              AND d.TECHNICAL_RESULT = 'Completed' THEN 1 ELSE 0 END AS REPLIES,
    CAST(f.ACTIVE_FLAG AS INTEGER) AS ACTIVE,
    f.RING_DURATION AS INVITE_TIME,
    f.TALK_DURATION AS TALK_TIME,
    f.HOLD_DURATION AS HOLD_TIME,
    f.AFTER_CALL_WORK_DURATION AS WRAP_TIME,
    f.TALK_DURATION + f.HOLD_DURATION + f.AFTER_CALL_WORK_DURATION AS HANDLE_TIME,   -- engage + hold + wrap
    f.MEDIATION_DURATION AS MEDIATION_TIME                                          -- queue/strategy time before the agent
FROM INTERACTION_RESOURCE_FACT f
JOIN RESOURCE_ r ON r.RESOURCE_KEY = f.RESOURCE_KEY
JOIN TECHNICAL_DESCRIPTOR d ON d.TECHNICAL_DESCRIPTOR_KEY = f.TECHNICAL_DESCRIPTOR_KEY
JOIN MEDIA_TYPE m ON m.MEDIA_TYPE_KEY = f.MEDIA_TYPE_KEY
JOIN INTERACTION_TYPE t ON t.INTERACTION_TYPE_KEY = f.INTERACTION_TYPE_KEY
WHERE r.RESOURCE_TYPE = 'Agent'
