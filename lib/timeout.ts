/**
 * `work`, or a rejection once `ms` have passed: for answers that must come in bounded time (a
 * probe, a health page that must render while Kafka or PostgreSQL hang). The work itself is not
 * cancelled; a failure it reports after the timeout is swallowed, not left unhandled.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what = "no answer"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
  });
  work.catch(() => {});
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
