/**
 * Command load through the application layer, recording every outcome with its
 * correlation id: what was acknowledged (event ids), what failed and how.
 */
import { randomUUID } from "node:crypto";
import { createUser, recordLogin, updateUser } from "@/modules/users/application/user-commands";
import type { Scope } from "./infra";
import { errorCode, sleep, type Rng } from "./util";

export interface Outcome {
  correlationId: string;
  op: string;
  /** The user the command was about (absent for a create that failed). */
  aggregateId?: string;
  ok: boolean;
  code?: string;
  message?: string;
  eventIds: string[];
  /** Where the broker said each event landed (topic/partition/offset). */
  positions: string[];
  startedAt: number;
  ms: number;
}

export interface Load {
  outcomes: Outcome[];
  stop(): Promise<void>;
}

/** `workers` loops of createUser / recordLogin / updateUser on their own users until stopped. */
export function startCommandLoad(scope: Scope, rnd: Rng, workers: number, label: string): Load {
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async (_, w) => {
    const mine: Array<{ id: string; version: number }> = [];
    let n = 0;
    while (running) {
      const correlationId = `${label}-${randomUUID()}`;
      const ctx = { ...scope.ctx, correlationId };
      const roll = rnd.next();
      const user = mine.length ? rnd.pick(mine) : undefined;
      const op = !user || roll < 0.3 ? "createUser" : roll < 0.7 ? "recordLogin" : "updateUser";
      const startedAt = Date.now();
      try {
        let result;
        if (op === "createUser") {
          result = await createUser(scope.deps, ctx, { email: `${label}-w${w}-${n++}@drill.example`, name: `Worker ${w} user ${n}` });
          mine.push({ id: result.aggregateId, version: result.version });
        } else if (op === "recordLogin") {
          result = await recordLogin(scope.deps, ctx, { userId: user!.id, ip: "198.51.100.7", userAgent: label });
          user!.version = result.version;
        } else {
          result = await updateUser(scope.deps, ctx, { userId: user!.id, expectedVersion: user!.version, name: `renamed ${correlationId.slice(-6)}` });
          user!.version = result.version;
        }
        outcomes.push({
          correlationId,
          op,
          aggregateId: result.aggregateId,
          ok: true,
          eventIds: result.events.map((e) => e.event.id),
          positions: result.events.map((e) => `${e.topic}/${e.partition}/${e.offset}`),
          startedAt,
          ms: Date.now() - startedAt,
        });
      } catch (error) {
        outcomes.push({ correlationId, op, aggregateId: user?.id, ok: false, code: errorCode(error), message: (error as Error).message?.slice(0, 300), eventIds: [], positions: [], startedAt, ms: Date.now() - startedAt });
        if (user) {
          // Learn the head's version again (a failed command must not have moved it).
          const head = await scope.db.stream.findUnique({ where: { id: user.id } }).catch(() => null);
          if (head) user.version = head.version;
        }
        await sleep(100);
      }
      await sleep(20);
    }
  });
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

export function summarize(outcomes: Outcome[]) {
  const failures = outcomes.filter((o) => !o.ok);
  const codes = new Map<string, number>();
  for (const f of failures) codes.set(f.code ?? "?", (codes.get(f.code ?? "?") ?? 0) + 1);
  return {
    ok: outcomes.length - failures.length,
    failed: failures.length,
    codes: [...codes].map(([c, n]) => `${c}:${n}`).join(",") || "none",
    maxFailMs: Math.max(0, ...failures.map((f) => f.ms)),
  };
}

/**
 * Acknowledged events the broker placed at a position it also gave another
 * acknowledged event: the signature of an idempotent producer whose new batch
 * was taken for a duplicate of an earlier one (it gets the earlier offset and
 * is dropped).
 */
export function sharedPositions(outcomes: Outcome[]): string[] {
  const seen = new Set<string>();
  const shared: string[] = [];
  for (const position of outcomes.filter((o) => o.ok).flatMap((o) => o.positions)) {
    if (seen.has(position)) shared.push(position);
    seen.add(position);
  }
  return shared;
}
