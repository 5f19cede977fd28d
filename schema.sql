-- rawcrawl schema: every table, utf8mb4, safe to apply again (rawcrawl applies it at start).
-- Statements are separated by a semicolon at the end of a line.

-- One row per crawled URL. The unique key on url_hash (SHA-256 of the normalised URL) makes every
-- insert an upsert: a re-run updates rows, never duplicates them.
CREATE TABLE IF NOT EXISTS pages (
  id            BIGINT UNSIGNED   NOT NULL AUTO_INCREMENT,
  url_hash      BINARY(32)        NOT NULL,
  url           TEXT              NOT NULL,
  final_url     TEXT              NULL,
  status        SMALLINT UNSIGNED NULL,
  content_type  VARCHAR(255)      NULL,
  title         TEXT              NULL,
  fields        JSON              NULL,
  depth         INT UNSIGNED      NOT NULL DEFAULT 0,
  referrer      TEXT              NULL,
  bytes         BIGINT UNSIGNED   NOT NULL DEFAULT 0,
  fetched_at    DATETIME(3)       NOT NULL,
  timings       JSON              NULL,
  error         VARCHAR(64)       NULL,
  error_message TEXT              NULL,
  attempts      SMALLINT UNSIGNED NOT NULL DEFAULT 1,
  body          LONGTEXT          NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_pages_url_hash (url_hash),
  KEY ix_pages_fetched_at (fetched_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
