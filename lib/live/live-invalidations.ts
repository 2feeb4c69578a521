/**
 * Which React Query keys a live notification concerns: exactly those the
 * stream's module names (its LiveDefinition, lib/module.ts); prefix matching
 * does the rest, e.g. `userKeys.detail(id)` reaches that user's timeline queries.
 */
import type { QueryKey } from "@tanstack/react-query";
import type { LiveDefinition } from "@/lib/module";
import type { LiveMessage } from "./live-message";

export function liveInvalidations(message: LiveMessage, live: readonly LiveDefinition[]): QueryKey[] {
  if (message.kind === "resync") return live.flatMap((m) => m.all);
  // Ids capped by the projector: then any aggregate of the stream may have changed.
  return live.find((m) => m.stream === message.stream)?.changed(message.ids, message.truncated) ?? [];
}
