"use client";
import { useRouter } from "next/navigation";
import { useEffect } from "react";

/**
 * Re-renders the server page every `seconds` while the tab is visible. Live
 * updates already refresh it when a batch commits; this catches what no batch
 * announces: the log's end moving ahead of the projector, heartbeats stopping.
 */
export function AutoRefresh({ seconds = 5, checkedAt }: { seconds?: number; checkedAt: string }) {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(() => {
      if (!document.hidden) router.refresh();
    }, seconds * 1000);
    return () => clearInterval(timer);
  }, [router, seconds]);
  return (
    <p className="text-xs text-zinc-500">
      Refreshes every {seconds} s · checked <time dateTime={checkedAt}>{checkedAt.slice(11, 19)} UTC</time>
    </p>
  );
}
