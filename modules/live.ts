/**
 * The browser's half of the composition root (modules/index.ts): each module's
 * live-invalidation keys, with no server-only imports, for the live listener
 * in the browser (lib/live/live-updates.tsx, mounted by app/live-updates.tsx).
 */
import type { LiveDefinition } from "@/lib/module";
import { rolesLive } from "./roles/ui/roles-live";
import { usersLive } from "./users/ui/users-live";

export const live: readonly LiveDefinition[] = [usersLive, rolesLive];
