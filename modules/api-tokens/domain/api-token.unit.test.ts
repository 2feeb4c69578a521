import { describe, expect, it } from "vitest";
import { DomainError } from "@/lib/errors";
import { CannotApplyEventError } from "@/lib/projection/timeline";
import { event } from "@/test/fixtures";
import { projectApiTokenEvent } from "../projections/api-token-projection";
import { summarizeApiTokenEvent } from "../read/summarize-api-token-event";
import { decideApiToken, evolveApiToken, type ApiTokenState } from "./api-token";
import type { ApiTokenEvent } from "./events";

const tokenId = "00000000-0000-4000-8000-0000000000bb";
const created = () => event("ApiTokenCreated", tokenId, 1, { name: "ci-deploy", scope: "write" });
const revoked = (seq = 2) => event("ApiTokenRevoked", tokenId, seq, { name: "ci-deploy", scope: "write" });
const fold = (...events: ApiTokenEvent[]) => events.reduce<ApiTokenState | null>(evolveApiToken, null);
const revoke = { type: "RevokeApiToken", tokenId, name: "as in PostgreSQL", scope: "read" } as const;

describe("API token: decide", () => {
  it("records ApiTokenCreated with its name and scope, once", () => {
    expect(decideApiToken({ type: "CreateApiToken", tokenId, name: "ci-deploy", scope: "write" }, null)).toEqual([
      { type: "ApiTokenCreated", payload: { name: "ci-deploy", scope: "write" } },
    ]);
    expect(() => decideApiToken({ type: "CreateApiToken", tokenId, name: "x", scope: "read" }, fold(created()))).toThrow(DomainError);
  });

  it("records ApiTokenRevoked with the token's own name and scope; a second revocation is refused", () => {
    expect(decideApiToken(revoke, fold(created()))).toEqual([{ type: "ApiTokenRevoked", payload: { name: "ci-deploy", scope: "write" } }]);
    expect(() => decideApiToken(revoke, fold(created(), revoked()))).toThrow(/An active token with that id was not found/);
  });

  it("revokes a token made before tokens had events with what PostgreSQL says of it", () => {
    expect(decideApiToken(revoke, null)).toEqual([{ type: "ApiTokenRevoked", payload: { name: "as in PostgreSQL", scope: "read" } }]);
  });
});

describe("API token: evolve and projection", () => {
  it("folds creation then revocation; a revocation alone is a token older than its events", () => {
    const [c, r] = [created(), revoked()];
    expect(fold(c, r)).toEqual({ id: tokenId, name: "ci-deploy", scope: "write", version: 2, createdAt: c.occurredAt, revokedAt: r.occurredAt });
    const alone = revoked(1);
    expect(fold(alone)).toMatchObject({ createdAt: null, revokedAt: alone.occurredAt, version: 1 });
  });

  it("refuses what cannot follow (the projector dead-letters it)", () => {
    expect(() => fold(created(), created())).toThrow(CannotApplyEventError);
    expect(() => fold(created(), revoked(), revoked(3))).toThrow(CannotApplyEventError);
  });

  it("projects each event into a timeline row, and summarizes it for the feed", () => {
    const states = new Map<string, ApiTokenState | null>();
    const events = [created(), revoked()];
    const rows = events.map((e, i) => projectApiTokenEvent(states, e, { topic: "api-tokens", partition: 1, offset: String(i) }));
    expect(rows.map((r) => [r.type, r.aggregateId, r.sequence, r.changes])).toEqual([
      ["ApiTokenCreated", tokenId, 1, null],
      ["ApiTokenRevoked", tokenId, 2, null],
    ]);
    expect(states.get(tokenId)).toEqual(fold(...events));
    expect(rows.map((r) => summarizeApiTokenEvent(r.type, r.payload)?.text)).toEqual([
      "API token created: ci-deploy (scope write)",
      "API token revoked: ci-deploy (scope write)",
    ]);
    expect(summarizeApiTokenEvent("UserCreated", {})).toBeNull();
  });
});
