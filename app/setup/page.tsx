import type { Metadata } from "next";
import Link from "next/link";
import { Card } from "@/lib/ui/page-header";
import { SetupForm } from "@/modules/access/ui/setup-form";

export const metadata: Metadata = { title: "First administrator" };

/** Reached through the one-time link printed at first start; the action checks the token. */
export default async function SetupPage({ searchParams }: { searchParams: Promise<{ token?: string | string[] }> }) {
  const { token } = await searchParams;
  return (
    <div className="mx-auto mt-8 max-w-sm">
      <h1 className="mb-1 text-2xl font-semibold tracking-tight text-zinc-900">Create the first administrator</h1>
      <p className="mb-6 text-sm text-zinc-600">
        This account gets the built-in <strong className="font-medium">admin</strong> role. Everyone else is invited from the
        console afterwards.
      </p>
      <Card>
        <div className="p-5">
          {typeof token === "string" && token ? (
            <SetupForm token={token} />
          ) : (
            <p className="text-sm text-zinc-700">
              This page needs the one-time link printed by the console at its first start.{" "}
              <Link href="/sign-in" className="underline">
                Sign in
              </Link>{" "}
              if an administrator exists.
            </p>
          )}
        </div>
      </Card>
    </div>
  );
}
