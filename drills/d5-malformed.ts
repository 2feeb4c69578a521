/**
 * Drill 5: garbage in.
 * (a) N malformed inputs to the application functions (random types, sizes,
 *     encodings, missing and extra fields): every one must be rejected with a
 *     DomainError "validation" carrying field errors; no event, no crash.
 * (b) N malformed Kafka messages interleaved with valid events: every one must
 *     reach dead_letters and (once the dead-letter relay has copied the rows)
 *     `<topic>.dlq`; the valid ones around them are projected (read model = fold
 *     of the log).
 * (c) Bursts of large malformed messages, of every size up to the broker's
 *     limit, published at once by a plain producer: concentrated on one
 *     partition, spread over all, and 4,000 × 2 kB on one key; then valid events.
 *     Before the dead-letter outbox, such a burst made the DLQ request exceed the
 *     broker's limit and crashed the consumer: all projection stopped. Every one
 *     must have its row and its copy (without its value when it no longer fits
 *     the DLQ topic, said in the row's reason), the valid events must be
 *     projected, and the consumer must never crash.
 * (d) One message whose dead-letter reason holds half a UTF-16 surrogate pair
 *     (V8's JSON.parse error names the first code unit of a 4-byte UTF-8
 *     character), then a valid event on the same partition: both must get through.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Message, Producer } from "kafkajs";
import { pino } from "pino";
import { DomainError } from "@/lib/errors";
import { keyPartition } from "@/lib/kafka/partitioner";
import { createLogger, type Logger } from "@/lib/log";
import { createProjector, type Projector } from "@/lib/projection/projector";
import { createRole, deleteRole, updateRole } from "@/modules/roles/application/role-commands";
import { assignRole, createUser, deleteUser, recordLogin, unassignRole, updateUser } from "@/modules/users/application/user-commands";
import type { DrillEnv } from "./lib/context";
import { createScope, type Scope } from "./lib/infra";
import { asMessage, pump, SyntheticEvents, volumeProducer, type OutMessage } from "./lib/synthetic";
import { Report, say, sleep, type Rng } from "./lib/util";
import {
  compareWithFold,
  deadLetterRows,
  endOffsets,
  foldLog,
  logSummary,
  partitionFailures,
  posKey,
  projectedPosition,
  readDeadLetterTopics,
  readLog,
  snapshotReadModel,
  totalMessages,
  waitForDeadLetterRelay,
  type LogMessage,
} from "./lib/verify";
import { app, encodeEvent } from "@/modules";

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

/** An in-process projector logging warnings and errors to a file of the drill's directory (a crash is an error line). */
function fileProjector(scope: Scope, dir: string, name: string) {
  const file = path.join(dir, `${name}.log`);
  const logger: Logger = createLogger("warn", pino.destination({ dest: file, mkdir: true, sync: true }));
  const projector = createProjector({ db: scope.db, config: scope.config, app, logger });
  const lines = (pattern: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter((l) => l.includes(pattern)) : []);
  return { projector, file, lines };
}

/**
 * Waits until the projector's stored positions reach the end of the log, then until the relay has copied every
 * dead_letters row to its DLQ topic. A partition that stops moving (a batch failing forever) or a relay that does
 * not catch up is a failed check with the recorded reasons, not an exception: the other checks still run.
 */
async function settle(scope: Scope, projector: Projector, report: Report, label: string, opts: { timeoutMs: number; stallMs: number; relayMs: number }): Promise<boolean> {
  const started = Date.now();
  let last = -1;
  let lastMove = Date.now();
  let lastPrint = 0;
  let caughtUp = false;
  for (;;) {
    const end = totalMessages(await endOffsets(scope));
    const at = await projectedPosition(scope);
    if (at >= end) {
      caughtUp = true;
      break;
    }
    if (at !== last) {
      last = at;
      lastMove = Date.now();
    }
    if (Date.now() - lastPrint > 5_000) {
      lastPrint = Date.now();
      say(`  ${label}: projector ${end - at} behind`);
    }
    if (Date.now() - lastMove > opts.stallMs || Date.now() - started > opts.timeoutMs) {
      const failures = await partitionFailures(scope);
      report.check(
        `${label}: the projector reached the end of every partition`,
        false,
        `${end - at} messages behind, no progress for ${Math.round((Date.now() - lastMove) / 1000)} s; recorded partition failures: ${failures.join(" | ") || "none"}`,
      );
      break;
    }
    await sleep(250);
  }
  if (caughtUp) report.check(`${label}: the projector reached the end of every partition`, true, `in ${Math.round((Date.now() - started) / 1000)} s`);
  const relayStarted = Date.now();
  const pending = await waitForDeadLetterRelay(scope, opts.relayMs, (n, error) => say(`  ${label}: ${n} dead letters not yet in the DLQ topics${error ? ` (last error: ${error.slice(0, 200)})` : ""}`));
  report.check(
    `${label}: the relay copied every dead_letters row (dlq_published_at set)`,
    pending === 0,
    pending === 0
      ? `${Math.round((Date.now() - relayStarted) / 1000)} s after ${caughtUp ? "the projector caught up" : "the wait for the projector ended"}`
      : `${pending} rows still not copied after ${opts.relayMs / 1000} s`,
  );
  report.check(`${label}: the consumer never crashed`, projector.crashes === 0, `projector.crashes = ${projector.crashes}`);
  return caughtUp && pending === 0;
}

/**
 * Every malformed message (`junk`: topic/partition/offset) has its dead_letters row and exactly its copy in
 * `<topic>.dlq`, and nothing else does; a copy lacks its value exactly when its row's reason says so.
 */
async function checkDeadLetters(scope: Scope, report: Report, label: string, junk: Set<string>, log: LogMessage[]) {
  const dlq = await readDeadLetterTopics(scope);
  const rows = await deadLetterRows(scope);
  const copies = new Map<string, (typeof dlq)[number]>();
  let duplicateCopies = 0;
  for (const d of dlq) {
    if (copies.has(d.original)) duplicateCopies++;
    copies.set(d.original, d);
  }
  const missingCopies = [...junk].filter((k) => !copies.has(k));
  const missingRows = [...junk].filter((k) => !rows.has(k));
  const byPos = new Map(log.map((m) => [posKey(m.topic, m.partition, m.offset), m]));
  for (const k of [...new Set([...missingRows, ...missingCopies])].slice(0, 5)) {
    const m = byPos.get(k);
    say(`    ${k} not dead-lettered (row ${rows.has(k)}, copy ${copies.has(k)}): junk kind ${m?.headers["drill-junk"]} key ${m?.key} value ${m?.value?.toString("utf8").slice(0, 200)}`);
  }
  const extraRows = [...rows.keys()].filter((k) => !junk.has(k));
  const extraCopies = [...copies.keys()].filter((k) => !junk.has(k));
  report.count(`${label}: messages in the dead-letter topics`, dlq.length);
  report.count(`${label}: rows in dead_letters`, rows.size);
  report.check(`${label}: every malformed message is in dead_letters`, missingRows.length === 0, `${junk.size} malformed, ${missingRows.length} missing`);
  report.check(`${label}: every malformed message is in <topic>.dlq`, missingCopies.length === 0, `${junk.size} malformed, ${missingCopies.length} missing`);
  report.check(`${label}: only malformed messages were dead-lettered`, extraRows.length === 0 && extraCopies.length === 0, `${extraRows.length} other rows, ${extraCopies.length} other copies${extraRows[0] ? `; first: ${extraRows[0]}` : ""}`);
  if (duplicateCopies) report.note(`${label}: ${duplicateCopies} dead letters were copied to the DLQ topic more than once (at least once is the relay's promise)`);
  const lacking = (k: string) => rows.get(k)?.reason.includes("lacks its value (") ?? false;
  const inconsistent = [...copies].filter(([k, d]) => rows.has(k) && (d.valueOmitted !== undefined) !== lacking(k));
  report.check(
    `${label}: a copy lacks its value (dlq-value-omitted) exactly when its row's reason says so`,
    inconsistent.length === 0,
    `${[...copies.values()].filter((d) => d.valueOmitted !== undefined).length} copies without their value; ${inconsistent.length} inconsistent${inconsistent[0] ? `: ${inconsistent[0][0]} header ${inconsistent[0][1].valueOmitted}, reason "${rows.get(inconsistent[0][0])?.reason.slice(-200)}"` : ""}`,
  );
  const retried = [...rows.values()].filter((r) => r.attempts > 0);
  if (retried.length) report.note(`${label}: ${retried.length} rows needed relay retries; last error: ${retried.find((r) => r.lastError)?.lastError?.slice(0, 200) ?? "(cleared)"}`);
  return { dlq, copies, rows };
}

async function kafkaMessages(env: DrillEnv, scope: Scope, r: Rng, n: number, report: Report) {
  const producer = volumeProducer(scope);
  await producer.connect();
  const { projector, lines } = fileProjector(scope, env.dir, "projector-b");
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
    // The rows are the dead letters' outbox: the DLQ topics are read once the relay has copied them all.
    await settle(scope, projector, report, "(b)", { timeoutMs: 300_000, stallMs: 60_000, relayMs: 120_000 });
    await projector.stop();
    report.check("(b): no consumer crash in the projector's log", lines("consumer crashed").length === 0, `${lines("consumer crashed").length} lines`);

    const log = await readLog(scope);
    const junkKeys = new Set(log.filter((m) => m.headers["drill-junk"] !== undefined).map((m) => posKey(m.topic, m.partition, m.offset)));
    report.check("(b): every malformed message sent is in the log", junkKeys.size === junk, `${junkKeys.size} of ${junk}`);
    const fold = await foldLog(scope, log);
    logSummary(fold);
    const { dlq } = await checkDeadLetters(scope, report, "(b)", junkKeys, log);
    const rm = await snapshotReadModel(scope);
    report.count("dead-letter reasons", [...new Set(dlq.map((d) => d.reason.split(":")[0]!.replace(/[0-9a-f-]{36}/g, "<id>").slice(0, 40)))].length);
    report.check("(b): valid events around them all projected", rm.userEvents.length + rm.roleEvents.length === good, `${rm.userEvents.length + rm.roleEvents.length} of ${good}`);
    compareWithFold(report, fold, rm);
  } finally {
    await projector.stop().catch(() => {});
    await producer.disconnect().catch(() => {});
  }
}

/** The broker's default message.max.bytes: the largest record batch it accepts (our brokers keep the default). */
const BROKER_LIMIT = 1_048_588;
/** A partition's record batch in one produce request stays under this (kafkajs sends one batch per partition per request). */
const REQUEST_BATCH_BYTES = 900_000;
/** Upper bound of a record's overhead in a v2 batch besides key, value and headers (varints, attributes, deltas). */
const RECORD_OVERHEAD = 64;
const BATCH_HEADER = 61;

type SizeClass = "2k" | "200k" | "500k" | "900k" | "max";
const CLASS_BYTES: Record<Exclude<SizeClass, "max">, number> = { "2k": 2_048, "200k": 200_000, "500k": 500_000, "900k": 900_000 };

interface Outgoing {
  topic: string;
  partition: number;
  message: Message;
  bytes: number;
}

const headerBytes = (h: Record<string, string>) => Object.entries(h).reduce((n, [k, v]) => n + 2 + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

/**
 * Sizes of one mixed burst of `n`: mostly 2 kB, one in sixteen 200 kB, and (from 20 messages on) four of
 * 500 kB, three of 900 kB and two just under the broker's limit, shuffled.
 */
function burstSizes(r: Rng, n: number): SizeClass[] {
  const special: SizeClass[] = n >= 20 ? ["500k", "500k", "500k", "500k", "900k", "900k", "900k", "max", "max"] : [];
  const sizes: SizeClass[] = [...special, ...Array.from({ length: Math.max(0, n - special.length) }, (_, i): SizeClass => (i % 16 === 0 ? "200k" : "2k"))];
  for (let i = sizes.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [sizes[i], sizes[j]] = [sizes[j]!, sizes[i]!];
  }
  return sizes;
}

/**
 * A malformed message of about `size` bytes for (c). Text, JSON and random bytes that decode to the Basic
 * Multilingual Plane only (no lead bytes F0–F4): a supplementary character can put half a surrogate pair in the
 * reason, which is (d)'s case, not this one's.
 */
function largeJunk(r: Rng, scratch: SyntheticEvents, id: string, layout: string, size: SizeClass, key: string | null, topic: string, partition: number): Outgoing {
  const headers: Record<string, string> = { "drill-junk": "", "drill-junk-id": id, "drill-layout": layout, "drill-size": size };
  const kinds = size === "2k" || size === "200k" ? ["text", "truncated", "future", "unknown-type", "bad-payload", "binary"] : ["text", "truncated", "future", "unknown-type", "bad-payload"];
  const kind = r.pick(kinds);
  headers["drill-junk"] = kind;
  const keyBytes = Buffer.byteLength(key ?? "");
  const target =
    size === "max" ? BROKER_LIMIT - BATCH_HEADER - RECORD_OVERHEAD - keyBytes - headerBytes(headers) - 16 : CLASS_BYTES[size];
  const envelope = () => JSON.parse(encodeEvent(scratch.next()).value) as Record<string, unknown>;
  const padded = (make: (pad: string) => string) => {
    const base = Buffer.byteLength(make(""));
    return make("x".repeat(Math.max(0, target - base)));
  };
  let value: Buffer | string;
  switch (kind) {
    case "text":
      value = padded((pad) => `drill junk ${id}, not JSON: ${pad}`);
      break;
    case "truncated":
      value = padded((pad) => `{"id":"${randomUUID()}","type":"UserCreated","schemaVersion":1,"payload":{"name":"${pad}`);
      break;
    case "future": {
      const e = envelope();
      value = padded((pad) => JSON.stringify({ ...e, schemaVersion: 99, payload: { padding: pad } }));
      break;
    }
    case "unknown-type": {
      const e = envelope();
      value = padded((pad) => JSON.stringify({ ...e, type: "UserPromoted", payload: { padding: pad } }));
      break;
    }
    case "bad-payload": {
      const e = envelope();
      value = padded((pad) => JSON.stringify({ ...e, type: "UserCreated", payload: { email: "not an email", name: pad } }));
      break;
    }
    default:
      value = Buffer.from(Array.from({ length: target }, () => {
        const b = r.int(0, 250);
        return b >= 0xf0 ? b + 5 : b; // skips F0–F4
      }));
  }
  const bytes = RECORD_OVERHEAD + keyBytes + Buffer.byteLength(value) + headerBytes(headers);
  return { topic, partition, message: { key, value, partition, headers }, bytes };
}

/** A well-formed event published on another partition than its aggregate id's: dead-lettered, never applied. */
function offPartitionEvent(scratch: SyntheticEvents, id: string, topic: string, partition: number, partitions: number): Outgoing {
  let aggregateId = randomUUID();
  while (keyPartition(aggregateId, partitions) === partition) aggregateId = randomUUID();
  const event = { ...JSON.parse(encodeEvent(scratch.next()).value), id: randomUUID(), aggregateId, sequence: 1, type: "UserCreated", payload: { email: `off-${aggregateId}@drill.example`, name: "Off Partition" } };
  const value = JSON.stringify(event);
  const headers = { "drill-junk": "off-partition", "drill-junk-id": id, "drill-layout": "one-partition", "drill-size": "2k" };
  return { topic, partition, message: { key: aggregateId, value, partition, headers }, bytes: RECORD_OVERHEAD + 36 + value.length + headerBytes(headers) };
}

/**
 * Produce requests the broker accepts: kafkajs sends one request's messages for a partition as one record batch,
 * refused whole above message.max.bytes. Each partition's messages are cut into runs of at most
 * REQUEST_BATCH_BYTES (a message larger than that alone), and request i carries run i of every partition.
 */
function requests(items: Outgoing[]): Array<Array<{ topic: string; messages: Message[] }>> {
  const runs = new Map<string, Outgoing[][]>();
  for (const item of items) {
    const k = `${item.topic}/${item.partition}`;
    const list = runs.get(k) ?? (runs.set(k, [[]]), runs.get(k)!);
    let run = list.at(-1)!;
    if (run.length && run.reduce((n, i) => n + i.bytes, 0) + item.bytes > REQUEST_BATCH_BYTES) list.push((run = []));
    run.push(item);
  }
  const out: Array<Array<{ topic: string; messages: Message[] }>> = [];
  for (const list of runs.values()) {
    list.forEach((run, i) => {
      const request = (out[i] ??= []);
      const entry = request.find((t) => t.topic === run[0]!.topic) ?? (request.push({ topic: run[0]!.topic, messages: [] }), request.at(-1)!);
      entry.messages.push(...run.map((x) => x.message));
    });
  }
  return out;
}

/** Sends the requests with a few in flight at once (one burst), each acknowledged by the broker. */
async function burst(producer: Producer, reqs: Array<Array<{ topic: string; messages: Message[] }>>, inFlight = 4) {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < reqs.length) {
        const request = reqs[next++]!;
        await producer.sendBatch({ acks: -1, topicMessages: request });
      }
    }),
  );
}

async function largeMessages(env: DrillEnv, brokers: string[], r: Rng, report: Report) {
  const { burstMessages: n, burstSmall: small } = env.opts;
  const scope = await createScope(env.postgres, brokers, "d5c", { partitions: 6 });
  // A plain producer, as any other service would use: not idempotent, kafkajs' default (murmur2) partitioner.
  const producer = scope.kafka.producer({ allowAutoTopicCreation: false });
  const { projector, lines } = fileProjector(scope, env.dir, "projector-c");
  try {
    await producer.connect();
    await projector.start();
    const partitions = scope.config.KAFKA_PARTITIONS;
    const scratch = new SyntheticEvents(r);
    const items: Outgoing[] = [];
    let seq = 0;
    const id = () => `c${seq++}`;
    // 1. Concentrated on one partition: one key, or that key's partition given explicitly with other keys;
    //    a few well-formed events among them sit on a partition that is not their key's.
    const hot = randomUUID();
    const hotPartition = keyPartition(hot, partitions);
    for (const size of burstSizes(r, n)) {
      if (r.chance(0.01)) items.push(offPartitionEvent(scratch, id(), scope.topics.users, hotPartition, partitions));
      const key = r.chance(0.5) ? hot : r.chance(0.5) ? randomUUID() : null;
      items.push(largeJunk(r, scratch, id(), "one-partition", size, key, scope.topics.users, hotPartition));
    }
    // 2. Spread over every partition of both topics: random keys, on their own partition.
    for (const size of burstSizes(r, n)) {
      const key = r.chance(0.8) ? randomUUID() : null;
      const partition = key ? keyPartition(key, partitions) : r.int(0, partitions - 1);
      items.push(largeJunk(r, scratch, id(), "spread", size, key, r.chance(0.8) ? scope.topics.users : scope.topics.roles, partition));
    }
    // 3. The issue's other recipe: 4,000 malformed 2 kB messages at once on one key.
    const one = randomUUID();
    for (let i = 0; i < small; i++) items.push(largeJunk(r, scratch, id(), "one-key-2k", "2k", one, scope.topics.users, keyPartition(one, partitions)));
    const sentIds = new Set(items.map((i) => i.message.headers!["drill-junk-id"] as string));
    const bytes = items.reduce((a, i) => a + i.bytes, 0);
    const reqs = requests(items);
    const sizes = new Map<string, number>();
    for (const i of items) sizes.set(i.message.headers!["drill-size"] as string, (sizes.get(i.message.headers!["drill-size"] as string) ?? 0) + 1);
    const t0 = Date.now();
    await burst(producer, reqs);
    say(`  (c) ${items.length} malformed messages (${(bytes / 2 ** 20).toFixed(1)} MiB) in ${reqs.length} requests in ${Date.now() - t0} ms`);
    report.count("(c) malformed messages sent", `${items.length} (${[...sizes].map(([k, v]) => `${v} × ${k}`).join(", ")}; ${(bytes / 2 ** 20).toFixed(0)} MiB; ${items.filter((i) => i.message.headers!["drill-junk"] === "off-partition").length} well-formed on another partition than their key's)`);
    // Then valid events, on every partition (the hot one too), after the burst.
    const valid = new SyntheticEvents(r);
    const good = await pump(producer, 2_000, () => asMessage(scope, valid.next()), { chunk: 500 });
    report.count("(c) valid events sent after the burst", good);

    await settle(scope, projector, report, "(c)", { timeoutMs: 360_000, stallMs: 60_000, relayMs: 240_000 });
    await projector.stop();
    const crashedLines = lines("consumer crashed");
    report.check("(c): no consumer crash in the projector's log", crashedLines.length === 0, `${crashedLines.length} lines${crashedLines[0] ? `: ${crashedLines[0].slice(0, 300)}` : ""}`);
    const failedBatches = lines("batch failed");
    if (failedBatches.length) report.note(`(c): ${failedBatches.length} batches failed and were retried; first: ${failedBatches[0]!.slice(0, 300)}`);

    const log = await readLog(scope);
    const junkLog = log.filter((m) => m.headers["drill-junk-id"] !== undefined);
    const junk = new Set(junkLog.map((m) => posKey(m.topic, m.partition, m.offset)));
    const inLog = new Set(junkLog.map((m) => m.headers["drill-junk-id"]!));
    report.check("(c): every malformed message sent is in the log", [...sentIds].every((i) => inLog.has(i)), `${inLog.size} of ${sentIds.size}${junkLog.length > inLog.size ? ` (${junkLog.length - inLog.size} written twice by producer retries)` : ""}`);
    const fold = await foldLog(scope, log);
    logSummary(fold);
    const { copies, rows } = await checkDeadLetters(scope, report, "(c)", junk, log);
    // The ones just under the broker's limit no longer fit the DLQ topic with the dlq-* headers: copied without
    // their value, the row's reason saying so. Every other size fits, and its copy carries the row's text.
    const omitted = junkLog.filter((m) => copies.get(posKey(m.topic, m.partition, m.offset))?.valueOmitted !== undefined);
    const max = junkLog.filter((m) => m.headers["drill-size"] === "max");
    const wrongOmission = junkLog.filter((m) => (m.headers["drill-size"] === "max") !== (copies.get(posKey(m.topic, m.partition, m.offset))?.valueOmitted !== undefined));
    report.check(
      "(c): exactly the messages too large for the DLQ topic were copied without their value",
      wrongOmission.length === 0 && omitted.length === max.length,
      `${omitted.length} without their value, ${max.length} just under the broker's limit; ${wrongOmission.length} differ${wrongOmission[0] ? `: first ${wrongOmission[0].headers["drill-size"]} at ${posKey(wrongOmission[0].topic, wrongOmission[0].partition, wrongOmission[0].offset)}` : ""}`,
    );
    const noted = max.filter((m) => /lacks its value \([\d,]+ bytes\) is too large for .*\.dlq: this row keeps the whole message\)$/.test(rows.get(posKey(m.topic, m.partition, m.offset))?.reason ?? ""));
    report.check("(c): their rows' reasons say what the copy lacks", noted.length === max.length, `${noted.length} of ${max.length}${max[0] ? `; e.g. "…${rows.get(posKey(max[0].topic, max[0].partition, max[0].offset))?.reason.slice(-160)}"` : ""}`);
    const textOf = (v: Buffer | null) => (v === null ? null : Buffer.from(v.toString("utf8").replaceAll("\u0000", "\uFFFD")));
    const altered = junkLog.filter((m) => {
      const copy = copies.get(posKey(m.topic, m.partition, m.offset));
      if (!copy || copy.valueOmitted !== undefined) return false;
      const expected = textOf(m.value);
      return expected === null ? copy.value !== null : !copy.value?.equals(expected);
    });
    report.check("(c): every other copy carries its message's value (as the row's UTF-8 text)", altered.length === 0, `${altered.length} differ`);
    const rm = await snapshotReadModel(scope);
    report.check("(c): the valid events after the burst all projected", rm.userEvents.length + rm.roleEvents.length === good, `${rm.userEvents.length + rm.roleEvents.length} of ${good}`);
    compareWithFold(report, fold, rm);
  } finally {
    await projector.stop().catch(() => {});
    await producer.disconnect().catch(() => {});
    await scope.close();
  }
}

/**
 * (d) Half a UTF-16 surrogate pair, which PostgreSQL's jsonb refuses ("invalid input syntax for type json"):
 * 1. a message that is not JSON and starts with a 4-byte UTF-8 character: V8's JSON.parse error names the first
 *    code unit of it ("Unexpected token '\udb12'"), so the dead letter's reason holds half a pair;
 * 2. a well-formed UserCreated whose name holds an escaped lone surrogate ("\ud800"), which decodes.
 * Each is followed by a valid event on its partition. Both partitions must move on (the first message
 * dead-lettered, the second dead-lettered or applied), and the valid events must be projected.
 */
async function halfSurrogate(env: DrillEnv, brokers: string[], report: Report) {
  const scope = await createScope(env.postgres, brokers, "d5d", { partitions: 6 });
  const producer = scope.kafka.producer({ allowAutoTopicCreation: false });
  const { projector } = fileProjector(scope, env.dir, "projector-d");
  const partitions = scope.config.KAFKA_PARTITIONS;
  try {
    await producer.connect();
    await projector.start();
    const valid = new SyntheticEvents(env.rnd);
    /** The next UserCreated of the generator on a partition `ok` accepts. */
    const created = (ok: (p: number) => boolean) => {
      for (;;) {
        const e = valid.next();
        if (e.type === "UserCreated" && ok(keyPartition(e.aggregateId, partitions))) return e;
      }
    };
    const e1 = created(() => true);
    const p1 = keyPartition(e1.aggregateId, partitions);
    const poison = Buffer.from("f394a69b01273281", "hex"); // U+D499B, then bytes that are not JSON
    const lone = created((p) => p !== p1);
    const p2 = keyPartition(lone.aggregateId, partitions);
    const loneEvent = { ...lone, payload: { ...lone.payload, name: "Half \ud800 pair" } };
    const e2 = created((p) => p === p2);
    await producer.send({ acks: -1, topic: scope.topics.users, messages: [{ key: null, partition: p1, value: poison, headers: { "drill-junk": "half-surrogate-in-reason" } }] });
    await producer.send({ acks: -1, topic: scope.topics.users, messages: [{ ...encodeEvent(loneEvent), headers: { "drill-lone-surrogate": "name" } }] });
    await producer.send({ acks: -1, topic: scope.topics.users, messages: [asMessage(scope, e1).message, asMessage(scope, e2).message] });
    await settle(scope, projector, report, "(d)", { timeoutMs: 60_000, stallMs: 30_000, relayMs: 30_000 });
    await projector.stop();
    const log = await readLog(scope);
    const junk = new Set(log.filter((m) => m.headers["drill-junk"] !== undefined).map((m) => posKey(m.topic, m.partition, m.offset)));
    const rows = await deadLetterRows(scope);
    const loneAt = log.find((m) => m.headers["drill-lone-surrogate"] !== undefined)!;
    const loneKey = posKey(loneAt.topic, loneAt.partition, loneAt.offset);
    // The event with a lone surrogate may be dead-lettered or applied (with U+FFFD): either moves the partition on.
    if (rows.has(loneKey)) junk.add(loneKey);
    await checkDeadLetters(scope, report, "(d)", junk, log);
    const rm = await snapshotReadModel(scope);
    const projected = (id: string) => rm.userEvents.some((l) => l.startsWith(`${id}|`));
    report.check(
      "(d): the valid events after them projected",
      projected(e1.id) && projected(e2.id),
      `after the half pair in a reason: ${projected(e1.id)}; after the lone surrogate in a name: ${projected(e2.id)}; the event with the lone surrogate ${rows.has(loneKey) ? "dead-lettered" : projected(lone.id) ? "applied" : "neither applied nor dead-lettered"}`,
    );
  } finally {
    await projector.stop().catch(() => {});
    await producer.disconnect().catch(() => {});
    await scope.close();
  }
}

export async function malformedInputDrill(env: DrillEnv): Promise<Report> {
  const report = new Report();
  const kafka = await env.kafka();
  const scope = await createScope(env.postgres, kafka.brokers, "d5", { partitions: 6 });
  try {
    await commandInputs(scope, env.rnd, env.opts.badInputs, report);
    await kafkaMessages(env, scope, env.rnd, env.opts.badMessages, report);
  } finally {
    await scope.close();
  }
  if (env.opts.burstMessages > 0 || env.opts.burstSmall > 0) await largeMessages(env, kafka.brokers, env.rnd, report);
  await halfSurrogate(env, kafka.brokers, report);
  return report;
}
