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
  error_offset  BIGINT UNSIGNED   NULL,
  error_excerpt TEXT              NULL,
  leniencies    JSON              NULL,
  attempts      SMALLINT UNSIGNED NOT NULL DEFAULT 1,
  warc_file     VARCHAR(1024)     NULL,
  warc_offset   BIGINT UNSIGNED   NULL,
  capture       JSON              NULL,
  body          LONGTEXT          NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_pages_url_hash (url_hash),
  KEY ix_pages_fetched_at (fetched_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Persistent, shared frontier (--crawl-id): one row per crawl, named.
-- The first process to start a crawl stores its scope and limits in `options`; the others adopt them.
CREATE TABLE IF NOT EXISTS crawls (
  id            INT UNSIGNED    NOT NULL AUTO_INCREMENT,
  name          VARCHAR(191)    NOT NULL,
  created_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  options       JSON            NULL,
  max_pages     BIGINT UNSIGNED NULL,
  pages_counted BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  UNIQUE KEY uq_crawls_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every URL a crawl has discovered. The primary key (crawl, URL hash) is the seen-set: INSERT IGNORE
-- dedupes. Workers claim small batches of queued rows with SELECT … FOR UPDATE SKIP LOCKED and hold
-- them under a lease (lease_owner, lease_expires) that they renew; an expired lease is retaken.
CREATE TABLE IF NOT EXISTS frontier (
  crawl_id      INT UNSIGNED      NOT NULL,
  url_hash      BINARY(16)        NOT NULL,
  id            BIGINT UNSIGNED   NOT NULL AUTO_INCREMENT,
  url           TEXT              NOT NULL,
  host          VARCHAR(255)      NOT NULL,
  depth         INT UNSIGNED      NOT NULL,
  referrer      TEXT              NULL,
  -- Redirects in a row that led to this URL (0: a start URL or a link); --max-redirects bounds it.
  -- Added to a frontier table made before it by rawcrawl at start (connectMysql).
  redirects     SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  state         ENUM('queued','claimed','done','failed','skipped') NOT NULL DEFAULT 'queued',
  attempts      SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  counted       TINYINT(1)        NOT NULL DEFAULT 0,
  not_before    DATETIME(3)       NOT NULL DEFAULT '1970-01-01 00:00:01.000',
  lease_owner   VARCHAR(64)       NULL,
  lease_expires DATETIME(3)       NULL,
  updated_at    DATETIME(3)       NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (crawl_id, url_hash),
  UNIQUE KEY uq_frontier_id (id),
  KEY ix_frontier_claim (crawl_id, state, depth, id),
  KEY ix_frontier_lease (crawl_id, state, lease_expires),
  KEY ix_frontier_updated (crawl_id, state, updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Per-host politeness shared by every process of a crawl: the time the last request was written
-- (for --delay and robots Crawl-delay) and the process now starting one (`starter`, under a lease).
-- In-flight slots (--per-host) are the server's named locks (GET_LOCK), not rows: they cost no
-- disk write and are freed when a dead process's connection closes.
CREATE TABLE IF NOT EXISTS crawl_hosts (
  crawl_id         INT UNSIGNED NOT NULL,
  host             VARCHAR(255) NOT NULL,
  delay_ms         INT UNSIGNED NOT NULL DEFAULT 0,
  last_start       DATETIME(3)  NOT NULL DEFAULT '1970-01-01 00:00:01.000',
  starter          VARCHAR(64)  NULL,
  starter_expires DATETIME(3)  NULL,
  PRIMARY KEY (crawl_id, host)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
