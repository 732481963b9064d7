-- A package inventory kept in the object store (S3) instead of inline: its key. '' = inline in packages.
ALTER TABLE scans ADD COLUMN IF NOT EXISTS packages_ref text NOT NULL DEFAULT '';
