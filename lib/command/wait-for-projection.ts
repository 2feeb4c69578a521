/**
 * Read-your-writes for the command side: after a command, wait (bounded) until
 * the projector has passed the positions its events landed at.
 */
import type { Db } from "@/lib/db";

/** Read-your-writes: resolves true once the projector has passed every position, false at the deadline. */
export async function waitForProjection(
  db: Db,
  group: string,
  positions: ReadonlyArray<{ topic: string; partition: number; offset: string }>,
  timeoutMs = 3_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let done = true;
    for (const p of positions) {
      const rows = await db.$queryRaw<{ next_offset: bigint }[]>`
        SELECT next_offset FROM projection_offsets
        WHERE consumer_group = ${group} AND topic = ${p.topic} AND partition = ${p.partition}`;
      if (!rows[0] || rows[0].next_offset <= BigInt(p.offset)) {
        done = false;
        break;
      }
    }
    if (done) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}
