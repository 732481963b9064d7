-- The wire now carries a closed vocabulary (schemas/vocabulary.py) and decoders refuse other values.
-- Rows stored before it may spell a severity otherwise ("critical", "Medium"): store them as the
-- vocabulary spells them, so the read API never serves a value its own schema forbids. A spelling
-- outside the vocabulary was already ranked with UNKNOWN; it becomes UNKNOWN.

UPDATE findings SET severity = CASE
        WHEN upper(severity) IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'NONE', 'UNKNOWN') THEN upper(severity)
        ELSE 'UNKNOWN' END
WHERE severity NOT IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'NONE', 'UNKNOWN');
