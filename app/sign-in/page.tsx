import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { currentUser } from "@/lib/auth/guard";
import { safeNextPath } from "@/lib/auth/next-path";
import { Card } from "@/lib/ui/page-header";
import { SignInForm } from "@/modules/access/ui/sign-in-form";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const { next } = await searchParams;
  const target = safeNextPath(typeof next === "string" ? next : null);
  if (await currentUser()) redirect(target);
  return (
    <div className="mx-auto mt-8 max-w-sm">
      <h1 className="mb-1 text-2xl font-semibold tracking-tight text-zinc-900">Sign in</h1>
      <p className="mb-6 text-sm text-zinc-600">Administrators of the platform sign in with their email and password.</p>
      <Card>
        <div className="p-5">
          <SignInForm next={target} />
        </div>
      </Card>
    </div>
  );
}
