/**
 * The one wrapper for server actions (server only: it reaches the database
 * and Kafka). An action file hands its input to `runCommand` together with
 * the permission it needs and the application function, which
 * - checks the session and the permission first (lib/auth/guard.ts), before
 *   reading any input: without them nothing runs and nothing reaches Kafka,
 * - turns FormData into a plain object (the command's zod schema validates it),
 * - runs the command as the signed-in user (the actor in its events; what
 *   they hold bounds what they may grant),
 * - maps a DomainError to a result the form can show (code, message, field
 *   errors) and anything else to a logged error id and a generic message,
 * - on success waits briefly for the projector to pass the new events, so the
 *   page the action revalidates already shows the change (read-your-writes).
 *   If the projector is slower, `projected` is false and the UI says "pending".
 */
import type { CommandContext, CommandDeps, CommandResult } from "@/lib/command/execute";
import { getDb } from "@/lib/db";
import { requireUser } from "@/lib/auth/guard";
import type { Permission } from "@/lib/auth/permissions";
import { commandContextOf, type Principal } from "@/lib/auth/principal";
import { isDomainError, type DomainErrorCode, type FieldErrors } from "@/lib/errors";
import { getLogger, logUnexpected } from "@/lib/log";
import { recordCommand } from "@/lib/metrics/console-metrics";
import { waitForProjection } from "@/lib/command/wait-for-projection";
import { getCommandDeps, getKafkaConfig } from "@/lib/runtime";

/** How long an action waits for the read model before answering "pending". */
const PROJECTION_WAIT_MS = 3_000;

export type ActionSuccess = {
  ok: true;
  aggregateId: string;
  version: number;
  /** False when the command was a no-op (e.g. saving unchanged fields): no event was recorded. */
  changed: boolean;
  /** False when the projector had not caught up within the wait: the page may still show old data. */
  projected: boolean;
};

export type ActionFailure = {
  ok: false;
  code: DomainErrorCode | "unexpected";
  message: string;
  fieldErrors?: FieldErrors;
  /** The submitted text fields, so a form can keep what the admin typed. */
  values?: Record<string, string>;
  /** Set for unexpected errors: quote it to find the server log entry. */
  errorId?: string;
};

export type ActionResult = ActionSuccess | ActionFailure;

/** The state a `useActionState` form starts from. */
export type ActionState = ActionResult | null;

export type CommandFn = (deps: CommandDeps, ctx: CommandContext, input: unknown) => Promise<CommandResult>;

export async function runCommand(
  permission: Permission,
  command: CommandFn,
  input: FormData | Record<string, unknown>,
): Promise<ActionResult> {
  const data = input instanceof FormData ? formDataToObject(input) : input;
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  const type = command.name || "command";
  let result: CommandResult;
  try {
    const user = await requireUser(permission);
    result = await command(getCommandDeps(), commandContextOf(user), data);
  } catch (error) {
    recordCommand(type, isDomainError(error) ? error.code : "unexpected", elapsed());
    return failure(error, input instanceof FormData ? textValues(data) : undefined);
  }
  recordCommand(type, "ok", elapsed());
  let projected = result.events.length === 0;
  if (!projected) {
    try {
      projected = await waitForProjection(
        getDb(),
        getKafkaConfig().PROJECTOR_GROUP_ID,
        result.events,
        PROJECTION_WAIT_MS,
      );
    } catch (error) {
      // The change is saved (Kafka acknowledged it); only the wait failed.
      getLogger().warn({ err: error }, "waiting for projection failed");
    }
  }
  return {
    ok: true,
    aggregateId: result.aggregateId,
    version: result.version,
    changed: result.events.length > 0,
    projected,
  };
}

/**
 * For actions that are not commands (tokens, passwords, sign-out): the same
 * session and permission check first, the same error mapping.
 */
export async function runAuthorized<T>(
  permission: Permission,
  work: (user: Extract<Principal, { kind: "user" }>) => Promise<T>,
  values?: Record<string, string>,
): Promise<{ ok: true; value: T } | ActionFailure> {
  try {
    const user = await requireUser(permission);
    return { ok: true, value: await work(user) };
  } catch (error) {
    return failure(error, values);
  }
}

/**
 * Text fields as strings, blanks kept: a cleared "Name" must reach the schema
 * as "" so the admin sees "Name is required." Files are ignored: no command
 * takes one.
 */
export function formDataToObject(formData: FormData): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(formData.keys())) {
    // Next adds `$ACTION_*` keys for progressive enhancement; they are not input.
    if (key.startsWith("$ACTION")) continue;
    const values = formData.getAll(key).filter((v): v is string => typeof v === "string");
    // A repeated name (a group of checkboxes) is a list; a single one stays a string.
    out[key] = values.length === 1 ? values[0]! : values;
  }
  return out;
}

/** The single-valued fields, for a form to keep what was typed. */
const textValues = (data: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(data).filter((e): e is [string, string] => typeof e[1] === "string"));

export function failure(error: unknown, values?: Record<string, string>): ActionFailure {
  if (isDomainError(error)) {
    return {
      ok: false,
      code: error.code,
      message: error.message,
      ...(error.fieldErrors ? { fieldErrors: error.fieldErrors } : {}),
      ...(values ? { values } : {}),
    };
  }
  const errorId = logUnexpected("server action failed", error);
  return {
    ok: false,
    code: "unexpected",
    message: `Something went wrong and nothing may have been saved. Please try again (error id ${errorId}).`,
    errorId,
    ...(values ? { values } : {}),
  };
}
