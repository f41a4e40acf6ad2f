/**
 * The JDBC backend: locks kept in a table of the application's own database (PostgreSQL, MySQL, MariaDB or H2), one
 * statement to acquire, one to release, database time only, and PostgreSQL's {@code LISTEN}/{@code NOTIFY} to wake
 * waiters.
 */
@NullMarked
package dev.latchkey.jdbc;

import org.jspecify.annotations.NullMarked;
