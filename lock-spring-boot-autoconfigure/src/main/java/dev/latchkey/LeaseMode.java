package dev.latchkey;

/**
 * How a key is held: by one owner at a time, or by up to a limit of owners at once.
 */
public enum LeaseMode {

	/**
	 * One holder at a time ({@code @Exclusive}).
	 */
	EXCLUSIVE,

	/**
	 * Up to a limit of holders at once, each holding one permit ({@code @Semaphore}).
	 */
	SHARED

}
