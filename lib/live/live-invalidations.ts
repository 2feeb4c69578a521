/**
 * Which React Query keys a live notification concerns: exactly those, built
 * with the modules' key factories (prefix matching does the rest, e.g.
 * `userKeys.detail(id)` reaches that user's timeline queries).
 */
import type { QueryKey } from "@tanstack/react-query";
import { activityKeys } from "@/modules/activity/ui/activity-query-keys";
import { roleKeys } from "@/modules/roles/ui/role-query-keys";
import { userKeys } from "@/modules/users/ui/user-query-keys";
import type { LiveMessage } from "./live-message";

export function liveInvalidations(message: LiveMessage): QueryKey[] {
  if (message.kind === "resync") return [userKeys.all, roleKeys.all, activityKeys.all];
  switch (message.stream) {
    case "users":
      return [
        // Ids capped by the projector: then any user may have changed.
        ...(message.truncated ? [userKeys.details()] : message.ids.map((id) => userKeys.detail(id))),
        userKeys.lists(),
        // User events carry role membership (assign, unassign, delete): member
        // counts on role lists and member lists on role pages.
        roleKeys.all,
        activityKeys.all,
      ];
    case "roles":
      return [
        ...(message.truncated ? [roleKeys.details()] : message.ids.map((id) => roleKeys.detail(id))),
        roleKeys.lists(),
        // Role names show as badges in the users table.
        userKeys.lists(),
        activityKeys.all,
      ];
    default: {
      const never: never = message.stream;
      return never;
    }
  }
}
