/**
 * A live change of the roles stream: no client query shows a role (role pages,
 * member counts and the badges in the users table are server-rendered, and the
 * live path refreshes them), so there is nothing to invalidate.
 */
import type { LiveDefinition } from "@/lib/module";
import { STREAM } from "@/modules/streams";

export const rolesLive: LiveDefinition = { stream: STREAM.roles.name, changed: () => [], all: [] };
