"use client";
import { useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useActionState } from "react";
import type { ActionResult, ActionState, ActionSuccess } from "@/lib/actions/safe-action";

type FormAction = (prev: ActionState, formData: FormData) => Promise<ActionResult>;

/**
 * useActionState over a server action that, on success, invalidates exactly
 * the query keys the change touched (from the module's key factory). The
 * server action itself revalidates the server-rendered pages.
 */
export function useCommandForm(action: FormAction, invalidates: (result: ActionSuccess) => readonly QueryKey[]) {
  const queryClient = useQueryClient();
  return useActionState<ActionState, FormData>(async (prev, formData) => {
    const result = await action(prev, formData);
    if (result.ok) {
      await Promise.all(invalidates(result).map((queryKey) => queryClient.invalidateQueries({ queryKey })));
    }
    return result;
  }, null);
}
