/**
 * The bean post-processor, advisor and method interceptor that apply the lock annotations, and the
 * key templates they evaluate.
 */
@NullMarked
package dev.latchkey.interceptor;

import org.jspecify.annotations.NullMarked;
