-- The schema version (投影版本) each projection's live tables were built with: a runner
-- whose projection declares a newer one rebuilds it from the streams before it goes on.
CREATE TABLE projection_versions (
    projection text        PRIMARY KEY,
    version    integer     NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
