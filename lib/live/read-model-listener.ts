/**
 * One PostgreSQL LISTEN connection per server process, fanned out to every
 * open /api/live stream (server only).
 *
 * The projector runs `pg_notify(READ_MODEL_CHANNEL, …)` inside each batch's
 * transaction, so a notification arrives exactly when the batch's rows are
 * visible: whoever produced the events (this console, another replica, another
 * service publishing straight to Kafka), every open page hears about it.
 *
 * A dedicated `pg.Client`, not the Prisma pool: LISTEN belongs to one session,
 * and a pooled connection would hand it to someone else. Connects on the first
 * subscriber, reconnects with capped exponential backoff, and after a
 * reconnect tells subscribers to resync (notifications sent while it was down
 * are gone).
 */
import pg from "pg";
import { topicName } from "@/lib/kafka/topics";
import { getLogger } from "@/lib/log";
import { getKafkaConfig } from "@/lib/runtime";
import { MAX_NOTIFIED_IDS, READ_MODEL_CHANNEL, type LiveMessage } from "./live-message";

type Subscriber = (message: LiveMessage) => void;

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;

const log = (level: "info" | "warn", msg: string, extra: Record<string, unknown> = {}) =>
  getLogger().child({ component: "live" })[level](extra, msg);

export class ReadModelListener {
  private readonly subscribers = new Set<Subscriber>();
  private client: pg.Client | null = null;
  private connecting = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private hasConnectedBefore = false;
  private closed = false;
  private readonly topics: Map<string, string>;

  /** `topicPrefix`: KAFKA_TOPIC_PREFIX, to tell one stream's topic from another's (`streams`, the modules'). */
  constructor(
    private readonly connectionString: string,
    topicPrefix: string,
    streams: readonly string[],
  ) {
    this.topics = new Map(streams.map((s) => [topicName(s, { KAFKA_TOPIC_PREFIX: topicPrefix }), s]));
  }

  subscribe(subscriber: Subscriber): () => void {
    if (this.closed) throw new Error("ReadModelListener is closed");
    this.subscribers.add(subscriber);
    if (!this.client && !this.connecting && !this.reconnectTimer) void this.connect();
    return () => {
      this.subscribers.delete(subscriber);
    };
  }

  get subscriberCount() {
    return this.subscribers.size;
  }

  /** Stops listening for good (tests; a server process simply exits). */
  async close() {
    this.closed = true;
    this.subscribers.clear();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const client = this.client;
    this.client = null;
    client?.removeAllListeners();
    client?.on("error", () => {});
    await client?.end().catch(() => {});
  }

  private async connect() {
    this.connecting = true;
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: "admin-console-live",
      keepAlive: true,
    });
    // Registered before connect: an error must never be unhandled (it would crash the process).
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, new Error("connection ended")));
    client.on("notification", (n) => {
      if (n.channel === READ_MODEL_CHANNEL && n.payload) this.dispatch(n.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${READ_MODEL_CHANNEL}`);
    } catch (error) {
      this.connecting = false;
      this.lost(client, error);
      return;
    }
    this.connecting = false;
    if (this.closed) {
      void client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.attempt = 0;
    log("info", "live: listening", { channel: READ_MODEL_CHANNEL, subscribers: this.subscribers.size });
    if (this.hasConnectedBefore) this.broadcast({ kind: "resync" });
    this.hasConnectedBefore = true;
  }

  /** Drops a failed client (once) and schedules the next attempt. */
  private lost(client: pg.Client, error: unknown) {
    if (this.client && this.client !== client) return; // an old client's late event
    this.client = null;
    client.removeAllListeners("notification");
    client.on("error", () => {}); // end() may still emit
    void client.end().catch(() => {});
    if (this.closed) return;
    // While connecting, connect()'s own catch reports the failure; one timer at a time.
    if (this.reconnectTimer || this.connecting) return;
    const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.attempt);
    this.attempt += 1;
    log("warn", "live: database listener lost, reconnecting", { error: String(error), inMs: delay });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
    this.reconnectTimer.unref?.();
  }

  private dispatch(payload: string) {
    const message = this.toMessage(payload);
    if (message) this.broadcast(message);
  }

  private broadcast(message: LiveMessage) {
    for (const subscriber of this.subscribers) {
      try {
        subscriber(message);
      } catch (error) {
        log("warn", "live: subscriber failed", { error: String(error) });
      }
    }
  }

  /** The projector's `{ topic, partition, nextOffset, ids }` → what the browser needs. */
  private toMessage(payload: string): LiveMessage | null {
    let raw: unknown;
    try {
      raw = JSON.parse(payload);
    } catch {
      return null;
    }
    if (!raw || typeof raw !== "object") return null;
    // A rebuild switched the whole read model (lib/projection/rebuild): everything may have changed.
    if ((raw as { switched?: unknown }).switched === true) return { kind: "resync" };
    const { topic, ids } = raw as { topic?: unknown; ids?: unknown };
    if (typeof topic !== "string") return null;
    const stream = this.streamOf(topic);
    if (!stream) return null;
    const list = Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : [];
    return { kind: "changed", stream, ids: list, truncated: list.length >= MAX_NOTIFIED_IDS };
  }

  private streamOf(topic: string): string | undefined {
    return this.topics.get(topic);
  }
}

const g = globalThis as typeof globalThis & { __adminConsoleLive?: ReadModelListener };

/** The process's listener for the modules' `streams` (kept on globalThis so dev reloads do not open another connection). */
export function getReadModelListener(streams: readonly string[]): ReadModelListener {
  if (!g.__adminConsoleLive) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set; live updates listen on the read-model database.");
    g.__adminConsoleLive = new ReadModelListener(url, getKafkaConfig().KAFKA_TOPIC_PREFIX, streams);
  }
  return g.__adminConsoleLive;
}
