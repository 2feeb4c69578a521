"use client";
import { useRouter } from "next/navigation";
import { useEffect } from "react";

/**
 * While `pending` (the projector had not caught up when the action answered),
 * re-fetches the server-rendered page every second, for up to `maxTries`,
 * until the parent stops passing `pending`. Renders a quiet status line.
 */
export function RefreshWhilePending({ pending, maxTries = 20 }: { pending: boolean; maxTries?: number }) {
  const router = useRouter();
  useEffect(() => {
    if (!pending) return;
    let tries = 0;
    const timer = setInterval(() => {
      tries += 1;
      if (tries > maxTries) clearInterval(timer);
      else router.refresh();
    }, 1_000);
    return () => clearInterval(timer);
  }, [pending, maxTries, router]);
  if (!pending) return null;
  return (
    <p role="status" className="text-xs text-amber-800">
      Pending: waiting for the read model to catch up…
    </p>
  );
}
