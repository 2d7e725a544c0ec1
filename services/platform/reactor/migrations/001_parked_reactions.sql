-- Reactions a process manager could not perform because the other side refused them for good
-- (InvalidArgument, FailedPrecondition…): parked here, in the reacting service's own database,
-- instead of being dropped, until an operator fixes the cause and asks for a retry. One row per
-- reactor and event, however often the event was delivered.
CREATE TABLE parked_reactions (
    reactor            text        NOT NULL,
    event_id           uuid        NOT NULL,
    stream_id          text        NOT NULL, -- the event's aggregate stream
    event_type         text        NOT NULL,
    school_id          text        NOT NULL,
    bus_stream         text        NOT NULL, -- the JetStream stream the event is read back from
    bus_sequence       bigint      NOT NULL,
    code               text        NOT NULL, -- gRPC code of the refusal
    reason             text        NOT NULL DEFAULT '',
    message            text        NOT NULL,
    attempts           integer     NOT NULL DEFAULT 1,
    first_at           timestamptz NOT NULL DEFAULT now(),
    last_at            timestamptz NOT NULL DEFAULT now(),
    retry_requested_at timestamptz,          -- an operator asked for a retry
    resolved_at        timestamptz,          -- a retry succeeded (the row is kept as history)
    PRIMARY KEY (reactor, event_id)
);

CREATE INDEX parked_reactions_open ON parked_reactions (reactor) WHERE resolved_at IS NULL;
