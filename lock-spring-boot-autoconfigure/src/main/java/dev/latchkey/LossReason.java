package dev.latchkey;

/**
 * Why a lease was lost.
 */
public enum LossReason {

	/**
	 * The backend answered that the lease is no longer ours: it expired there or another owner took the key.
	 */
	NOT_OWNER,

	/**
	 * Renewals kept failing until the lease's local validity deadline passed.
	 */
	RENEWAL_FAILED,

	/**
	 * The backend no longer held the lease when the work finished and released it (it expired, or the backend lost it,
	 * before a renewal could notice).
	 */
	EXPIRED_BEFORE_RELEASE

}
