import type { Metadata } from "next";
import { requirePage } from "@/lib/auth/guard";
import Link from "next/link";
import { Card, PageHeader } from "@/lib/ui/page-header";
import { CreateUserForm } from "@/modules/users/ui/create-user-form";

export const metadata: Metadata = { title: "New user" };

export default async function NewUserPage() {
  await requirePage("users:write");
  return (
    <div className="max-w-xl">
      <p className="mb-2 text-sm">
        <Link href="/users" className="text-zinc-600 underline-offset-2 hover:underline">
          ← Users
        </Link>
      </p>
      <PageHeader title="New user" description="The email must not be used by another user." />
      <Card>
        <CreateUserForm />
      </Card>
    </div>
  );
}
