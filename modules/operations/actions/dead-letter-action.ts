/**
 * What the two dead-letter actions share (server only): `ops:manage`, the id
 * and the list being shown as input, the operator's email recorded as
 * `resolved_by`, the pages to refresh, and on success a redirect to that list
 * with `handled=<id>` (the row leaves the "open" list, so the page itself says
 * what was done). A refusal (already handled, gone) refreshes the list too.
 */
import { z } from "zod";
import { defineAction, type ActionState } from "@/lib/actions/safe-action";
import { deadLettersHref, parseDeadLetterFilters } from "../read/dead-letters";

/** A failure to show under the buttons (a success redirects). */
export type DeadLetterActionState = ActionState<object>;

const deadLetterInput = z.object({
  id: z.string().regex(/^\d{1,18}$/, "not a dead-letter id"),
  status: z.string().optional().catch(undefined),
});

export function deadLetterAction(name: string, operation: (id: bigint, by: string) => Promise<unknown>) {
  return defineAction({
    name,
    access: "ops:manage",
    input: deadLetterInput,
    invalidInput: "That is not a dead letter this console knows.",
    run: async ({ id }, { user }) => {
      await operation(BigInt(id), user.email);
      return {};
    },
    revalidate: ["/dead-letters", "/health"],
    revalidateOnRefusal: ["/dead-letters"],
    redirect: (_, { id, status }) => `${deadLettersHref(parseDeadLetterFilters({ status: status ?? "open" }).status)}&handled=${id}`,
  });
}
