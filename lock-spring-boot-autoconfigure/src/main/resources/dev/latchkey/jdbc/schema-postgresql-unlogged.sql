-- Latchkey's lock table for PostgreSQL, unlogged: the opt-in fast mode. Choose it by setting
-- latchkey.jdbc.schema=classpath:dev/latchkey/jdbc/schema-postgresql-unlogged.sql, or copy it into a migration.
--
-- An unlogged table skips the write-ahead log, which makes a lock far cheaper, but after a crash of the database its
-- rows are gone (and a replica never has them): every holder then sees its lease lost at its next renewal. The
-- sequence stays logged, so fencing tokens never go backwards. See the README before choosing it.
-- DESCRIPTION is the holder's description, if it gave one. A table made by an earlier version lacks it; add it with
-- ALTER TABLE LATCHKEY_LOCKS ADD COLUMN DESCRIPTION VARCHAR(200) (the repository refuses to start without it).
-- RECORD is the owner record an exclusive lease names: a row of key '' whose SLOT is '~owner:' and an id (PERMITS -3),
-- one per repository and TTL class, which keeps every lease naming it held while it is renewed, so that renewing them
-- all is one statement. A revocation (key '', SLOT the evicted token, PERMITS -4, RECORD its record) tells a holder of
-- a force-release. A table made by an earlier version lacks the column; add it with
-- ALTER TABLE LATCHKEY_LOCKS ADD COLUMN RECORD VARCHAR(64) (the repository refuses to start without it).
CREATE SEQUENCE IF NOT EXISTS LATCHKEY_LOCKS_FENCING;

CREATE UNLOGGED TABLE IF NOT EXISTS LATCHKEY_LOCKS (
	LOCK_KEY VARCHAR(512) NOT NULL,
	SLOT VARCHAR(64) NOT NULL,
	TOKEN VARCHAR(64),
	OWNER VARCHAR(255),
	FENCING BIGINT NOT NULL,
	PERMITS INT NOT NULL,
	EXPIRES_AT TIMESTAMP(3) WITH TIME ZONE NOT NULL,
	DESCRIPTION VARCHAR(200),
	RECORD VARCHAR(64),
	PRIMARY KEY (LOCK_KEY, SLOT)
);
