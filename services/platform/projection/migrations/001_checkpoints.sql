-- Where each projection stands in each service stream: the last applied stream sequence.
-- Written in the same transaction as the read-model changes of that batch.
CREATE TABLE projection_checkpoints (
    projection text        NOT NULL,
    stream     text        NOT NULL,
    seq        bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, stream)
);
