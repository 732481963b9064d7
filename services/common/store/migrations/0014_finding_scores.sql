-- A CVE finding's CVSS vector, the source of its severity and its EPSS probability: carried by the
-- advisory match and the Finding (issue 15's Finding page shows them), stored beside cvss_score.
-- Rows stored before read as "none" until their image is evaluated again.

ALTER TABLE findings
    ADD COLUMN cvss_vector     text             NOT NULL DEFAULT '',
    ADD COLUMN severity_source text             NOT NULL DEFAULT '',
    ADD COLUMN epss            double precision NOT NULL DEFAULT 0;
