-- Durable scan claims, rescans, Too Large and organisational units (issue 6).
--
-- A claim is the images row plus a request marker: requested_at says dedupe decided to request
-- scan `scan_id` (generation `scan_generation` of the analysis `analysis_version`), published_at
-- that the broker acknowledged the ScanRequested. A claim requested but never published (a crash
-- or a publish failure in between) is published again by the next sighting of the digest; one
-- requested or scanning for longer than the scan timeout is re-requested by dedupe's sweep.

ALTER TABLE images ADD COLUMN requested_at     timestamptz;
ALTER TABLE images ADD COLUMN published_at     timestamptz;
ALTER TABLE images ADD COLUMN started_at       timestamptz;
ALTER TABLE images ADD COLUMN scan_generation  integer NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN analysis_version text;
ALTER TABLE images ADD COLUMN request_reason   text NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN request_attempts integer NOT NULL DEFAULT 0;
-- false while every sighting so far was unscannable (an ECS Fargate task): never requested
ALTER TABLE images ADD COLUMN scannable        boolean NOT NULL DEFAULT true;
ALTER TABLE images ADD COLUMN size_bytes       bigint NOT NULL DEFAULT 0;

-- The sweep's scan: requests still open (pending with a request, or scanning), oldest first.
CREATE INDEX images_open_requests_idx ON images (requested_at)
    WHERE status IN ('pending', 'scanning') AND requested_at IS NOT NULL;
CREATE INDEX images_status_idx ON images (status);

-- The organisational unit owning the environment the image was seen in ('' = none configured).
ALTER TABLE image_environments ADD COLUMN ou text NOT NULL DEFAULT '';
CREATE INDEX image_environments_ou_idx ON image_environments (ou, digest);
