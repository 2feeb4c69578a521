/**
 * The one builder for server actions (server only). Every `"use server"` file
 * exports `defineAction({...})`: the action states who may call it, what its
 * input is and what to refresh; the builder does the rest, the same way for
 * every action:
 *
 * 1. access: the signed-in user holding `access` (lib/auth/guard.ts, which also
 *    refuses a cross-site Origin), checked before any input is read, so nothing
 *    runs and nothing reaches Kafka without it; or `"public"` (sign-in, setup,
 *    sign-out), where the action's own logic is the gate;
 * 2. input: FormData → a plain object (blanks kept, repeated names as lists),
 *    validated with the action's zod schema (lib/command/validate.ts);
 * 3. run: the action's handler, timed into `console_commands_total` and
 *    `console_command_duration_seconds` under `name`, with outcome `ok` or the
 *    error code;
 * 4. errors: a DomainError (validation, conflict, a refused rule, …) becomes a
 *    failure carrying its code, message and field errors to the form, plus the
 *    `keep` fields as typed; anything else is logged once with an `errorId`,
 *    and the form shows a generic message quoting it;
 * 5. success: `settle` (untimed, e.g. the read-your-writes wait), then
 *    `revalidate`, then `redirect` if given, else `{ ok: true, ...value }`.
 *
 * No feature knowledge lives here: the permission, schema, metric name and
 * pages come from the action. Command actions pass `...command(fn)` from
 * ./command.ts as `run` and `settle`.
 */
import { revalidatePath } from "next/cache";
import { redirect, unstable_rethrow } from "next/navigation";
import type { z } from "zod";
import { requireUser } from "@/lib/auth/guard";
import type { Permission } from "@/lib/auth/permissions";
import type { Principal } from "@/lib/auth/principal";
import { parseInput } from "@/lib/command/validate";
import { DomainError, isDomainError, type DomainErrorCode, type FieldErrors } from "@/lib/errors";
import { logUnexpected } from "@/lib/log";
import { recordCommand } from "@/lib/metrics/console-metrics";

export type ActionFailure = {
  ok: false;
  code: DomainErrorCode | "unexpected";
  message: string;
  fieldErrors?: FieldErrors;
  /** The submitted text fields named in `keep`, so a form can keep what was typed. */
  values?: Record<string, string>;
  /** Set for unexpected errors: quote it to find the server log entry. */
  errorId?: string;
};

/** What a command action answers on success (see ./command.ts). */
export type CommandOutcome = {
  aggregateId: string;
  version: number;
  /** False when the command was a no-op (e.g. saving unchanged fields): no event was recorded. */
  changed: boolean;
  /** False when the projector had not caught up within the wait: the page may still show old data. */
  projected: boolean;
};

export type ActionSuccess<T extends object = CommandOutcome> = { ok: true } & T;
export type ActionResult<T extends object = CommandOutcome> = ActionSuccess<T> | ActionFailure;
/** The state a `useActionState` form starts from. */
export type ActionState<T extends object = CommandOutcome> = ActionResult<T> | null;

export type Access = Permission | "public";
export type SignedInUser = Extract<Principal, { kind: "user" }>;
export interface ActionContext<A extends Access> {
  /** The caller, checked to hold `access`; null for public actions. */
  user: A extends "public" ? null : SignedInUser;
}

/** A page to refresh: a path, or a route pattern with its kind ("/users/[id]", "page"). */
export type Revalidation = string | readonly [path: string, type: "page" | "layout"];

export interface ActionDefinition<A extends Access, S extends z.ZodType, Out extends object, T extends object> {
  /** The command's name in the metrics and the log, e.g. "CreateUser". */
  name: string;
  /** The permission the caller must hold, or "public". */
  access: A;
  /** The input's schema; without one the action reads no input. */
  input?: S;
  /**
   * What a form shows when the input fails its schema, instead of the
   * per-field summary: for inputs the user never typed (hidden ids).
   */
  invalidInput?: string;
  /** Text fields sent back with a failure so the form keeps them (never secrets). */
  keep?: readonly string[];
  /** The work, as the checked caller; a DomainError is an expected refusal. */
  run: (input: z.output<S>, ctx: ActionContext<A>) => Promise<Out>;
  /** After a success is recorded, outside the timing: e.g. wait for the read model. */
  settle?: (out: Out) => Promise<T>;
  /** Pages to refresh after a success. */
  revalidate?: readonly Revalidation[] | ((value: T, input: z.output<S>) => readonly Revalidation[]);
  /** Pages to refresh when the handler refuses: the refusal may mean the page is stale. */
  revalidateOnRefusal?: readonly Revalidation[];
  /** Where to send the browser after a success (instead of answering). */
  redirect?: (value: T, input: z.output<S>) => string;
}

/**
 * The action itself. Called by a plain `<form action>` as (FormData), whose
 * answer React drops; by a `useActionState` form as (previous state, FormData);
 * by code as (null, FormData). An action with no `input` reads none.
 */
export interface ServerAction<T extends object> {
  (formData: FormData): Promise<void>;
  // Last, so that useActionState infers its state from this one.
  (prev: ActionState<T>, formData?: FormData): Promise<ActionResult<T>>;
}

export function defineAction<A extends Access, S extends z.ZodType = z.ZodObject, Out extends object = object, T extends object = Out>(
  definition: ActionDefinition<A, S, Out, T>,
): ServerAction<T> {
  const { name } = definition;
  const action = async (first?: ActionState<T> | FormData, second?: FormData): Promise<ActionResult<T>> => {
    const formData = second ?? (first instanceof FormData ? first : undefined);
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    let ran = false; // past the access check and the input: a DomainError now is the handler refusing
    let values: Record<string, string> | undefined;
    let input: z.output<S>;
    let out: Out;
    try {
      const user = definition.access === "public" ? null : await requireUser(definition.access);
      const raw = formData ? formDataToObject(formData) : {};
      values = kept(raw, definition.keep);
      input = definition.input ? parseActionInput(definition.input, raw, definition.invalidInput) : ({} as z.output<S>);
      ran = true;
      out = await definition.run(input, { user } as ActionContext<A>);
    } catch (error) {
      unstable_rethrow(error); // Next's own control flow (redirect, notFound) is not a failure
      const result = failure(name, error, values);
      recordCommand(name, result.code, seconds());
      if (ran && isDomainError(error)) revalidateAll(definition.revalidateOnRefusal ?? []);
      return result;
    }
    recordCommand(name, "ok", seconds());
    const value = definition.settle ? await definition.settle(out) : (out as unknown as T);
    const { revalidate = [] } = definition;
    revalidateAll(typeof revalidate === "function" ? revalidate(value, input) : revalidate);
    // Outside the try: redirect() works by throwing.
    if (definition.redirect) redirect(definition.redirect(value, input));
    return { ok: true, ...value };
  };
  // Marks what the builder made (see every-action.unit.test.ts); Next only needs an async function.
  return Object.defineProperty(action, BUILT_BY, { value: name }) as ServerAction<T>;
}

/** The property holding the name of an action made by defineAction. */
export const BUILT_BY = Symbol.for("admin-console.defineAction");

function parseActionInput<S extends z.ZodType>(schema: S, raw: unknown, invalidInput: string | undefined): z.output<S> {
  try {
    return parseInput(schema, raw);
  } catch (error) {
    if (invalidInput && isDomainError(error)) throw new DomainError(error.code, invalidInput, error.fieldErrors);
    throw error;
  }
}

function revalidateAll(pages: readonly Revalidation[]) {
  for (const page of pages) {
    if (typeof page === "string") revalidatePath(page);
    else revalidatePath(page[0], page[1]);
  }
}

/**
 * Text fields as strings, blanks kept: a cleared "Name" must reach the schema
 * as "" so the admin sees "Name is required." Files are ignored: no action
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

function kept(raw: Record<string, unknown>, keep: readonly string[] | undefined): Record<string, string> | undefined {
  if (!keep?.length) return undefined;
  return Object.fromEntries(keep.flatMap((field) => (typeof raw[field] === "string" ? [[field, raw[field]]] : [])));
}

/** An error as the form sees it: a DomainError as it is, anything else logged once with an id. */
function failure(action: string, error: unknown, values: Record<string, string> | undefined): ActionFailure {
  if (isDomainError(error)) {
    return {
      ok: false,
      code: error.code,
      message: error.message,
      ...(error.fieldErrors ? { fieldErrors: error.fieldErrors } : {}),
      ...(values ? { values } : {}),
    };
  }
  const errorId = logUnexpected("server action failed", error, { action });
  return {
    ok: false,
    code: "unexpected",
    message: `Something went wrong and nothing may have been saved. Please try again (error id ${errorId}).`,
    errorId,
    ...(values ? { values } : {}),
  };
}
