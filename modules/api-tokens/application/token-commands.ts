/**
 * Creating and revoking API tokens: each is an event on the token's own stream
 * (lib/command/execute.ts), written in the same PostgreSQL transaction as the
 * `api_tokens` row that makes the token work. If Kafka does not acknowledge,
 * the transaction rolls back: no token without its ApiTokenCreated, no
 * revocation unrecorded. The secret is returned once and is in no event.
 */
import { randomUUID } from "node:crypto";
import type { Actor } from "@/lib/events/envelope";
import { createTokenInput, revokeTokenInput, TOKEN_PREFIX } from "@/lib/auth/api-tokens";
import { digest, newSecret } from "@/lib/auth/secrets";
import { executeOnStream, inTransaction, type CommandContext, type CommandDeps, type Tx } from "@/lib/command/execute";
import { parseInput } from "@/lib/command/validate";
import { notFound } from "@/lib/errors";
import type { SqlTx } from "@/lib/sql-tx";
import { STREAM } from "@/modules/streams";
import { decideApiToken, evolveApiToken, type ApiTokenCommand, type ApiTokenState } from "../domain/api-token";
import { apiTokenSerde, type ApiTokenEvent } from "../domain/events";

/** What `api_tokens.created_by` / `revoked_by` hold: the admin's email (or a service's name). */
const actorLabel = (actor: Actor) => (actor.kind === "user" ? actor.email : actor.name);

function onToken(deps: CommandDeps, ctx: CommandContext, command: ApiTokenCommand, beforeAppend: (tx: SqlTx) => Promise<void>, tx?: Tx, minted = false) {
  return executeOnStream<ApiTokenState, ApiTokenEvent>(
    deps,
    ctx,
    {
      stream: STREAM.apiTokens,
      serde: apiTokenSerde,
      streamId: command.tokenId,
      decide: (state) => decideApiToken(command, state),
      evolve: evolveApiToken,
      beforeAppend,
      minted,
    },
    tx,
  );
}

/** Creates a token; returns the secret, which is never shown again. */
export async function createApiToken(deps: CommandDeps, ctx: CommandContext, input: unknown) {
  const { name, scope } = parseInput(createTokenInput, input);
  const id = (deps.newId ?? randomUUID)();
  const secret = `${TOKEN_PREFIX}${newSecret()}`;
  const createdBy = actorLabel(ctx.actor);
  const result = await onToken(deps, ctx, { type: "CreateApiToken", tokenId: id, name, scope }, async (tx) => {
    await tx.$executeRaw`
      INSERT INTO api_tokens (id, name, scope, token_hash, created_by) VALUES (${id}::uuid, ${name}, ${scope}, ${digest(secret)}, ${createdBy})`;
  }, undefined, true); // a new id: no head to lock
  return { id, name, scope, secret, result };
}

export async function revokeApiToken(deps: CommandDeps, ctx: CommandContext, input: unknown) {
  const { tokenId } = parseInput(revokeTokenInput, input);
  const revokedBy = actorLabel(ctx.actor);
  return inTransaction(
    deps.db,
    async (tx) => {
      const row = await tx.apiToken.findUnique({ where: { id: tokenId }, select: { name: true, scope: true, revokedAt: true } });
      if (!row || row.revokedAt) throw notFound("An active token with that id");
      const scope = row.scope === "write" ? "write" : "read";
      return onToken(
        deps,
        ctx,
        { type: "RevokeApiToken", tokenId, name: row.name, scope },
        async (t) => {
          // Under the token's head lock: of two revocations at once, the second finds it revoked.
          const revoked = await t.$executeRaw`
            UPDATE api_tokens SET revoked_at = now(), revoked_by = ${revokedBy} WHERE id = ${tokenId}::uuid AND revoked_at IS NULL`;
          if (revoked === 0) throw notFound("An active token with that id");
        },
        tx,
      );
    },
  );
}
