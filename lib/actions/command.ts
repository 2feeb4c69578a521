/**
 * Command actions: `...command(createUser)` in a defineAction gives it the
 * `run` and `settle` of a command (server only). `run` executes the
 * application function as the signed-in user (the actor in its events; what
 * they hold bounds what they may grant); `settle` then waits briefly for the
 * projector to pass the new events, so the page the action revalidates already
 * shows the change (read-your-writes). If the projector is slower, `projected`
 * is false and the UI says "pending". The wait is outside the command's timing.
 *
 * The action's `input` is the command's own schema: the builder refuses bad
 * input before anything runs, and the command parses it again, as it does for
 * the API and the tests.
 */
import { commandContextOf } from "@/lib/auth/principal";
import type { CommandContext, CommandDeps, CommandResult } from "@/lib/command/execute";
import { getDb } from "@/lib/db";
import { getLogger } from "@/lib/log";
import { waitForProjection } from "@/lib/command/wait-for-projection";
import { getCommandDeps, getKafkaConfig } from "@/lib/runtime";
import type { Permission } from "@/lib/auth/permissions";
import type { ActionContext, CommandOutcome } from "./safe-action";

/** How long an action waits for the read model before answering "pending". */
const PROJECTION_WAIT_MS = 3_000;

export type CommandFn<I, R extends CommandResult = CommandResult> = (deps: CommandDeps, ctx: CommandContext, input: I) => Promise<R>;

/**
 * `report` adds what the command's caller needs beyond the outcome (e.g. a bulk change's
 * per-item results); it must be plain data, as it travels to the browser.
 */
export function command<I, R extends CommandResult = CommandResult, X extends object = object>(fn: CommandFn<I, R>, report?: (result: R) => X) {
  return {
    run: (input: I, { user }: ActionContext<Permission>) => fn(getCommandDeps(), commandContextOf(user), input),
    settle: async (result: R): Promise<CommandOutcome & X> => ({
      ...(report?.(result) as X),
      aggregateId: result.aggregateId,
      version: result.version,
      changed: result.events.length > 0,
      projected: await waitForProjected(result),
    }),
  };
}

async function waitForProjected(result: CommandResult): Promise<boolean> {
  if (result.events.length === 0) return true;
  try {
    return await waitForProjection(getDb(), getKafkaConfig().PROJECTOR_GROUP_ID, result.events, PROJECTION_WAIT_MS);
  } catch (error) {
    // The change is saved (Kafka acknowledged it); only the wait failed.
    getLogger().warn({ err: error }, "waiting for projection failed");
    return false;
  }
}
