/**
 * Backoff for a notifier's sends. A failing SMTP server or webhook is retried
 * until it answers: the event is never skipped, only its partition waits.
 */

export interface RetryPolicy {
  /** Delay before the second attempt. */
  initialMs: number;
  /** Cap of the delay between attempts (the ceiling of how long recovery goes unnoticed). */
  maxMs: number;
  /** Upper bound of one attempt (connect, greeting, socket inactivity, HTTP request). */
  attemptTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 1_000, maxMs: 60_000, attemptTimeoutMs: 10_000 };

/**
 * Delay after failed attempt number `attempt` (1-based): doubling from
 * `initialMs`, capped at `maxMs`, with "equal jitter" (half fixed, half
 * random) so replicas that failed together do not retry in lockstep.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/** The receiver refused this message for good (e.g. SMTP 550 unknown mailbox): retrying cannot help. */
export class PermanentSendError extends Error {
  override name = "PermanentSendError";
}
