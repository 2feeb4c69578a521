/**
 * POST /api/v1/users/:id/erasure { reason } → erases the person's personal data
 * for good (crypto-shredding, README "Privacy and erasure"): their key is
 * destroyed, UserDeleted (if live) and UserErased are recorded. Needs users:erase.
 * Answers how many of their events in the log carry their data in clear
 * (`eventsInClear`): those no key can erase.
 */
import { apiRoute, commandResponse } from "@/lib/api/handler";
import { getCommandDeps, getPersonalDataKeys } from "@/lib/runtime";
import { eraseUser } from "@/modules/privacy/application/erase-person";

export const POST = apiRoute<{ id: string }>("users:erase", async ({ ctx, params, body }) => {
  const result = await eraseUser({ ...getCommandDeps(), personalData: getPersonalDataKeys() }, ctx, { ...body, userId: params.id });
  const response = commandResponse(200, result);
  return { ...response, body: { ...(response.body as object), eventsInClear: result.eventsInClear } };
});
