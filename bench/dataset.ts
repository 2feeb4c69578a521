/**
 * The backlog: a deterministic stream of real user events (the envelope and
 * payloads of lib/events, validated by encodeEvent), produced straight into the
 * real `users` topic keyed by user id. Regenerating it with the same spec gives
 * the same events, so the raw PostgreSQL baseline inserts exactly the rows the
 * projector derives from the log, without keeping a million events in memory.
 */
import type { Producer } from "kafkajs";
import type { PersonalDataKeys } from "@/lib/privacy/key-store";
import { encodeEvent, serde, type DomainEvent } from "@/modules";
import type { UserEvent } from "@/modules/users/domain/events";

export interface BacklogSpec {
  /** 8 hex digits, unique per bench run: ids never collide on a shared cluster. */
  runHex: string;
  users: number;
  /** Events in the stream of one "heavy" user (its timeline page is measured). */
  heavyEvents: number;
  /** Total user events in the backlog (at least users + heavyEvents). */
  events: number;
  /** Roles created through the real command path beforehand. */
  roles: ReadonlyArray<{ id: string; name: string }>;
}

export const FIRST = [
  "Maria", "Mark", "Martin", "Anna", "John", "James", "Sofia", "Lucas", "Emma", "Noah", "Olivia", "Liam", "Ava", "Ethan",
  "Mia", "Mason", "Zoe", "Leo", "Chloe", "Hugo", "Ines", "Omar", "Yuki", "Priya", "Chen", "Fatima", "Ivan", "Kofi",
  "Lena", "Mateo", "Nina", "Oscar", "Paula", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wen",
] as const;
export const LAST = [
  "Garcia", "Smith", "Mueller", "Rossi", "Dubois", "Silva", "Kim", "Nguyen", "Patel", "Kowalski", "Jensen", "Novak",
  "Ivanova", "Okafor", "Tanaka", "Cohen", "Haddad", "Larsen", "Moreau", "Schmidt", "Baker", "Young", "Walker", "Lopez",
  "Hill", "Adams", "Nelson", "Carter", "Mitchell", "Perez", "Roberts", "Turner", "Phillips", "Campbell", "Parker",
  "Evans", "Edwards", "Collins", "Stewart", "Sanchez", "Morris", "Rogers", "Reed", "Cook", "Morgan", "Bell", "Murphy",
  "Bailey", "Rivera", "Cooper",
] as const;

const hex12 = (n: number) => n.toString(16).padStart(12, "0");
/** A valid v4-shaped uuid (zod's z.uuid() checks version and variant). */
export const userId = (spec: Pick<BacklogSpec, "runHex">, i: number) => `${spec.runHex}-0001-4000-8000-${hex12(i)}`;
const eventId = (spec: Pick<BacklogSpec, "runHex">, n: number) => `${spec.runHex}-0002-4000-8000-${hex12(n)}`;
/** The heavy user is user 0. */
export const heavyUserId = (spec: Pick<BacklogSpec, "runHex">) => userId(spec, 0);

export function personOf(i: number) {
  const first = FIRST[i % FIRST.length]!;
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length]!;
  return { name: `${first} ${last} ${i}`, email: `${first.toLowerCase()}.${last.toLowerCase()}.${i}@example.com` };
}

const BASE_TIME = Date.parse("2026-01-01T00:00:00.000Z");
const ACTOR = { kind: "service", name: "bench-import" } as const;

/** Total events the spec yields. */
export const backlogSize = (spec: BacklogSpec) => Math.max(spec.events, spec.users + spec.heavyEvents - 1);

/**
 * Users 0..users-1 are created first (user 0 is the heavy one), then rounds of
 * extra events (assign a role, log in, rename, log in) across all users until
 * `events` is reached; the heavy user's events are spread evenly through it.
 */
export function* generateBacklog(spec: BacklogSpec): Generator<UserEvent> {
  const total = backlogSize(spec);
  const heavyExtra = Math.max(0, spec.heavyEvents - 1);
  const main = total - heavyExtra; // creates + round-robin extras
  const stride = heavyExtra > 0 ? Math.max(1, Math.floor(main / heavyExtra)) : Infinity;
  const roles = spec.roles;
  let n = 0;
  let heavySeq = 1;
  let heavyDone = 0;
  const envelope = (aggregateId: string, sequence: number) => {
    const id = eventId(spec, n);
    const occurredAt = new Date(BASE_TIME + n).toISOString();
    n++;
    return { id, schemaVersion: 1, aggregateId, sequence, occurredAt, actor: ACTOR, correlationId: `bench-${id}`, causationId: null };
  };
  const heavyEvent = (): UserEvent => {
    heavySeq++;
    const k = heavySeq % 6;
    const role = roles[heavySeq % roles.length]!;
    const base = envelope(heavyUserId(spec), heavySeq);
    if (k === 0) return { ...base, type: "UserUpdated", payload: { name: `Heavy User ${heavySeq}` } };
    if (k === 2) return { ...base, type: "RoleAssignedToUser", payload: { roleId: role.id, roleName: role.name } };
    if (k === 4) return { ...base, type: "RoleUnassignedFromUser", payload: { roleId: role.id, roleName: role.name, reason: "unassigned" } };
    return { ...base, type: "UserLoggedIn", payload: { ip: `10.0.${heavySeq % 250}.${heavySeq % 200}`, userAgent: "bench/1.0" } };
  };
  for (let m = 0; m < main; m++) {
    if (m < spec.users) {
      const i = m;
      const p = i === 0 ? { name: "Heavy User", email: "heavy.user@example.com" } : personOf(i);
      yield { ...envelope(userId(spec, i), 1), type: "UserCreated", payload: p };
    } else {
      const x = m - spec.users;
      const round = Math.floor(x / spec.users);
      const i = x % spec.users;
      if (i === 0) {
        // user 0's extra slots go to the heavy stream instead
        if (heavyDone < heavyExtra) {
          heavyDone++;
          yield heavyEvent();
        }
        continue;
      }
      const base = envelope(userId(spec, i), round + 2);
      const kind = round % 4;
      if (kind === 0) {
        const role = roles[i % roles.length]!;
        yield { ...base, type: "RoleAssignedToUser", payload: { roleId: role.id, roleName: role.name } };
      } else if (kind === 2) {
        yield { ...base, type: "UserUpdated", payload: { name: `${personOf(i).name} (renamed ${round})` } };
      } else {
        yield { ...base, type: "UserLoggedIn", payload: { ip: `192.0.2.${i % 250}`, userAgent: "Mozilla/5.0 (bench)" } };
      }
    }
    if (m >= 1 && heavyDone < heavyExtra && m % stride === 0) {
      heavyDone++;
      yield heavyEvent();
    }
  }
  while (heavyDone < heavyExtra) {
    heavyDone++;
    yield heavyEvent();
  }
}

/** Encodes (encodeEvent: the real validation and format) and produces the backlog, in order, in large batches. */
export async function produceBacklog(
  producer: Producer,
  topic: string,
  spec: BacklogSpec,
  progress: (done: number) => void,
  /** Seal each person's personal data with their key, as the console writes it (lib/privacy); absent: in clear. */
  personalData?: Pick<PersonalDataKeys, "writeKeys">,
): Promise<number> {
  const CHUNK = 5_000;
  let events: DomainEvent[] = [];
  let done = 0;
  const flush = async () => {
    if (events.length === 0) return;
    let messages;
    if (personalData) {
      const keys = await personalData.writeKeys([...new Set(events.flatMap((e) => serde.personalSubjects(e)))]);
      messages = events.map((e) => encodeEvent(e, (subject) => keys.get(subject)!));
    } else messages = events.map((e) => encodeEvent(e));
    await producer.send({ topic, acks: -1, timeout: 60_000, messages });
    done += events.length;
    events = [];
    progress(done);
  };
  for (const event of generateBacklog(spec)) {
    events.push(event);
    if (events.length >= CHUNK) await flush();
  }
  await flush();
  return done;
}
