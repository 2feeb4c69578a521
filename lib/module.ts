/**
 * What a feature module hands the framework: one definition of itself. lib/
 * knows no module by name; the composition root (modules/index.ts) lists the
 * definitions, and the projector, the rebuild, the notifiers, the HTTP API and
 * the live listener take what they need from there (emmett's model: each
 * module's decide/evolve/projections registered in one place).
 */
import type { QueryKey } from "@tanstack/react-query";
import type { ZodType } from "zod";
import type { CopyValue } from "@/lib/copy-text";
import type { BatchTx, SqlTx } from "@/lib/sql-tx";
import { createSerde, type Serde } from "@/lib/events/codec";
import type { AnyEvent } from "@/lib/events/envelope";
import type { EventRegistry, EventTypeSpec } from "@/lib/events/upcast";
import type { Position, TimelineRow } from "@/lib/projection/timeline";

/**
 * One stream of events: its topic (`name`, before KAFKA_TOPIC_PREFIX) and the
 * `streams.type` of its aggregates' head rows. One constant per stream
 * (modules/streams.ts), so "users" and "user" are never spelled twice.
 */
export interface StreamDefinition {
  readonly name: string;
  readonly headType: string;
}

/** An event type as its module declares it: payload schema, version, upcasters, personal fields. */
export interface EventSpec extends Omit<EventTypeSpec, "stream"> {
  /**
   * Payload fields holding personal data of the person the event is about (its
   * aggregate): sealed with that person's key (lib/privacy). Never secrets.
   * Name every name the field has had in any schemaVersion: sealing and
   * reading happen on the stored version, before upcasting.
   */
  readonly personal: readonly string[];
}

/**
 * A module's read-model projection, applied by lib/projection/apply-batch.ts
 * for the batches of its stream. Methods, so a module's own state and event
 * types fit where the framework only knows `unknown` and `AnyEvent`.
 */
export interface Projection<S = unknown, E extends AnyEvent = AnyEvent> {
  /** The timeline table (one row per applied event; its event_id is the dedupe key) and its aggregate column. */
  readonly timeline: { readonly table: string; readonly idColumn: string };
  /**
   * The tables this projection writes, which a rebuild recreates: the aggregate's own table
   * first, then tables that reference only it (foreign keys).
   */
  readonly tables: readonly string[];
  /** The current states of these aggregates, locked for the batch (absent = not created yet). */
  load(tx: SqlTx, ids: readonly string[]): Promise<Map<string, S | null>>;
  /** Folds one event into `states` and returns its timeline row; throws CannotApplyEventError. */
  project(states: Map<string, S | null>, event: E, position: Position): TimelineRow;
  /** Writes the touched states and the timeline rows (a rebuild leaves the command side's heads alone). */
  save(tx: BatchTx, states: Map<string, S | null>, rows: TimelineRow[], options: { rebuild: boolean }): Promise<void>;
  /**
   * The rebuild's bulk path (lib/projection/rebuild/bulk-load.ts): a fresh collector per rebuild.
   * The framework folds the whole log up to the live positions in memory with `project`, writes
   * the timeline rows itself, and asks the collector for the final rows of the other `tables`,
   * which it writes with COPY into the empty shadow tables before any index exists. Without it,
   * a rebuild replays batch by batch through `load`/`save`. Whatever the collector gives must
   * equal what `save` would have written batch by batch: the rebuild's verification compares.
   */
  bulk?(): BulkCollector<S>;
}

/** A table's rows for COPY: values in `columns` order (see lib/copy-text.ts for the types). */
export interface BulkTable {
  readonly table: string;
  readonly columns: readonly string[];
  readonly rows: Iterable<readonly CopyValue[]>;
}

export type { CopyValue } from "@/lib/copy-text";

export interface BulkCollector<S = unknown> {
  /** Called after each fetched batch's events are projected into `states`, with their timeline rows in log order. */
  add(states: ReadonlyMap<string, S | null>, rows: readonly TimelineRow[]): void;
  /** The final rows of the projection's tables other than its timeline, from the final `states`. */
  tables(states: ReadonlyMap<string, S | null>): BulkTable[];
  /** After the COPY, in its transaction (search_path: the shadow schema): what COPY could not compute. */
  finish?(tx: SqlTx): Promise<void>;
}

/** A module's routes under /api/v1, described for the OpenAPI document (lib/api/openapi.ts). */
export interface ApiDefinition {
  /** Request bodies by name (zod schemas the commands validate with). */
  readonly schemas: Readonly<Record<string, ZodType>>;
  /** OpenAPI path items by path, built with lib/api/openapi.ts's helpers. */
  readonly paths: Readonly<Record<string, object>>;
}

export interface ModuleDefinition {
  readonly name: string;
  readonly stream: StreamDefinition;
  /** Every event type of the stream. */
  readonly events: Readonly<Record<string, EventSpec>>;
  readonly projection: Projection;
  readonly api?: ApiDefinition;
}

/** A module's definition that still remembers its event union (for the composition root's `DomainEvent`). */
export interface TypedModule<E extends AnyEvent> extends ModuleDefinition {
  readonly __events?: E;
}
export type EventOf<M> = M extends TypedModule<infer E> ? E : never;

/** Checks a module's definition against its own types, then erases them for the framework. */
export function defineModule<S, E extends AnyEvent>(
  definition: Omit<ModuleDefinition, "projection"> & { projection: Projection<S, E> },
): TypedModule<E> {
  return definition as unknown as TypedModule<E>;
}

/** The client-side half of a module (no server imports): what a live change invalidates. */
export interface LiveDefinition {
  readonly stream: string;
  /** React Query keys to invalidate when these aggregates changed (all of them when `truncated`). */
  changed(ids: readonly string[], truncated: boolean): QueryKey[];
  /** Keys to invalidate after a resync (notifications may have been missed). */
  readonly all: readonly QueryKey[];
}

/** Everything the framework derives from the list of modules, computed once. */
export interface Composition<E extends AnyEvent = AnyEvent> {
  readonly modules: readonly ModuleDefinition[];
  /** Stream (topic) names, in the order of the modules. */
  readonly streams: readonly string[];
  readonly registry: EventRegistry;
  /** The one serde over every module's events. */
  readonly serde: Serde<E>;
  projectionOf(stream: string): Projection;
  /** The read-model tables a rebuild recreates, parents before children, projection_offsets last. */
  readonly readModelTables: readonly string[];
}

/** The registry (type → stream, version, schema, upcasters) of one stream's event specs. */
export function eventRegistry(stream: StreamDefinition, events: Readonly<Record<string, EventSpec>>): EventRegistry {
  return Object.fromEntries(Object.entries(events).map(([type, spec]) => [type, { ...spec, stream: stream.name }]));
}

export function compose<M extends ModuleDefinition>(modules: readonly M[]): Composition<EventOf<M>> {
  const registry: Record<string, EventTypeSpec> = {};
  for (const m of modules) {
    for (const [type, spec] of Object.entries(eventRegistry(m.stream, m.events))) {
      if (registry[type]) throw new Error(`event type ${type} is declared by two modules`);
      registry[type] = spec;
    }
  }
  const byStream = new Map(modules.map((m) => [m.stream.name, m.projection]));
  return {
    modules,
    streams: modules.map((m) => m.stream.name),
    registry,
    serde: createSerde<EventOf<M>>(registry),
    projectionOf(stream) {
      const projection = byStream.get(stream);
      if (!projection) throw new Error(`no module projects the stream ${stream}`);
      return projection;
    },
    // Every module's aggregate table before any table that references one.
    readModelTables: [
      ...modules.map((m) => m.projection.tables[0]!),
      ...modules.flatMap((m) => m.projection.tables.slice(1)),
      "personal_data_in_clear",
      "projection_offsets",
    ],
  };
}
