/** The users module as the framework sees it (lib/module.ts), listed in modules/index.ts. */
import { defineModule } from "@/lib/module";
import { usersApi } from "./api";
import { STREAM } from "@/modules/streams";
import { userEvents, type UserEvent } from "./domain/events";
import type { UserState } from "./domain/user-state";
import { projectUserEvent } from "./projections/user-projection";
import { MEMBERSHIP_TABLE } from "./projections/membership-read-model";
import { userBulkCollector } from "./projections/user-bulk";
import { loadUsers, saveUsers, USER_TIMELINE } from "./projections/user-read-model";

export const usersModule = defineModule<UserState, UserEvent>({
  name: "users",
  stream: STREAM.users,
  events: userEvents,
  projection: {
    timeline: USER_TIMELINE,
    tables: ["users", "user_roles", USER_TIMELINE.table, MEMBERSHIP_TABLE],
    load: loadUsers,
    project: projectUserEvent,
    save: saveUsers,
    bulk: userBulkCollector,
  },
  api: usersApi,
});
