import type { TimelineActor } from "@/modules/users/read/user-timeline";

/** A one-line name for an event's actor: "Ada <ada@example.com>", "auth-service (service)". */
export function actorLabel(actor: TimelineActor): string {
  switch (actor.kind) {
    case "user":
      return actor.name ? `${actor.name} <${actor.email}>` : actor.email;
    case "service":
      return `${actor.name} (service)`;
    default:
      return "unknown";
  }
}
