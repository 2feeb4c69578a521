/** A role's membership history (its page): the member count over time, then who joined and left when. */
import Link from "next/link";
import { ActorLink } from "@/lib/ui/actor-link";
import { formatDateTime } from "@/lib/ui/format";
import { membershipActorLabel, type RoleMembershipHistory } from "@/modules/users/read/role-membership";
import { MemberCountChart } from "./member-count-chart";

const LEFT_BECAUSE = { unassigned: "", "role-deleted": " (role deleted)", "user-deleted": " (user deleted)" } as const;

export function MembershipHistory({ history, roleName, reviewHref }: { history: RoleMembershipHistory; roleName: string; reviewHref: string }) {
  if (history.changes.length === 0) return <p className="text-sm text-zinc-500">Nobody has held this role yet.</p>;
  return (
    <>
      <MemberCountChart series={history.series} title={`Members of ${roleName}`} />
      <ol aria-label="Joined and left" className="divide-y divide-zinc-100 text-sm">
        {history.changes.map((c) => (
          <li key={`${c.kind}-${c.userId}-${c.sequence}`} className="flex flex-wrap items-baseline gap-x-2 py-2">
            <span className={c.kind === "joined" ? "font-medium text-emerald-700" : "font-medium text-amber-700"}>
              {c.kind === "joined" ? "Joined" : "Left"}
            </span>
            <Link href={`/users/${c.userId}?event=${c.sequence}`} className="[overflow-wrap:anywhere] text-zinc-900 underline-offset-2 hover:underline">
              {c.email}
            </Link>
            <span className="text-xs text-zinc-500">
              {c.kind === "left" && c.endReason ? LEFT_BECAUSE[c.endReason] : ""}
              {c.actor && (
                <>
                  {" "}by <ActorLink actor={c.actor}>{membershipActorLabel(c.actor)}</ActorLink>
                </>
              )}{" "}
              · <time dateTime={c.at}>{formatDateTime(new Date(c.at))}</time>
            </span>
          </li>
        ))}
      </ol>
      <p className="mt-3 text-xs">
        <Link href={reviewHref} className="font-medium text-zinc-700 underline underline-offset-2">
          Review every member in a period
        </Link>
      </p>
    </>
  );
}
