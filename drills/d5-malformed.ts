/**
 * Drill 5: garbage in.
 * (a) N malformed inputs to the application functions (random types, sizes,
 *     encodings, missing and extra fields): every one must be rejected with a
 *     DomainError "validation" carrying field errors; no event, no crash.
 * (b) N malformed Kafka messages interleaved with valid events: every one must
 *     reach `<topic>.dlq` and dead_letters; the valid ones around them are
 *     projected (read model = fold of the log).
 */
import { randomUUID } from "node:crypto";
import type { Message } from "kafkajs";
import { DomainError } from "@/lib/errors";
import { encodeEvent } from "@/lib/events/codec";
import { silentLogger } from "@/lib/log";
import { createProjector } from "@/lib/projection/projector";
import { createRole, deleteRole, updateRole } from "@/modules/roles/application/role-commands";
import { assignRole, createUser, deleteUser, recordLogin, unassignRole, updateUser } from "@/modules/users/application/user-commands";
import type { DrillEnv } from "./lib/context";
import { createScope, type Scope } from "./lib/infra";
import { asMessage, pump, SyntheticEvents, volumeProducer, type OutMessage } from "./lib/synthetic";
import { Report, say, type Rng } from "./lib/util";
import { compareWithFold, endOffsets, foldLog, logSummary, posKey, readDeadLetterTopics, readLog, snapshotReadModel, totalMessages, waitUntilCaughtUp } from "./lib/verify";

type Fn = (deps: Scope["deps"], ctx: Scope["ctx"], input: unknown) => Promise<unknown>;
type Kind = "uuid" | "email" | "name" | "roleName" | "version" | "text";

interface Target {
  name: string;
  fn: Fn;
  /** Fields a valid input has, and the kind of each; `required` must be present. */
  fields: Record<string, Kind>;
  required: string[];
}

const TARGETS: Target[] = [
  { name: "createUser", fn: createUser, fields: { email: "email", name: "name" }, required: ["email", "name"] },
  { name: "updateUser", fn: updateUser, fields: { userId: "uuid", expectedVersion: "version", email: "email", name: "name" }, required: ["userId", "expectedVersion"] },
  { name: "deleteUser", fn: deleteUser, fields: { userId: "uuid", expectedVersion: "version" }, required: ["userId", "expectedVersion"] },
  { name: "recordLogin", fn: recordLogin, fields: { userId: "uuid", ip: "text", userAgent: "text" }, required: ["userId"] },
  { name: "assignRole", fn: assignRole, fields: { userId: "uuid", roleId: "uuid", expectedVersion: "version" }, required: ["userId", "roleId"] },
  { name: "unassignRole", fn: unassignRole, fields: { userId: "uuid", roleId: "uuid", expectedVersion: "version" }, required: ["userId", "roleId"] },
  { name: "createRole", fn: createRole, fields: { name: "roleName", description: "text" }, required: ["name"] },
  { name: "updateRole", fn: updateRole, fields: { roleId: "uuid", expectedVersion: "version", name: "roleName", description: "text" }, required: ["roleId", "expectedVersion"] },
  { name: "deleteRole", fn: deleteRole, fields: { roleId: "uuid", expectedVersion: "version" }, required: ["roleId", "expectedVersion"] },
];

function validValue(kind: Kind, r: Rng): unknown {
  switch (kind) {
    case "uuid":
      return randomUUID();
    case "email":
      return `ok${r.int(0, 1e6)}@drill.example`;
    case "name":
    case "roleName":
      return `Valid ${r.int(0, 1e6)}`;
    case "version":
      return r.int(0, 5);
    case "text":
      return "fine";
  }
}

const randomBytesString = (r: Rng, n: number, encoding: BufferEncoding) =>
  Buffer.from(Array.from({ length: n }, () => r.int(0, 255))).toString(encoding);

/** A value that the field's schema must refuse (strict kinds only: uuid, email, names, version). */
function invalidValue(kind: Kind, r: Rng): unknown {
  const wrongType = [null, true, false, 42, -1.5, [], [1, 2], {}, { a: 1 }, Buffer.from("abc"), new Date(), NaN];
  if (r.chance(0.3)) {
    const v = r.pick(wrongType);
    // z.coerce.number accepts null/true/false/[] and Dates (they coerce to numbers) — only truly non-numeric values for versions.
    if (kind === "version") return r.pick([{}, { a: 1 }, [1, 2], NaN, "abc", Buffer.from("x")]);
    return v;
  }
  switch (kind) {
    case "uuid":
      return r.pick([
        "",
        "not-a-uuid",
        randomUUID().slice(0, 35),
        `${randomUUID()}x`,
        randomUUID().replace(/[0-9a-f]/, "g"),
        randomBytesString(r, r.int(1, 64), "latin1"),
        randomBytesString(r, 36, "utf8"),
        "\ud800" + randomUUID().slice(1), // lone surrogate
        " ".repeat(r.int(1, 50)),
        "'; drop table users; --",
      ]);
    case "email":
      return r.pick([
        "",
        "   ",
        "no-at-sign",
        "@example.com",
        "user@",
        `${"a".repeat(250)}@example.com`,
        randomBytesString(r, r.int(1, 300), "latin1").replace(/@/g, ""),
        "us\u0000er@exa mple.com",
        "\ud83d@x",
        "a".repeat(r.int(100_000, 1_000_000)),
      ]);
    case "name":
      return r.pick(["", "   ", "\t\n", "x".repeat(r.int(201, 5000)), " ".repeat(300)]);
    case "roleName":
      return r.pick(["", "   ", "\n", "r".repeat(r.int(101, 5000))]);
    case "version":
      return r.pick([-1, -r.int(2, 1e9), 1.5, "abc", "1e", {}, NaN, Infinity, -Infinity, "-3", [1, 2]]);
    case "text":
      return "fine";
  }
}

function extraFields(r: Rng): Record<string, unknown> {
  const extras: Record<string, unknown> = {};
  for (let i = r.int(0, 4); i > 0; i--) {
    const key = r.pick(["isAdmin", "payload", "__proto__x", "constructor", "sequence", "id", "roles", "x".repeat(r.int(1, 300)), "emoji😀"]);
    extras[key] = r.pick([true, 1, "x", { nested: { deep: [1, 2, 3] } }, null, "a".repeat(r.int(0, 10_000))]);
  }
  return extras;
}

/** A malformed input for `t`: at least one guaranteed violation, plus noise. */
function malformed(t: Target, r: Rng): unknown {
  const roll = r.next();
  if (roll < 0.12) {
    return r.pick([undefined, null, 0, 1, "", "string", "{}", true, [], [{}], Buffer.from("{}"), new Date(), () => 1, "\ud800".repeat(10)]);
  }
  const input: Record<string, unknown> = {};
  for (const [f, kind] of Object.entries(t.fields)) if (t.required.includes(f) || r.chance(0.5)) input[f] = validValue(kind, r);
  const strict = Object.entries(t.fields).filter(([, k]) => k !== "text");
  const textFields = Object.entries(t.fields).filter(([, k]) => k !== "uuid" && k !== "version");
  if (roll < 0.2 && textFields.length) {
    // Otherwise valid, but a text field holds U+0000 (PostgreSQL cannot store it).
    const [f] = r.pick(textFields);
    input[f] = r.pick(["Nul\u0000name", "\u0000", "agent\u0000/1.0"]);
    return { ...extraFields(r), ...input };
  }
  if (roll < 0.45) {
    // Missing required field(s).
    for (const f of t.required) if (r.chance(0.6)) delete input[f];
    if (t.required.every((f) => f in input)) delete input[r.pick(t.required)];
  } else {
    // Wrong type / size / encoding in one or more strict fields.
    const [f, kind] = r.pick(strict);
    input[f] = invalidValue(kind, r);
    if (r.chance(0.3)) {
      const [g, k2] = r.pick(strict);
      input[g] = invalidValue(k2, r);
    }
  }
  return { ...extraFields(r), ...input };
}

async function commandInputs(scope: Scope, r: Rng, n: number, report: Report) {
  const endsBefore = totalMessages(await endOffsets(scope));
  const streamsBefore = await scope.db.stream.count();
  const rejected = new Map<string, number>();
  const problems: string[] = [];
  let accepted = 0;
  let wrongError = 0;
  const started = Date.now();
  for (let i = 0; i < n; i++) {
    const t = r.pick(TARGETS);
    const input = malformed(t, r);
    try {
      await t.fn(scope.deps, scope.ctx, input);
      accepted++;
      if (problems.length < 5) problems.push(`${t.name} ACCEPTED ${safeJson(input)}`);
    } catch (error) {
      const ok = error instanceof DomainError && error.code === "validation" && !!error.fieldErrors && Object.keys(error.fieldErrors).length > 0;
      if (ok) rejected.set(t.name, (rejected.get(t.name) ?? 0) + 1);
      else {
        wrongError++;
        if (problems.length < 5) problems.push(`${t.name} threw ${(error as Error).name} ${(error as { code?: string }).code ?? ""}: ${(error as Error).message?.slice(0, 160)} for ${safeJson(input)}`);
      }
    }
  }
  const total = [...rejected.values()].reduce((a, b) => a + b, 0);
  report.count("malformed command inputs", n);
  report.count("rejected with validation + field errors", total);
  report.count("per function", [...rejected].map(([k, v]) => `${k} ${v}`).join(", "));
  say(`  ${n} inputs in ${Date.now() - started} ms`);
  report.check("every malformed input rejected as validation with field errors", total === n, `${accepted} accepted, ${wrongError} other errors${problems.length ? `: ${problems.join(" | ")}` : ""}`);
  const endsAfter = totalMessages(await endOffsets(scope));
  const streamsAfter = await scope.db.stream.count();
  report.check("no event appended and no head written", endsAfter === endsBefore && streamsAfter === streamsBefore, `log ${endsBefore}→${endsAfter}, streams ${streamsBefore}→${streamsAfter}`);
}

function safeJson(v: unknown) {
  try {
    return (JSON.stringify(v) ?? String(v)).slice(0, 160);
  } catch {
    return typeof v;
  }
}

/** One malformed message for the users or roles topic. */
function junkMessage(scope: Scope, r: Rng, gen: SyntheticEvents, recentUser: () => string | undefined): OutMessage {
  const topic = r.chance(0.8) ? scope.topics.users : scope.topics.roles;
  const key = r.chance(0.5) ? (recentUser() ?? randomUUID()) : r.chance(0.5) ? randomUUID() : null;
  const valid = () => encodeEvent(gen.next());
  const validEnvelope = () => JSON.parse(valid().value) as Record<string, unknown>;
  const kind = r.int(0, 12);
  let value: Buffer | string | null;
  let k: string | null = key;
  switch (kind) {
    case 0: // not JSON: random bytes
      value = Buffer.from(Array.from({ length: r.int(1, 2000) }, () => r.int(0, 255)));
      break;
    case 1: // truncated JSON
      value = valid().value.slice(0, r.int(1, 60));
      break;
    case 2: // JSON that is not an object
      value = r.pick(["42", '"a string"', "[1,2,3]", "null", "true", "[]"]);
      break;
    case 3: {
      // envelope with a missing or mistyped field
      const e = validEnvelope();
      const f = r.pick(["id", "type", "schemaVersion", "aggregateId", "sequence", "occurredAt", "actor", "correlationId"]);
      if (r.chance(0.5)) delete e[f];
      else e[f] = f === "occurredAt" ? r.pick(["not-a-date", "2026-13-45", 1.5, null]) : r.pick([null, -1, "", {}, 1.5]);
      k = typeof e.aggregateId === "string" ? e.aggregateId : k;
      value = JSON.stringify(e);
      break;
    }
    case 4: {
      const e: Record<string, unknown> = { ...validEnvelope(), type: r.pick(["UserPromoted", "", "userCreated", "RoleCreated "]) };
      value = JSON.stringify(e);
      k = e.aggregateId as string;
      break;
    }
    case 5: {
      // an event of the other stream on this topic
      const e: Record<string, unknown> = { ...validEnvelope(), type: topic === scope.topics.users ? "RoleCreated" : "UserCreated", payload: { name: "x", description: "", email: "a@b.example" } };
      value = JSON.stringify(e);
      k = e.aggregateId as string;
      break;
    }
    case 6: {
      // key differs from aggregateId
      const e = validEnvelope();
      value = JSON.stringify(e);
      k = randomUUID();
      break;
    }
    case 7: {
      // invalid payload
      const e: Record<string, unknown> = { ...validEnvelope(), type: "UserCreated", payload: { email: "not an email", name: "" } };
      if (topic === scope.topics.roles) Object.assign(e, { type: "RoleCreated", payload: { name: "" } });
      value = JSON.stringify(e);
      k = e.aggregateId as string;
      break;
    }
    case 8: // empty or tombstone
      value = r.chance(0.5) ? null : "";
      break;
    case 9: {
      // a well-formed event for an aggregate that does not exist
      const id = randomUUID();
      const user = topic === scope.topics.users;
      const e = {
        ...validEnvelope(),
        id: randomUUID(),
        aggregateId: id,
        sequence: 2,
        type: user ? "UserUpdated" : "RoleUpdated",
        payload: user ? { name: "ghost" } : { description: "ghost" },
      };
      value = JSON.stringify(e);
      k = id;
      break;
    }
    case 10: {
      // a schemaVersion from the future
      const e: Record<string, unknown> = { ...validEnvelope(), schemaVersion: 99 };
      value = JSON.stringify(e);
      k = e.aggregateId as string;
      break;
    }
    case 12: {
      // well-formed in every way, but a text field holds U+0000
      const id = randomUUID();
      const user = topic === scope.topics.users;
      const e = {
        ...validEnvelope(),
        id: randomUUID(),
        aggregateId: id,
        sequence: 1,
        type: user ? "UserCreated" : "RoleCreated",
        payload: user ? { email: `nul-${id}@drill.example`, name: "Nul\u0000Name" } : { name: "nul\u0000role", description: "" },
      };
      value = JSON.stringify(e);
      k = id;
      break;
    }
    default: // invalid UTF-8 inside otherwise JSON-looking text
      value = Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
  }
  // The generator produced an event for cases 1/3/4/5/6/7/10 that was never sent: harmless (a skipped sequence step
  // would break that user's fold, so such helpers draw from a separate generator).
  const message: Message = { key: k, value, headers: { "drill-junk": String(kind) } };
  return { topic, message };
}

async function kafkaMessages(scope: Scope, r: Rng, n: number, report: Report) {
  const producer = volumeProducer(scope);
  await producer.connect();
  const projector = createProjector({ db: scope.db, config: scope.config, logger: silentLogger });
  try {
    const valid = new SyntheticEvents(r);
    const scratch = new SyntheticEvents(r); // source of envelopes to corrupt
    const recent: string[] = [];
    let junk = 0;
    let good = 0;
    const total = n * 2;
    await projector.start();
    await pump(
      producer,
      total,
      () => {
        // Interleaved: half junk, half valid, in random order.
        if ((r.chance(0.5) && junk < n) || good >= n) {
          junk++;
          return junkMessage(scope, r, scratch, () => (recent.length ? r.pick(recent) : undefined));
        }
        good++;
        const e = valid.next();
        if (e.type === "UserCreated") {
          recent.push(e.aggregateId);
          if (recent.length > 200) recent.shift();
        }
        return asMessage(scope, e);
      },
      { chunk: 500 },
    );
    report.count("malformed messages sent", junk);
    report.count("valid messages sent", good);
    await waitUntilCaughtUp(scope, 300_000, (b) => say(`  projector ${b} behind`));
    await projector.stop();

    const log = await readLog(scope);
    const junkKeys = new Set(log.filter((m) => m.headers["drill-junk"] !== undefined).map((m) => posKey(m.topic, m.partition, m.offset)));
    const fold = foldLog(scope, log);
    logSummary(fold);
    const dlq = await readDeadLetterTopics(scope);
    const dlqKeys = new Set(dlq.map((d) => d.original));
    const rm = await snapshotReadModel(scope);
    const rowKeys = new Set(rm.deadLetters);
    const missingDlq = [...junkKeys].filter((k) => !dlqKeys.has(k));
    const kindOf = new Map(log.map((m) => [posKey(m.topic, m.partition, m.offset), m]));
    for (const k of missingDlq.slice(0, 5)) {
      const m = kindOf.get(k)!;
      say(`    not dead-lettered: junk kind ${m.headers["drill-junk"]} key ${m.key} value ${m.value?.toString("utf8").slice(0, 400)}`);
    }
    const missingRows = [...junkKeys].filter((k) => !rowKeys.has(k));
    report.count("messages in the dead-letter topics", dlq.length);
    report.count("rows in dead_letters", rm.deadLetters.length);
    report.check("every malformed message is in <topic>.dlq", missingDlq.length === 0 && junkKeys.size === junk, `${junkKeys.size} malformed, ${missingDlq.length} missing`);
    report.check("every malformed message is in dead_letters", missingRows.length === 0, `${missingRows.length} missing`);
    report.check("only malformed messages were dead-lettered", dlqKeys.size === junkKeys.size && rowKeys.size === junkKeys.size, `dlq ${dlqKeys.size} distinct (${dlq.length} messages), rows ${rowKeys.size}`);
    report.count("dead-letter reasons", [...new Set(dlq.map((d) => d.reason.split(":")[0]!.replace(/[0-9a-f-]{36}/g, "<id>").slice(0, 40)))].length);
    report.check("valid events around them all projected", rm.userEvents.length + rm.roleEvents.length === good, `${rm.userEvents.length + rm.roleEvents.length} of ${good}`);
    compareWithFold(report, fold, rm);
  } finally {
    await projector.stop().catch(() => {});
    await producer.disconnect().catch(() => {});
  }
}

export async function malformedInputDrill(env: DrillEnv): Promise<Report> {
  const report = new Report();
  const kafka = await env.kafka();
  const scope = await createScope(env.postgres, kafka.brokers, "d5", { partitions: 6 });
  try {
    await commandInputs(scope, env.rnd, env.opts.badInputs, report);
    await kafkaMessages(scope, env.rnd, env.opts.badMessages, report);
    return report;
  } finally {
    await scope.close();
  }
}
