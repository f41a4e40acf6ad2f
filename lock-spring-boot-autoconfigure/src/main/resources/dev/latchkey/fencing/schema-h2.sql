-- Latchkey's fence table for H2, used by dev.latchkey.fencing.JdbcFence. Nothing applies it for you: run it (for
-- example with spring.sql.init.schema-locations, or in a migration) on the database you write to, and replace
-- LATCHKEY_FENCES if you give JdbcFence another table name.
--
-- One row per fenced resource: the highest fencing token a write to it has committed with. A row is never deleted:
-- deleting it would let an older token in again.
CREATE TABLE IF NOT EXISTS LATCHKEY_FENCES (
	RESOURCE VARCHAR(512) NOT NULL PRIMARY KEY,
	TOKEN BIGINT NOT NULL
);
