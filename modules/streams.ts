/**
 * The one vocabulary of streams: each stream's topic (before KAFKA_TOPIC_PREFIX)
 * and the `streams.type` of its aggregates' head rows. Every module names a
 * stream through this constant, never by a string of its own; it imports
 * nothing, so any module may use it without depending on another module.
 */
import type { StreamDefinition } from "@/lib/module";

export const STREAM = {
  users: { name: "users", headType: "user" },
  roles: { name: "roles", headType: "role" },
  apiTokens: { name: "api-tokens", headType: "api-token" },
} as const satisfies Record<string, StreamDefinition>;

export type StreamName = (typeof STREAM)[keyof typeof STREAM]["name"];
export const STREAM_NAMES = Object.values(STREAM).map((s) => s.name) as StreamName[];
