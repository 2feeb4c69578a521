/**
 * The one TanStack Query key factory for users: never write a users key inline.
 * Only what a query uses (the timeline and time travel; lists are
 * server-rendered). Broad to narrow, so invalidating `all` reaches every
 * detail, and invalidating `detail(id)` reaches that user's timeline and
 * time-travel states.
 */
import type { UserEventType } from "@/modules/users/domain/events";

export interface TimelineFilters {
  /** Only events of this type; null for all. */
  type: UserEventType | null;
  /** Start at this event (a link to a timeline entry) rather than at the newest; null for the newest. */
  startAt?: number | null;
}

export const userKeys = {
  all: ["users"] as const,
  details: () => [...userKeys.all, "detail"] as const,
  detail: (userId: string) => [...userKeys.details(), userId] as const,
  timelines: (userId: string) => [...userKeys.detail(userId), "timeline"] as const,
  timeline: (userId: string, filters: TimelineFilters) => [...userKeys.timelines(userId), filters] as const,
  /** The user's state right after event `sequence` (immutable: events never change). */
  stateAt: (userId: string, sequence: number) => [...userKeys.detail(userId), "state-at", sequence] as const,
};
