/** The roles read model's I/O for the projector (see modules/users/projections/user-read-model.ts). */
import type { BatchTx, SqlTx } from "@/lib/sql-tx";
import type { BulkCollector } from "@/lib/module";
import { insertTimeline, repairStreamHeads, type TimelineRow } from "@/lib/projection/timeline";
import { STREAM } from "@/modules/streams";
import type { RoleState } from "../domain/role-state";

export const ROLE_TIMELINE = { table: "role_events", idColumn: "role_id" } as const;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function loadRoles(tx: SqlTx, ids: readonly string[]): Promise<Map<string, RoleState | null>> {
  const unique = [...new Set(ids)];
  const states = new Map<string, RoleState | null>();
  if (unique.length === 0) return states;
  const rows = await tx.$queryRaw<
    {
      id: string;
      name: string;
      description: string;
      permissions: string[] | null;
      built_in: boolean;
      is_deleted: boolean;
      version: number;
      created_at: Date;
      updated_at: Date;
      deleted_at: Date | null;
    }[]
  >`SELECT id::text, name, description, permissions, built_in, is_deleted, version, created_at, updated_at, deleted_at
    FROM roles WHERE id = ANY(${unique}::uuid[]) FOR UPDATE`;
  for (const r of rows) {
    states.set(r.id, {
      id: r.id,
      name: r.name,
      description: r.description,
      permissions: r.permissions ?? [],
      builtIn: r.built_in,
      isDeleted: r.is_deleted,
      version: r.version,
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
      deletedAt: iso(r.deleted_at),
    });
  }
  return states;
}

export async function saveRoles(
  tx: BatchTx,
  states: Map<string, RoleState | null>,
  timeline: TimelineRow[],
  { rebuild }: { rebuild: boolean },
) {
  const touched = [...new Set(timeline.map((t) => t.aggregateId))]
    .map((id) => states.get(id))
    .filter((s): s is RoleState => !!s);
  if (touched.length === 0) return;
  // Nothing reads it back in this batch: it rides with the batch's next statement (lib/sql-tx.ts, defer).
  tx.defer`
    INSERT INTO roles (id, name, description, permissions, built_in, is_deleted, version, created_at, updated_at, deleted_at)
    SELECT s.id, s.name, s.description, ARRAY(SELECT jsonb_array_elements_text(s.permissions)), s."builtIn",
      s."isDeleted", s.version, s."createdAt", s."updatedAt", s."deletedAt"
    FROM jsonb_to_recordset(${JSON.stringify(touched)}::jsonb) AS s(id uuid, name text, description text,
      permissions jsonb, "builtIn" boolean, "isDeleted" boolean, version int, "createdAt" timestamptz,
      "updatedAt" timestamptz, "deletedAt" timestamptz)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
      permissions = excluded.permissions, built_in = excluded.built_in, is_deleted = excluded.is_deleted, version = excluded.version, updated_at = excluded.updated_at,
      deleted_at = excluded.deleted_at`;
  await insertTimeline(tx, ROLE_TIMELINE, timeline);
  if (!rebuild) repairStreamHeads(tx, STREAM.roles.headType, touched);
}

/** The final `roles` rows for the rebuild's bulk path (lib/module.ts `bulk`): what saveRoles writes, all at once. */
export function roleBulkCollector(): BulkCollector<RoleState> {
  return {
    add() {},
    tables: (states) => [
      {
        table: "roles",
        columns: ["id", "name", "description", "permissions", "built_in", "is_deleted", "version", "created_at", "updated_at", "deleted_at"],
        rows: [...states.values()]
          .filter((s): s is RoleState => !!s)
          .map((s) => [s.id, s.name, s.description, s.permissions, s.builtIn, s.isDeleted, s.version, s.createdAt, s.updatedAt, s.deletedAt]),
      },
    ],
  };
}
