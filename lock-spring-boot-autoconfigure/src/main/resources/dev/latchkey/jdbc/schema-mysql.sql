-- Latchkey's lock table for MySQL and MariaDB. Spring Boot applies it when latchkey.jdbc.initialize-schema allows; to
-- apply it with Flyway or Liquibase, copy it into a migration (and replace LATCHKEY_LOCKS if latchkey.jdbc.table-name
-- is set).
--
-- One row per lease: SLOT is '' for the key's row, which holds the exclusive lease or, while permits are held, the
-- semaphore's reservation (every grant of the key locks it), and the holder's token for a semaphore permit
-- or a shared (read) lease (PERMITS 0), or for a writer waiting for the key (TOKEN empty, PERMITS -1). MySQL has no sequences, so the
-- fencing counter lives in the key's row, which is kept (emptied) on release, so that its FENCING never goes
-- backwards. Times are UTC (UTC_TIMESTAMP), whatever the session's time zone.
-- DESCRIPTION is the holder's description, if it gave one. A table made by an earlier version lacks it; add it with
-- ALTER TABLE LATCHKEY_LOCKS ADD COLUMN DESCRIPTION VARCHAR(200) (the repository refuses to start without it).
-- RECORD names, for an exclusive lease, the owner record (a row of LATCHKEY_LOCKS_OWNERS, below) of its holder's
-- instance and TTL: the lease is held while its own EXPIRES_AT or its record's has not passed, so that renewing the
-- record renews every lease that names it. A table made by an earlier version lacks it; add it with
-- ALTER TABLE LATCHKEY_LOCKS ADD COLUMN RECORD VARCHAR(64), and create LATCHKEY_LOCKS_OWNERS (while instances of the
-- earlier version still take locks from the table, set latchkey.jdbc.owner-records=false).
CREATE TABLE IF NOT EXISTS LATCHKEY_LOCKS (
	LOCK_KEY VARCHAR(512) NOT NULL,
	SLOT VARCHAR(64) NOT NULL,
	TOKEN VARCHAR(64),
	OWNER VARCHAR(255),
	FENCING BIGINT NOT NULL,
	PERMITS INT NOT NULL,
	EXPIRES_AT DATETIME(3) NOT NULL,
	DESCRIPTION VARCHAR(200),
	RECORD VARCHAR(64),
	PRIMARY KEY (LOCK_KEY, SLOT)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The owner records: TOKEN is '' for a record itself, and the token of an exclusive lease that a force-release
-- evicted for a revocation, which the record's next renewal takes and reports lost. Rows past EXPIRES_AT are deleted
-- when a record is made.
CREATE TABLE IF NOT EXISTS LATCHKEY_LOCKS_OWNERS (
	RECORD VARCHAR(64) NOT NULL,
	TOKEN VARCHAR(64) NOT NULL,
	OWNER VARCHAR(255),
	EXPIRES_AT DATETIME(3) NOT NULL,
	PRIMARY KEY (RECORD, TOKEN)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
