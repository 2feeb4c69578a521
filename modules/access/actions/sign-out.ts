"use server";

import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { endSession, SESSION_COOKIE } from "@/lib/auth/sessions";
import { getDb } from "@/lib/db";

/** Ends this browser's session (its row is deleted: the cookie is worthless from now on). */
export async function signOutAction(): Promise<void> {
  const jar = await cookies();
  await endSession(getDb(), jar.get(SESSION_COOKIE)?.value);
  jar.delete(SESSION_COOKIE);
  redirect("/sign-in");
}
