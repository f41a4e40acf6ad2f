/**
 * Auto-configuration and configuration properties for Latchkey.
 */
@NullMarked
package dev.latchkey.autoconfigure;

import org.jspecify.annotations.NullMarked;
