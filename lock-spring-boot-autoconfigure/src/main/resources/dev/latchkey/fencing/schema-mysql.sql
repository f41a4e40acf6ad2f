-- Latchkey's fence table for MySQL and MariaDB, used by dev.latchkey.fencing.JdbcFence. Nothing applies it for you:
-- copy it into a Flyway or Liquibase migration of the database you write to (and replace LATCHKEY_FENCES if you give
-- JdbcFence another table name).
--
-- One row per fenced resource: the highest fencing token a write to it has committed with. A row is never deleted:
-- deleting it would let an older token in again. InnoDB, for the row lock that orders writers until they commit.
CREATE TABLE IF NOT EXISTS LATCHKEY_FENCES (
	RESOURCE VARCHAR(512) NOT NULL PRIMARY KEY,
	TOKEN BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
