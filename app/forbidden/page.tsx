import type { Metadata } from "next";
import Link from "next/link";
import { requireSignedIn } from "@/lib/auth/guard";
import { isPermission, PERMISSIONS } from "@/lib/auth/permissions";
import { PageHeader } from "@/lib/ui/page-header";

export const metadata: Metadata = { title: "No permission" };

export default async function ForbiddenPage({ searchParams }: { searchParams: Promise<{ need?: string | string[] }> }) {
  const { need } = await searchParams;
  const user = await requireSignedIn();
  const needed = typeof need === "string" && isPermission(need) ? need : null;
  return (
    <div className="max-w-xl">
      <PageHeader title="You do not have permission to see this" />
      <p className="text-sm text-zinc-700">
        {needed ? (
          <>
            It needs the <code className="rounded bg-zinc-100 px-1">{needed}</code> permission ({PERMISSIONS[needed].toLowerCase()}
            ).{" "}
          </>
        ) : null}
        You are signed in as {user.email}. An administrator can give you a role that carries it.
      </p>
      <p className="mt-4 text-sm">
        <Link href="/users" className="underline">
          Back to the console
        </Link>
      </p>
    </div>
  );
}
