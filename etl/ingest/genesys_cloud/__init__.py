"""Genesys Cloud analytics conversation-detail records in: read (`reader`), model (`models`), fix (`timestamps`,
`normalise`), map to contract events (`mapping`) and hand them to the events' staging (`stage`)."""
