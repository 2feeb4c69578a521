import type { Metadata } from "next";
import Form from "next/form";
import Link from "next/link";
import { Suspense } from "react";
import { requirePage } from "@/lib/auth/guard";
import { getDb } from "@/lib/db";
import { ActorLink } from "@/lib/ui/actor-link";
import { DataTable } from "@/lib/ui/data-table";
import { formatDateTime } from "@/lib/ui/format";
import { PageHeader } from "@/lib/ui/page-header";
import { buttonClass, inputClass } from "@/lib/ui/styles";
import {
  accessReviewHref,
  accessReviewQuerySchema,
  listMembersInPeriod,
  listReviewableRoles,
  memberCountSeries,
  membershipActorLabel,
  type AccessReviewQuery,
  type MemberInterval,
  type MembershipActor,
} from "@/modules/users/read/role-membership";
import { MemberCountChart } from "@/modules/users/ui/member-count-chart";

export const metadata: Metadata = { title: "Access review" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? "";

const END_REASONS = { unassigned: "unassigned", "role-deleted": "role deleted", "user-deleted": "user deleted" } as const;

export default async function AccessReviewPage({ searchParams }: { searchParams: SearchParams }) {
  await requirePage("users:read"); // per request (reads the session), never prerendered
  const params = await searchParams;
  const typed = { role: first(params.role), from: first(params.from), to: first(params.to) };
  const asked = Boolean(typed.role || typed.from || typed.to);
  const parsed = asked ? accessReviewQuerySchema.safeParse({ roleId: typed.role, from: typed.from, to: typed.to }) : null;
  const errors: Record<string, string> = {};
  for (const issue of parsed?.error?.issues ?? []) errors[String(issue.path[0] ?? "_form")] ??= issue.message;

  const db = getDb();
  const query = parsed?.success ? parsed.data : null;
  const [roles, page] = await Promise.all([
    listReviewableRoles(db),
    query ? listMembersInPeriod(db, query, { cursor: first(params.cursor) || null }) : null,
  ]);
  const role = query ? roles.find((r) => r.id === query.roleId) : undefined;
  if (query && !role) errors.roleId = "No such role.";
  const exportHref = `/api/access-review/export?${new URLSearchParams({ role: typed.role, from: typed.from, to: typed.to })}`;

  return (
    <>
      <PageHeader
        title="Access review"
        description="Who held a role at any moment of a period, who granted it and who took it away, from the log's own history. Times are UTC."
      />
      <Form action="/access-review" role="search" aria-label="Access review query" className="mb-6 flex flex-wrap items-start gap-3">
        <Field id="review-role" label="Role" error={errors.roleId}>
          <select id="review-role" name="role" defaultValue={typed.role} className={inputClass} aria-invalid={!!errors.roleId} aria-describedby={errors.roleId ? "review-role-error" : undefined}>
            <option value="">Choose a role…</option>
            {roles.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
                {r.isDeleted ? " (deleted)" : ""}
              </option>
            ))}
          </select>
        </Field>
        <Field id="review-from" label="From" error={errors.from}>
          <input id="review-from" name="from" type="datetime-local" step={1} defaultValue={typed.from} className={inputClass} aria-invalid={!!errors.from} aria-describedby={errors.from ? "review-from-error" : undefined} />
        </Field>
        <Field id="review-to" label="To" error={errors.to}>
          <input id="review-to" name="to" type="datetime-local" step={1} defaultValue={typed.to} className={inputClass} aria-invalid={!!errors.to} aria-describedby={errors.to ? "review-to-error" : undefined} />
        </Field>
        <div className="pt-6">
          <button type="submit" className={buttonClass("primary")}>
            Show
          </button>
        </div>
      </Form>

      {query && role && page && (
        <section aria-labelledby="review-result">
          <div className="mb-3 flex flex-wrap items-end justify-between gap-3">
            <h2 id="review-result" className="text-sm text-zinc-700">
              <strong className="font-semibold text-zinc-900">{role.name}</strong>
              {role.isDeleted && " (deleted)"}: {page.isTotalCapped ? "more than " : ""}
              {page.total.toLocaleString("en-US")} {page.total === 1 ? "holding" : "holdings"} from{" "}
              {formatDateTime(query.from)} to {formatDateTime(query.to)}
            </h2>
            <a href={exportHref} download className={buttonClass("secondary", "sm")}>
              Export CSV
            </a>
          </div>
          {/* Streamed after the table: the count over the period reads every holding of the role. */}
          <Suspense
            fallback={
              <p role="status" className="mb-4 text-sm text-zinc-500">
                Counting members over the period…
              </p>
            }
          >
            <CountChart query={query} title={`Members of ${role.name}`} />
          </Suspense>
          <DataTable
            caption="Members in period"
            head={
              <>
                <th scope="col" className="px-4 py-3">Email</th>
                <th scope="col" className="px-4 py-3 whitespace-nowrap">Held from</th>
                <th scope="col" className="px-4 py-3 whitespace-nowrap">Held until</th>
                <th scope="col" className="px-4 py-3">Granted by</th>
                <th scope="col" className="px-4 py-3">Removed by</th>
              </>
            }
          >
            <tbody className="divide-y divide-zinc-100">
              {page.members.map((m) => (
                <MemberRow key={m.grantEventId} member={m} />
              ))}
              {page.members.length === 0 && (
                <tr>
                  <td colSpan={5} className="px-4 py-12 text-center text-zinc-500">
                    Nobody held this role in the period.
                  </td>
                </tr>
              )}
            </tbody>
          </DataTable>
          {(first(params.cursor) || page.nextCursor) && (
            <nav aria-label="Pagination" className="mt-4 flex items-center justify-between text-sm">
              {first(params.cursor) ? (
                <Link href={accessReviewHref(typed)} className={buttonClass("secondary")}>
                  ← First page
                </Link>
              ) : (
                <span />
              )}
              {page.nextCursor && (
                <Link href={accessReviewHref(typed, page.nextCursor)} className={buttonClass("secondary")}>
                  More members →
                </Link>
              )}
            </nav>
          )}
        </section>
      )}
    </>
  );
}

async function CountChart({ query, title }: { query: AccessReviewQuery; title: string }) {
  return <MemberCountChart series={await memberCountSeries(getDb(), query)} title={title} />;
}

function Field({ id, label, error, children }: { id: string; label: string; error?: string; children: React.ReactNode }) {
  return (
    <div className="w-full space-y-1.5 sm:w-60">
      <label htmlFor={id} className="block text-sm font-medium text-zinc-800">
        {label}
      </label>
      {children}
      {error && (
        <p id={`${id}-error`} role="alert" className="text-xs text-red-700">
          {error}
        </p>
      )}
    </div>
  );
}

function Actor({ actor }: { actor: MembershipActor | null }) {
  if (!actor) return <span className="text-zinc-400">—</span>;
  return (
    <ActorLink actor={actor} className="[overflow-wrap:anywhere] text-zinc-700 underline-offset-2 hover:underline">
      {membershipActorLabel(actor)}
    </ActorLink>
  );
}

function MemberRow({ member: m }: { member: MemberInterval }) {
  return (
    <tr className="align-top hover:bg-zinc-50/70">
      <td className="px-4 py-3">
        <Link href={`/users/${m.userId}`} className="font-medium [overflow-wrap:anywhere] text-zinc-900 underline-offset-2 hover:underline">
          {m.email}
        </Link>
        {m.userDeleted && <span className="ml-1.5 text-xs text-zinc-500">(deleted)</span>}
      </td>
      <td className="px-4 py-3 whitespace-nowrap text-zinc-700">
        <time dateTime={m.heldFrom}>{formatDateTime(new Date(m.heldFrom))}</time>
      </td>
      <td className="px-4 py-3 whitespace-nowrap text-zinc-700">
        {m.heldUntil && (
          <>
            <time dateTime={m.heldUntil}>{formatDateTime(new Date(m.heldUntil))}</time>
            {m.endReason && m.endReason !== "unassigned" && (
              <span className="block text-xs text-zinc-500">{END_REASONS[m.endReason]}</span>
            )}
          </>
        )}
      </td>
      <td className="px-4 py-3">
        <Actor actor={m.grantedBy} />
      </td>
      <td className="px-4 py-3">{m.heldUntil ? <Actor actor={m.removedBy} /> : null}</td>
    </tr>
  );
}
