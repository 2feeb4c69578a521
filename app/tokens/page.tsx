import type { Metadata } from "next";
import { requirePage } from "@/lib/auth/guard";
import { listApiTokens } from "@/lib/auth/api-tokens";
import { getDb } from "@/lib/db";
import { DataTable } from "@/lib/ui/data-table";
import { Badge } from "@/lib/ui/badge";
import { formatDate } from "@/lib/ui/format";
import { Card, PageHeader } from "@/lib/ui/page-header";
import { CreateTokenForm, RevokeTokenForm } from "@/modules/access/ui/token-forms";

export const metadata: Metadata = { title: "API tokens" };

export default async function TokensPage() {
  await requirePage("tokens:manage");
  const tokens = await listApiTokens(getDb());
  return (
    <>
      <PageHeader
        title="API tokens"
        description={
          <>
            For services that call <code className="rounded bg-zinc-100 px-1">/api/v1</code> (send{" "}
            <code className="rounded bg-zinc-100 px-1">Authorization: Bearer …</code>). Read tokens can search and read;
            write tokens can also run every user and role command.
          </>
        }
      />
      <div className="space-y-6">
        <Card>
          <div className="p-5">
            <CreateTokenForm />
          </div>
        </Card>
        <DataTable
          caption="API tokens"
          head={
            <>
              <th scope="col" className="px-4 py-3">Name</th>
              <th scope="col" className="px-4 py-3">Scope</th>
              <th scope="col" className="hidden px-4 py-3 sm:table-cell">Created</th>
              <th scope="col" className="hidden px-4 py-3 md:table-cell">Last used</th>
              <th scope="col" className="px-4 py-3">Status</th>
              <th scope="col" className="px-4 py-3">
                <span className="sr-only">Actions</span>
              </th>
            </>
          }
        >
          <tbody className="divide-y divide-zinc-100">
            {tokens.map((t) => (
              <tr key={t.id} className="align-top">
                <td className="px-4 py-3 font-medium break-all text-zinc-900">{t.name}</td>
                <td className="px-4 py-3">
                  <Badge tone={t.scope === "write" ? "amber" : "neutral"}>{t.scope}</Badge>
                </td>
                <td className="hidden px-4 py-3 text-zinc-600 sm:table-cell">
                  <time dateTime={t.createdAt.toISOString()}>{formatDate(t.createdAt)}</time>
                  <span className="block text-xs text-zinc-500">by {t.createdBy}</span>
                </td>
                <td className="hidden px-4 py-3 text-zinc-600 md:table-cell">
                  {t.lastUsedAt ? <time dateTime={t.lastUsedAt.toISOString()}>{formatDate(t.lastUsedAt)}</time> : "never"}
                </td>
                <td className="px-4 py-3 text-zinc-600">
                  {t.revokedAt ? (
                    <>
                      <Badge tone="red">revoked</Badge>
                      <span className="block text-xs text-zinc-500">
                        {formatDate(t.revokedAt)} by {t.revokedBy}
                      </span>
                    </>
                  ) : (
                    <Badge tone="green">active</Badge>
                  )}
                </td>
                <td className="px-4 py-3 text-right">{!t.revokedAt && <RevokeTokenForm tokenId={t.id} name={t.name} />}</td>
              </tr>
            ))}
            {tokens.length === 0 && (
              <tr>
                <td colSpan={6} className="px-4 py-12 text-center text-zinc-500">
                  No tokens yet.
                </td>
              </tr>
            )}
          </tbody>
        </DataTable>
      </div>
    </>
  );
}
