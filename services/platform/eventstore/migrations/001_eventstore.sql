-- The event store of one service. Events are immutable; everything else here is bookkeeping
-- written in the same transaction as the events it belongs to.

CREATE TABLE events (
    event_id       uuid        PRIMARY KEY,
    stream_id      text        NOT NULL,
    stream_type    text        NOT NULL,
    version        bigint      NOT NULL CHECK (version > 0),
    school_id      text        NOT NULL,
    event_type     text        NOT NULL,
    payload        bytea       NOT NULL,
    occurred_at    timestamptz NOT NULL, -- business time
    recorded_at    timestamptz NOT NULL, -- record time
    actor          text        NOT NULL DEFAULT '',
    correlation_id text        NOT NULL DEFAULT '',
    causation_id   text        NOT NULL DEFAULT '',
    trace_parent   text        NOT NULL DEFAULT '',
    policy_version text        NOT NULL DEFAULT '',
    prev_hash      bytea       NOT NULL,
    hash           bytea       NOT NULL,
    -- The optimistic lock: two writers of the same version cannot both commit.
    CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);

-- 红字冲销: mistakes are corrected by compensating events, never by changing history.
CREATE FUNCTION houqin_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: % on events is not allowed; append a compensating event', TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER events_immutable_rows BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION houqin_events_immutable();
CREATE TRIGGER events_immutable_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION houqin_events_immutable();

-- Committed events not yet acknowledged by JetStream. The relay deletes rows after the ack.
CREATE TABLE outbox (
    id       bigserial PRIMARY KEY,
    event_id uuid      NOT NULL REFERENCES events (event_id),
    subject  text      NOT NULL
);

-- Client request ids: a repeated id returns the first outcome.
CREATE TABLE requests (
    school_id   text        NOT NULL,
    request_id  text        NOT NULL,
    fingerprint bytea       NOT NULL,
    outcome     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, request_id)
);

-- Set-wide uniqueness (an asset tag within a school), claimed in the same transaction as the
-- events that need it.
CREATE TABLE unique_keys (
    scope     text NOT NULL,
    key       text NOT NULL,
    stream_id text NOT NULL,
    PRIMARY KEY (scope, key)
);
