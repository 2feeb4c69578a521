"use client";
/**
 * Keeps every open page current: one EventSource on /api/live per browser tab
 * (mounted once, in the root layout). Per notification it invalidates exactly
 * the React Query keys concerned (lib/live/live-invalidations.ts) and
 * refreshes the server-rendered page, debounced so a burst of batches costs
 * one refresh. A hidden tab refreshes when it becomes visible again.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import type { LiveDefinition } from "@/lib/module";
import { liveInvalidations } from "./live-invalidations";
import { LIVE_EVENT, parseLiveMessage, type LiveMessage } from "./live-message";

/** Batches landing within this window share one refresh (well within the ~1 s goal). */
const REFRESH_DEBOUNCE_MS = 150;

type LiveStatus = "connecting" | "live" | "offline";

/** `live`: the modules' live definitions (modules/live.ts), passed in by modules/live-updates.tsx. */
export function LiveUpdates({ live }: { live: readonly LiveDefinition[] }) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const [status, setStatus] = useState<LiveStatus>("connecting");

  useEffect(() => {
    let refreshTimer: ReturnType<typeof setTimeout> | null = null;
    let missedWhileHidden = false;

    const refreshSoon = () => {
      if (document.hidden) {
        missedWhileHidden = true;
        return;
      }
      if (refreshTimer) return; // one is already due and will read the newest state
      refreshTimer = setTimeout(() => {
        refreshTimer = null;
        router.refresh();
      }, REFRESH_DEBOUNCE_MS);
    };

    const apply = (message: LiveMessage) => {
      for (const queryKey of liveInvalidations(message, live)) void queryClient.invalidateQueries({ queryKey });
      refreshSoon();
    };

    const source = new EventSource("/api/live");
    source.onopen = () => {
      setStatus("live");
      // Whatever committed between rendering this page (or losing the stream)
      // and now was not notified to us: catch up once.
      apply({ kind: "resync" });
    };
    source.onerror = () => {
      // The browser retries on its own unless the stream is CLOSED (e.g. an HTTP error).
      setStatus(source.readyState === EventSource.CLOSED ? "offline" : "connecting");
    };
    const onMessage = (event: MessageEvent<string>) => {
      const message = parseLiveMessage(event.data);
      if (message) apply(message);
    };
    source.addEventListener(LIVE_EVENT, onMessage);

    const onVisibilityChange = () => {
      if (!document.hidden && missedWhileHidden) {
        missedWhileHidden = false;
        refreshSoon();
      }
    };
    document.addEventListener("visibilitychange", onVisibilityChange);

    return () => {
      source.removeEventListener(LIVE_EVENT, onMessage);
      source.close();
      document.removeEventListener("visibilitychange", onVisibilityChange);
      if (refreshTimer) clearTimeout(refreshTimer);
    };
  }, [queryClient, router, live]);

  return <LiveStatusBadge status={status} />;
}

const labels: Record<LiveStatus, { text: string; title: string; dot: string }> = {
  live: { text: "Live updates", title: "Pages update as changes happen", dot: "bg-emerald-500" },
  connecting: { text: "Connecting…", title: "Connecting to live updates", dot: "bg-amber-400" },
  offline: { text: "Offline", title: "Live updates stopped: reload the page to see new changes", dot: "bg-zinc-400" },
};

function LiveStatusBadge({ status }: { status: LiveStatus }) {
  const { text, title, dot } = labels[status];
  return (
    <span
      data-live-status={status}
      title={title}
      className="inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium text-zinc-600 ring-1 ring-zinc-200 ring-inset"
    >
      <span aria-hidden="true" className={`size-2 rounded-full ${dot} ${status === "connecting" ? "animate-pulse" : ""}`} />
      <span>{text}</span>
      <span className="sr-only">: {title}</span>
    </span>
  );
}
