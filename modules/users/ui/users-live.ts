/** What a live change of the users stream invalidates: the changed users' timelines and states (lib/module.ts). */
import type { LiveDefinition } from "@/lib/module";
import { STREAM } from "@/modules/streams";
import { userKeys } from "./user-query-keys";

export const usersLive: LiveDefinition = {
  stream: STREAM.users.name,
  changed: (ids, truncated) => (truncated ? [userKeys.details()] : ids.map((id) => userKeys.detail(id))),
  all: [userKeys.all],
};
