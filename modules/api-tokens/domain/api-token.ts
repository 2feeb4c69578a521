/**
 * An API token's state, folded from its events, and the decisions on it. Pure.
 * The command side keeps the state in the token's head row; the projector
 * folds it again from the token's timeline.
 */
import { assertNever, invariant, notFound } from "@/lib/errors";
import type { NewEvent } from "@/lib/events/envelope";
import { CannotApplyEventError } from "@/lib/projection/timeline";
import type { ApiTokenEvent } from "./events";

export interface ApiTokenState {
  id: string;
  name: string;
  scope: "read" | "write";
  version: number;
  /** Null for a token created before tokens had events (its first event is its revocation). */
  createdAt: string | null;
  revokedAt: string | null;
}

export type ApiTokenCommand =
  | { type: "CreateApiToken"; tokenId: string; name: string; scope: "read" | "write" }
  /** `name` and `scope` as PostgreSQL's `api_tokens` holds them (the only record of a token older than its events). */
  | { type: "RevokeApiToken"; tokenId: string; name: string; scope: "read" | "write" };

export function decideApiToken(command: ApiTokenCommand, state: ApiTokenState | null): NewEvent<ApiTokenEvent>[] {
  switch (command.type) {
    case "CreateApiToken":
      if (state) throw invariant(`API token ${command.tokenId} already exists.`);
      return [{ type: "ApiTokenCreated", payload: { name: command.name, scope: command.scope } }];
    case "RevokeApiToken":
      if (state?.revokedAt) throw notFound("An active token with that id");
      return [{ type: "ApiTokenRevoked", payload: { name: state?.name ?? command.name, scope: state?.scope ?? command.scope } }];
    default:
      return assertNever(command, "API token command");
  }
}

/** Throws CannotApplyEventError for an event that cannot follow `state`. */
export function evolveApiToken(state: ApiTokenState | null, event: ApiTokenEvent): ApiTokenState {
  switch (event.type) {
    case "ApiTokenCreated":
      if (state) throw new CannotApplyEventError(`ApiTokenCreated for existing token ${event.aggregateId}`);
      return { id: event.aggregateId, ...event.payload, version: event.sequence, createdAt: event.occurredAt, revokedAt: null };
    case "ApiTokenRevoked":
      if (state?.revokedAt) throw new CannotApplyEventError(`ApiTokenRevoked for revoked token ${event.aggregateId}`);
      // No state: a token created before tokens had events, revoked now.
      return {
        ...(state ?? { id: event.aggregateId, ...event.payload, createdAt: null }),
        version: event.sequence,
        revokedAt: event.occurredAt,
      };
    default:
      return assertNever(event, "API token event");
  }
}
