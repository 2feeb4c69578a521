/** The roles module as the framework sees it (lib/module.ts), listed in modules/index.ts. */
import { defineModule } from "@/lib/module";
import { rolesApi } from "./api";
import { STREAM } from "@/modules/streams";
import { roleEvents, type RoleEvent } from "./domain/events";
import type { RoleState } from "./domain/role-state";
import { projectRoleEvent } from "./projections/role-projection";
import { loadRoles, roleBulkCollector, ROLE_TIMELINE, saveRoles } from "./projections/role-read-model";

export const rolesModule = defineModule<RoleState, RoleEvent>({
  name: "roles",
  stream: STREAM.roles,
  events: roleEvents,
  projection: {
    timeline: ROLE_TIMELINE,
    tables: ["roles", ROLE_TIMELINE.table],
    load: loadRoles,
    project: projectRoleEvent,
    save: saveRoles,
    bulk: roleBulkCollector,
  },
  api: rolesApi,
});
