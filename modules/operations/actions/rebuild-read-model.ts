"use server";
/**
 * Start and cancel a read-model rebuild from the health page (ops:manage). The
 * console only records the request: a projector worker claims it and runs it
 * (lib/projection/rebuild/rebuild-jobs.ts), so a rebuild never runs in the web
 * server's process and survives nobody's browser tab.
 */
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { runAuthorized } from "@/lib/actions/safe-action";
import { getDb } from "@/lib/db";
import { DomainError } from "@/lib/errors";
import { recordCommand } from "@/lib/metrics/console-metrics";
import { cancelRebuild, requestRebuild } from "@/lib/projection/rebuild/rebuild-jobs";
import { getKafkaConfig } from "@/lib/runtime";

/** `code`: the error code when refused (as every action's failure carries: validation, forbidden, …). */
export type RebuildActionState = { ok: true; message: string } | { ok: false; code: string; message: string } | null;

const idSchema = z.string().regex(/^\d{1,18}$/);

async function timed(command: string, work: () => Promise<{ ok: true; value: string } | { ok: false; code: string; message: string }>) {
  const started = process.hrtime.bigint();
  const result = await work();
  recordCommand(command, result.ok ? "ok" : result.code, Number(process.hrtime.bigint() - started) / 1e9);
  revalidatePath("/health");
  return result.ok ? { ok: true as const, message: result.value } : { ok: false as const, code: result.code, message: result.message };
}

export async function requestRebuildAction(_prev: RebuildActionState, formData: FormData): Promise<RebuildActionState> {
  return timed("RequestRebuild", () =>
    runAuthorized("ops:manage", async (user) => {
      const acceptDifferences = formData.get("acceptDifferences") === "on";
      const row = await requestRebuild(getDb(), {
        group: getKafkaConfig().PROJECTOR_GROUP_ID,
        requestedBy: user.email,
        acceptDifferences,
      });
      return `Rebuild #${row.id} asked for: a projector worker starts it within a few seconds.`;
    }),
  );
}

export async function cancelRebuildAction(_prev: RebuildActionState, formData: FormData): Promise<RebuildActionState> {
  return timed("CancelRebuild", () =>
    runAuthorized("ops:manage", async (user) => {
      const id = idSchema.safeParse(formData.get("id"));
      if (!id.success) throw new DomainError("validation", "That is not a rebuild this console knows.");
      await cancelRebuild(getDb(), getKafkaConfig().PROJECTOR_GROUP_ID, BigInt(id.data), user.email);
      return `Cancel asked for: rebuild #${id.data} stops before its switch.`;
    }),
  );
}
