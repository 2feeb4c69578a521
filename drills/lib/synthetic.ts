/**
 * Volume: well-formed events in the real format (encodeEvent), written straight
 * to the topics as another service would, with consistent per-aggregate
 * sequences. Users are interleaved (a pool of live scripts), so every batch the
 * projector reads mixes many aggregates.
 */
import { randomUUID } from "node:crypto";
import type { Message, Producer } from "kafkajs";
import type { Actor } from "@/lib/events/envelope";
import { encodeEvent, streamOf, type DomainEvent } from "@/modules";
import type { Scope } from "./infra";
import { sleep, type Rng } from "./util";

type Draft = { type: DomainEvent["type"]; payload: Record<string, unknown> };

interface Script {
  id: string;
  steps: Draft[];
  next: number;
}

export class SyntheticEvents {
  private readonly actor: Actor = { kind: "service", name: "drill-importer" };
  private clock = Date.now() - 86_400_000;
  private readonly pool: Script[] = [];
  private readonly roles: Array<{ id: string; name: string; version: number }> = [];
  private userCount = 0;
  readonly tag: string;

  constructor(
    private readonly rnd: Rng,
    private readonly poolSize = 400,
  ) {
    this.tag = randomUUID().slice(0, 8);
  }

  get users() {
    return this.userCount;
  }
  /** Roles created so far (ids and names). */
  get roleRefs() {
    return this.roles;
  }

  private envelope(aggregateId: string, sequence: number, d: Draft): DomainEvent {
    this.clock += 1;
    return {
      id: randomUUID(),
      type: d.type,
      schemaVersion: 1,
      aggregateId,
      sequence,
      occurredAt: new Date(this.clock).toISOString(),
      actor: this.actor,
      correlationId: `synthetic-${this.tag}`,
      causationId: null,
      payload: d.payload,
    } as DomainEvent;
  }

  private newScript(): Script {
    const n = this.userCount++;
    const r = this.rnd;
    const [r1, r2] = [r.pick(this.roles), r.pick(this.roles)];
    const steps: Draft[] = [
      { type: "UserCreated", payload: { email: `u${n}-${this.tag}@drill.example`, name: `Drill User ${n}` } },
      { type: "RoleAssignedToUser", payload: { roleId: r1!.id, roleName: r1!.name } },
      { type: "UserLoggedIn", payload: { ip: `10.0.${n % 250}.${r.int(1, 250)}`, userAgent: r.chance(0.5) ? "drill/1.0" : null } },
      r.chance(0.5)
        ? { type: "UserUpdated", payload: { name: `Drill User ${n} (renamed)` } }
        : { type: "UserUpdated", payload: { email: `u${n}-${this.tag}-new@drill.example` } },
    ];
    if (r2 && r2.id !== r1!.id) steps.push({ type: "RoleAssignedToUser", payload: { roleId: r2.id, roleName: r2.name } });
    if (r.chance(0.4)) steps.push({ type: "RoleUnassignedFromUser", payload: { roleId: r1!.id, roleName: r1!.name, reason: "unassigned" } });
    steps.push({ type: "UserLoggedIn", payload: { ip: null, userAgent: null } });
    if (r.chance(0.15)) steps.push({ type: "UserDeleted", payload: {} });
    return { id: randomUUID(), steps, next: 0 };
  }

  /** The next event: a role event now and then, otherwise the next step of a random live user. */
  next(): DomainEvent {
    if (this.roles.length < 20 || this.rnd.chance(0.002)) {
      const id = randomUUID();
      const role = { id, name: `drill-role-${this.roles.length}`, version: 1 };
      this.roles.push(role);
      return this.envelope(id, 1, { type: "RoleCreated", payload: { name: role.name, description: "created by the drills" } });
    }
    if (this.rnd.chance(0.003)) {
      const role = this.rnd.pick(this.roles);
      role.version += 1;
      return this.envelope(role.id, role.version, { type: "RoleUpdated", payload: { description: `updated at v${role.version}` } });
    }
    while (this.pool.length < this.poolSize) this.pool.push(this.newScript());
    const i = this.rnd.int(0, this.pool.length - 1);
    const script = this.pool[i]!;
    const step = script.steps[script.next]!;
    script.next += 1;
    if (script.next >= script.steps.length) this.pool.splice(i, 1);
    return this.envelope(script.id, script.next, step);
  }
}

export interface OutMessage {
  topic: string;
  message: Message;
}

export const asMessage = (scope: Pick<Scope, "topics">, e: DomainEvent): OutMessage => ({
  topic: scope.topics[streamOf(e.type)],
  message: encodeEvent(e),
});

/**
 * Sends `total` messages from `source` in chunks, at most `ratePerSec` (0 = as fast as possible).
 * Stops early when `stop()` says so. Resolves with the number acknowledged.
 */
export async function pump(
  producer: Producer,
  total: number,
  source: (i: number) => OutMessage,
  opts: { ratePerSec?: number; chunk?: number; stop?: () => boolean; onProgress?: (sent: number) => void } = {},
): Promise<number> {
  const chunk = opts.chunk ?? 1000;
  const started = Date.now();
  let sent = 0;
  while (sent < total && !opts.stop?.()) {
    const n = Math.min(chunk, total - sent);
    const byTopic = new Map<string, Message[]>();
    for (let i = 0; i < n; i++) {
      const m = source(sent + i);
      let list = byTopic.get(m.topic);
      if (!list) byTopic.set(m.topic, (list = []));
      list.push(m.message);
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    sent += n;
    opts.onProgress?.(sent);
    if (opts.ratePerSec) {
      const due = started + (sent / opts.ratePerSec) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
    }
  }
  return sent;
}

export function volumeProducer(scope: Pick<Scope, "kafka">): Producer {
  return scope.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
}
