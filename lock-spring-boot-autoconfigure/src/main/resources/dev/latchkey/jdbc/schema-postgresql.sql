-- Latchkey's lock table for PostgreSQL. Spring Boot applies it when latchkey.jdbc.initialize-schema allows; to apply it
-- with Flyway or Liquibase, copy it into a migration (and replace LATCHKEY_LOCKS if latchkey.jdbc.table-name is set).
--
-- One row per lease: SLOT is '' for the key's row, which holds the exclusive lease or, while permits are held, the
-- semaphore's reservation (every grant of the key locks it), and the holder's token for a semaphore permit
-- or a shared (read) lease (PERMITS 0), or for a writer waiting for the key (TOKEN empty, PERMITS -1); '~wake:' and an
-- instance's id for that instance's place in the key's wake line (TOKEN empty, PERMITS -2, FENCING when it joined).
-- Fencing tokens come from the sequence, so they never go backwards even when rows are deleted.
-- DESCRIPTION is the holder's description, if it gave one. A table made by an earlier version lacks it; add it with
-- ALTER TABLE LATCHKEY_LOCKS ADD COLUMN DESCRIPTION VARCHAR(200) (the repository refuses to start without it).
-- RECORD is the owner record an exclusive lease names: a row of key '' whose SLOT is '~owner:' and an id (PERMITS -3),
-- one per repository and TTL class, which keeps every lease naming it held while it is renewed, so that renewing them
-- all is one statement. A revocation (key '', SLOT the evicted token, PERMITS -4, RECORD its record) tells a holder of
-- a force-release. A table made by an earlier version lacks the column; add it with
-- ALTER TABLE LATCHKEY_LOCKS ADD COLUMN RECORD VARCHAR(64) (the repository refuses to start without it).
CREATE SEQUENCE IF NOT EXISTS LATCHKEY_LOCKS_FENCING;

CREATE TABLE IF NOT EXISTS LATCHKEY_LOCKS (
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
