/**
 * Spring application events published for every lock acquisition, release, renewal, contention and loss.
 */
@NullMarked
package dev.latchkey.event;

import org.jspecify.annotations.NullMarked;
