/**
 * "What did this actor do?": an actor named exactly, by id, for the activity
 * feed's `by` filter (`by=user:<uuid>` or `by=service:<name>`). By id, not by
 * email: an admin's email may change, or be erased, and another address may
 * start with theirs. Plain functions (no server imports): client components
 * build the links too.
 */
export type ActorKey = { kind: "user"; userId: string } | { kind: "service"; name: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The `by` parameter's value for an actor; null for one that cannot be named (unknown). */
export function actorKeyParam(actor: { kind: string; userId?: string | null; name?: string | null }): string | null {
  if (actor.kind === "user" && actor.userId && UUID.test(actor.userId)) return `user:${actor.userId.toLowerCase()}`;
  if (actor.kind === "service" && actor.name) return `service:${actor.name}`;
  return null;
}

/** Parses a `by` value; null for anything else (an edited link shows the unfiltered feed). */
export function parseActorKey(value: string | null | undefined): ActorKey | null {
  if (!value) return null;
  if (value.startsWith("user:")) {
    const userId = value.slice(5);
    return UUID.test(userId) ? { kind: "user", userId: userId.toLowerCase() } : null;
  }
  if (value.startsWith("service:")) {
    const name = value.slice(8);
    return name.length > 0 && name.length <= 200 ? { kind: "service", name } : null;
  }
  return null;
}

/** The activity feed filtered to what this actor did; null when the actor cannot be named. */
export function actorActivityHref(actor: { kind: string; userId?: string | null; name?: string | null }): string | null {
  const key = actorKeyParam(actor);
  return key ? `/activity?${new URLSearchParams({ by: key })}` : null;
}
