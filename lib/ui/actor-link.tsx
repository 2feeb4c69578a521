import Link from "next/link";
import type { ReactNode } from "react";
import { actorActivityHref } from "@/lib/events/actor-filter";

/** An actor's name as a link to what they did (the activity feed filtered by actor); plain text if unnamed. */
export function ActorLink({
  actor,
  children,
  className = "font-medium text-zinc-700 underline-offset-2 hover:underline",
}: {
  actor: { kind: string; userId?: string | null; name?: string | null };
  children: ReactNode;
  className?: string;
}) {
  const href = actorActivityHref(actor);
  if (!href) return <span className={className}>{children}</span>;
  return (
    <Link href={href} className={className} title="What this actor did">
      {children}
    </Link>
  );
}
