/**
 * Helpers that backends share: the local listeners of release notifications and the choice of a failure's message.
 * The core never uses this package.
 */
@NullMarked
package dev.latchkey.support;

import org.jspecify.annotations.NullMarked;
