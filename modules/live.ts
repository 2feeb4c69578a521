/**
 * The browser's half of the composition root (modules/index.ts): the
 * live-invalidation keys of each module that a client query shows, with no
 * server-only imports, for the live listener in the browser
 * (lib/live/live-updates.tsx, mounted by modules/live-updates.tsx). A module not
 * listed (roles: its pages are server-rendered) has its changes shown by the
 * page refresh alone.
 */
import type { LiveDefinition } from "@/lib/module";
import { usersLive } from "./users/ui/users-live";

export const live: readonly LiveDefinition[] = [usersLive];
