-- The parked event itself (its bus headers as JSON and its payload), so a retry can run it
-- again when the stream no longer holds it (purged, aged out, another cluster). NULL for
-- reactions parked before: those are read back from the stream.
ALTER TABLE parked_reactions ADD COLUMN event_headers jsonb, ADD COLUMN event_payload bytea;
