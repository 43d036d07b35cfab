"""Pydantic models of Genesys Cloud's analytics conversation-detail record (conversation → participants →
sessions → segments / metrics), after the published SDK models (MyPureCloud/platform-client-sdk-python,
`PureCloudPlatformClientV2/models/analytics_conversation_without_attributes.py`, `analytics_participant*.py`,
`analytics_session.py`, `analytics_conversation_segment.py`, `analytics_session_metric.py`; see
../shared/domain/genesys_cloud.md §4.1).

Records come from many API versions (the 2016 query result has callback fields the SDK since moved), so every
model keeps unknown fields (`extra="allow"`) and enums are plain strings checked against the published lists:
whatever is not known is *reported* by `unknown_notes`, never a crash. Timestamps stay text here: `timestamps`
reads them, so a bad one quarantines its conversation with a reason instead of failing validation of the file.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PURPOSES = frozenset(
    [
        "acd",
        "agent",
        "api",
        "botflow",
        "campaign",
        "customer",
        "dialer",
        "external",
        "fax",
        "group",
        "inbound",
        "ivr",
        "manual",
        "outbound",
        "station",
        "user",
        "voicemail",
        "voicesurveyflow",
        "workflow",
    ]
)
MEDIA_TYPES = frozenset(
    [
        "callback",
        "chat",
        "cobrowse",
        "email",
        "internalmessage",
        "message",
        "screenmonitoring",
        "screenshare",
        "unknown",
        "video",
        "voice",
    ]
)
SEGMENT_TYPES = frozenset(
    [
        "alert",
        "barging",
        "callback",
        "coaching",
        "contacting",
        "converting",
        "delay",
        "dialing",
        "hold",
        "interact",
        "ivr",
        "monitoring",
        "parked",
        "scheduled",
        "screenmonitoring",
        "sharing",
        "system",
        "transmitting",
        "unknown",
        "uploading",
        "voicemail",
        "wrapup",
    ]
)
DISCONNECT_TYPES = frozenset(
    [
        "client",
        "conferenceTransfer",
        "consultTransfer",
        "dndEndpoint",
        "dndTransfer",
        "endpoint",
        "error",
        "forwardTransfer",
        "inactivity",
        "noAnswerTransfer",
        "notAvailableTransfer",
        "other",
        "peer",
        "sessionExpired",
        "spam",
        "system",
        "takeover",
        "timeout",
        "transfer",
        "transportFailure",
        "uncallable",
    ]
)
DIRECTIONS = frozenset({"inbound", "outbound"})


class _Open(BaseModel):
    """Unknown fields are kept (and reported), never rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Metric(_Open):
    name: str
    value: float | int | None = None
    emitDate: str | None = None  # noqa: N815 (Genesys Cloud's field names)


class Segment(_Open):
    segmentStart: str | None = None  # noqa: N815
    segmentEnd: str | None = None  # noqa: N815
    segmentType: str | None = None  # noqa: N815
    queueId: str | None = None  # noqa: N815
    disconnectType: str | None = None  # noqa: N815
    wrapUpCode: str | None = None  # noqa: N815
    wrapUpNote: str | None = None  # noqa: N815
    wrapUpTags: list[str] | None = None  # noqa: N815
    conference: bool | None = None
    errorCode: str | None = None  # noqa: N815
    subject: str | None = None
    sourceConversationId: str | None = None  # noqa: N815
    destinationConversationId: str | None = None  # noqa: N815


class Flow(_Open):
    flowId: str | None = None  # noqa: N815
    flowName: str | None = None  # noqa: N815
    flowType: str | None = None  # noqa: N815
    entryType: str | None = None  # noqa: N815
    exitReason: str | None = None  # noqa: N815
    transferType: str | None = None  # noqa: N815


class Session(_Open):
    sessionId: str | None = None  # noqa: N815
    mediaType: str | None = None  # noqa: N815
    messageType: str | None = None  # noqa: N815
    direction: str | None = None
    provider: str | None = None
    peerId: str | None = None  # noqa: N815
    ani: str | None = None
    dnis: str | None = None
    addressFrom: str | None = None  # noqa: N815
    addressTo: str | None = None  # noqa: N815
    selectedAgentId: str | None = None  # noqa: N815
    flow: Flow | None = None
    segments: list[Segment] = Field(default_factory=list)
    metrics: list[Metric] = Field(default_factory=list)


class Participant(_Open):
    participantId: str | None = None  # noqa: N815
    participantName: str | None = None  # noqa: N815
    purpose: str | None = None
    userId: str | None = None  # noqa: N815
    teamId: str | None = None  # noqa: N815
    attributes: dict[str, Any] | None = None
    sessions: list[Session] = Field(default_factory=list)


class Conversation(_Open):
    conversationId: str | None = None  # noqa: N815
    conversationStart: str | None = None  # noqa: N815
    conversationEnd: str | None = None  # noqa: N815
    originatingDirection: str | None = None  # noqa: N815
    divisionIds: list[str] | None = None  # noqa: N815
    externalTag: str | None = None  # noqa: N815
    participants: list[Participant] = Field(default_factory=list)


#: Published fields the mapping does not use but knows (kept in the record, not reported).
_KNOWN_EXTRA = frozenset(
    [
        "mediaStatsMinConversationMos",
        "mediaStatsMinConversationRFactor",
        "conversationInitiator",
        "customerParticipation",
        "evaluations",
        "surveys",
        "resolutions",
        "consultationConversationIds",
        "associatedConversationId",
        "conferenceStart",
        "externalContactId",
        "externalOrganizationId",
        "flaggedReason",
        "screenRecordingState",
        "remote",
        "requestedRoutings",
        "usedRouting",
        "addressSelf",
        "addressOther",
        "outboundCampaignId",
        "outboundContactId",
        "outboundContactListId",
        "callbackUserName",
        "callbackNumbers",
        "callbackScheduledTime",
        "scriptId",
        "skipEnabled",
        "timeoutSeconds",
        "edgeId",
        "roomId",
        "sipResponseCodes",
        "properties",
        "requestedRoutingUserIds",
        "requestedRoutingSkillIds",
        "requestedLanguageId",
        "sourceSessionId",
        "destinationSessionId",
        "wrapUpNote",
        "mediaEndpointStats",
        "proposedAgents",
        "agentOwned",
        "flowInType",
        "flowOutType",
        "deliveryStatus",
        "mediaCount",
        "cc",
        "bcc",
        "mediaBridgeId",
        "protocolCallId",
        "recording",
        "activeSkillIds",
        "acwSkipped",
        "journeyActionId",
        "journeyCustomerId",
        "journeyCustomerSessionId",
        "journeyCustomerSessionIdType",
        "journeyActionMapId",
        "journeyActionMapVersion",
        "dataAvailabilityDate",
        "knowledgeBaseIds",
        "routingRing",
        "routingRule",
        "routingRuleType",
        "scoredAgents",
        "videoAddressSelf",
        "videoRoomId",
        "waitingInteractionCounts",
        "bargedParticipantId",
        "coachedParticipantId",
        "monitoredParticipantId",
        "screenShareAddressSelf",
        "screenShareRoomId",
        "sharingScreen",
        "sessionDnis",
        "dispositionAnalyzer",
        "dispositionName",
        "extendedDeliveryStatus",
        "emailDomain",
    ]
)


def unknown_notes(conv: Conversation) -> Counter[str]:
    """Counted notes on what the published model does not know: unknown fields and unknown enum values."""
    notes: Counter[str] = Counter()

    def fields(model: BaseModel, where: str) -> None:
        for key in model.model_extra or {}:
            if key not in _KNOWN_EXTRA:
                notes[f"unknown field {where}.{key} kept"] += 1

    def enum(value: str | None, known: frozenset[str], what: str) -> None:
        if value is not None and value not in known:
            notes[f"unknown {what} {value!r}"] += 1

    fields(conv, "conversation")
    enum(conv.originatingDirection, DIRECTIONS, "originatingDirection")
    for p in conv.participants:
        fields(p, "participant")
        enum(p.purpose, PURPOSES, "purpose")
        for s in p.sessions:
            fields(s, "session")
            enum(s.mediaType, MEDIA_TYPES, "mediaType")
            for g in s.segments:
                fields(g, "segment")
                enum(g.segmentType, SEGMENT_TYPES, "segmentType")
                enum(g.disconnectType, DISCONNECT_TYPES, "disconnectType")
    return notes
