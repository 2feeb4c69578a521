"use server";
/**
 * Start and cancel a read-model rebuild from the health page (ops:manage). The
 * console only records the request: a projector worker claims it and runs it
 * (lib/projection/rebuild/rebuild-jobs.ts), so a rebuild never runs in the web
 * server's process and survives nobody's browser tab.
 */
import { z } from "zod";
import { defineAction, type ActionState } from "@/lib/actions/safe-action";
import { getDb } from "@/lib/db";
import { cancelRebuild, requestRebuild } from "@/lib/projection/rebuild/rebuild-jobs";
import { getKafkaConfig } from "@/lib/runtime";

export type RebuildActionState = ActionState<{ message: string }>;

export const requestRebuildAction = defineAction({
  name: "RequestRebuild",
  access: "ops:manage",
  input: z.object({ acceptDifferences: z.unknown() }),
  run: async ({ acceptDifferences }, { user }) => {
    const row = await requestRebuild(getDb(), {
      group: getKafkaConfig().PROJECTOR_GROUP_ID,
      requestedBy: user.email,
      acceptDifferences: acceptDifferences === "on",
    });
    return { message: `Rebuild #${row.id} asked for: a projector worker starts it within a few seconds.` };
  },
  revalidate: ["/health"],
  // "One is already running": the page was stale.
  revalidateOnRefusal: ["/health"],
});

export const cancelRebuildAction = defineAction({
  name: "CancelRebuild",
  access: "ops:manage",
  input: z.object({ id: z.string().regex(/^\d{1,18}$/, "not a rebuild id") }),
  invalidInput: "That is not a rebuild this console knows.",
  run: async ({ id }, { user }) => {
    await cancelRebuild(getDb(), getKafkaConfig().PROJECTOR_GROUP_ID, BigInt(id), user.email);
    return { message: `Cancel asked for: rebuild #${id} stops before its switch.` };
  },
  revalidate: ["/health"],
  revalidateOnRefusal: ["/health"],
});
