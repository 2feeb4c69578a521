/**
 * Where the broker's ack goes (issue 15): `npm run bench -- --ack-probe [--runs N]`.
 *
 * A createUser's largest step is the append: the app's producer sends the event and waits for the
 * broker's ack. This splits that round trip in three, measured side by side, one request at a time:
 *
 * - **a request that does no work**, `ApiVersions` on a socket of its own (written here in Kafka's
 *   wire format, nothing of kafkajs): the transport, the broker's network and request threads
 *   handing the request on and back, and both processes waking up. The floor of any broker round
 *   trip on this machine.
 * - **the app's append** (`createEventAppender`, the idempotent producer with acks from all
 *   in-sync replicas, one UserLoggedIn in clear): the same, plus kafkajs building and parsing the
 *   request and the broker appending to its log.
 * - **PostgreSQL's `SELECT 1`** on a node-postgres connection: the same kind of round trip to the
 *   other server a command talks to.
 *
 * Each round of the loop sends one of each, in turn, then waits `spacing` ms: with 0 every process
 * stays awake; with 5 ms (a command every 5 ms is 200/s) they go idle between requests, as
 * they do between a console's commands, and each request pays for waking them.
 */
import { randomUUID } from "node:crypto";
import net from "node:net";
import pg from "pg";
import type { EventAppender } from "@/lib/kafka/producer";
import { userSerde } from "@/modules/users/domain/events";
import { fmt, hr, percentile } from "./stats";

export interface AckProbeResult {
  spacingMs: number;
  rounds: number;
  /** Round trip times in ms, per kind of request. */
  noop: number[];
  append: number[];
  select1: number[];
  /** This process's CPU (user + system) per request, in ms, per kind: what the client itself spends. */
  cpuMs: { noop: number; append: number; select1: number };
}

/** One Kafka connection that sends ApiVersions v0 and waits for each answer: no client library in between. */
async function rawBroker(broker: string) {
  const [host, port] = [broker.slice(0, broker.lastIndexOf(":")), Number(broker.slice(broker.lastIndexOf(":") + 1))];
  const socket = net.connect({ host, port, noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const clientId = Buffer.from("ack-probe");
  let correlationId = 0;
  let pending: { id: number; resolve: () => void; reject: (e: Error) => void } | null = null;
  let buffered = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
      const size = buffered.readInt32BE(0);
      const id = buffered.readInt32BE(4);
      const errorCode = buffered.readInt16BE(8);
      buffered = buffered.subarray(4 + size);
      const waiting = pending;
      pending = null;
      if (!waiting || waiting.id !== id) waiting?.reject(new Error(`ack probe: answer ${id} to no request of ours`));
      else if (errorCode !== 0) waiting.reject(new Error(`ApiVersions answered error code ${errorCode}`));
      else waiting.resolve();
    }
  });
  socket.on("error", (error) => pending?.reject(error));
  return {
    /** One ApiVersions v0 request (api key 18): resolves when its answer has arrived. */
    ping(): Promise<void> {
      const id = ++correlationId;
      const request = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
      request.writeInt32BE(request.length - 4, 0);
      request.writeInt16BE(18, 4);
      request.writeInt16BE(0, 6);
      request.writeInt32BE(id, 8);
      request.writeInt16BE(clientId.length, 12);
      clientId.copy(request, 14);
      return new Promise<void>((resolve, reject) => {
        pending = { id, resolve, reject };
        socket.write(request);
      });
    },
    close: () => new Promise<void>((resolve) => socket.end(resolve)),
  };
}

export async function measureAckProbe(opts: {
  brokers: string[];
  databaseUrl: string;
  appender: EventAppender;
  spacingsMs: number[];
  rounds: number;
}): Promise<AckProbeResult[]> {
  const broker = await rawBroker(opts.brokers[0]!);
  const client = new pg.Client({ connectionString: opts.databaseUrl });
  await client.connect();
  const event = () => ({
    id: randomUUID(),
    type: "UserLoggedIn" as const,
    schemaVersion: 1,
    aggregateId: randomUUID(),
    sequence: 1,
    occurredAt: new Date().toISOString(),
    actor: { kind: "service" as const, name: "bench" },
    correlationId: randomUUID(),
    causationId: null,
    payload: { ip: null, userAgent: "bench" },
  });
  /** Its round trip; adds this process's CPU for it to `cpu[kind]` (µs). */
  const cpu = { noop: 0, append: 0, select1: 0 };
  const timed = async (kind: keyof typeof cpu, fn: () => Promise<unknown>) => {
    const c = process.cpuUsage();
    const t = hr();
    await fn();
    const ms = hr() - t;
    const used = process.cpuUsage(c);
    cpu[kind] += used.user + used.system;
    return ms;
  };
  const results: AckProbeResult[] = [];
  try {
    for (const spacingMs of opts.spacingsMs) {
      const result: AckProbeResult = { spacingMs, rounds: opts.rounds, noop: [], append: [], select1: [], cpuMs: { noop: 0, append: 0, select1: 0 } };
      const warmup = Math.max(50, Math.round(opts.rounds / 10));
      for (let i = 0; i < warmup + opts.rounds; i++) {
        if (i === warmup) Object.assign(cpu, { noop: 0, append: 0, select1: 0 });
        const noop = await timed("noop", () => broker.ping());
        if (spacingMs) await new Promise((r) => setTimeout(r, spacingMs));
        const append = await timed("append", () => opts.appender.append([event()], userSerde));
        if (spacingMs) await new Promise((r) => setTimeout(r, spacingMs));
        const select1 = await timed("select1", () => client.query("SELECT 1"));
        if (spacingMs) await new Promise((r) => setTimeout(r, spacingMs));
        if (i < warmup) continue;
        result.noop.push(noop);
        result.append.push(append);
        result.select1.push(select1);
      }
      result.cpuMs = { noop: cpu.noop / 1000 / opts.rounds, append: cpu.append / 1000 / opts.rounds, select1: cpu.select1 / 1000 / opts.rounds };
      results.push(result);
    }
  } finally {
    await broker.close();
    await client.end();
  }
  return results;
}

export function ackProbeReport(results: AckProbeResult[]): string {
  const q = (values: number[], p: number) => fmt(percentile(values, p), "ms");
  const cell = (values: number[]) => `${q(values, 50)} / ${q(values, 90)} / ${q(values, 99)}`;
  return [
    "One request at a time, p50 / p90 / p99 of each round trip, and this process's CPU per request (the client's own work):",
    "",
    "| between requests | rounds | broker, a request that does no work (ApiVersions, raw socket) | broker, the app's append (kafkajs, acks=all) | append − no-op, p50 | PostgreSQL `SELECT 1` (node-postgres) | client CPU per request: no-op, append, `SELECT 1` |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...results.map(
      (r) =>
        `| ${r.spacingMs ? `${r.spacingMs} ms idle` : "none (back to back)"} | ${r.rounds.toLocaleString("en-US")} | ${cell(r.noop)} | ${cell(r.append)} | ` +
        `${fmt(percentile(r.append, 50) - percentile(r.noop, 50), "ms")} | ${cell(r.select1)} | ${fmt(r.cpuMs.noop, "ms")}, ${fmt(r.cpuMs.append, "ms")}, ${fmt(r.cpuMs.select1, "ms")} |`,
    ),
  ].join("\n");
}
