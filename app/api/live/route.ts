/**
 * Server-sent events: one `read-model` message per projector batch commit
 * (lib/live/live-message.ts), fed by the process's single LISTEN connection.
 * Comments every 15 s keep proxies and load balancers from closing an idle
 * stream; a closed tab unsubscribes at once.
 */
import { cookies } from "next/headers";
import { withUser } from "@/lib/auth/route";
import { principalFromSession, SESSION_COOKIE } from "@/lib/auth/sessions";
import { getDb } from "@/lib/db";
import { LIVE_EVENT, type LiveMessage } from "@/lib/live/live-message";
import { getReadModelListener } from "@/lib/live/read-model-listener";
import { app } from "@/modules";

export const runtime = "nodejs";

const HEARTBEAT_MS = 15_000;
/** How long a browser waits before reconnecting after the stream drops. */
const RETRY_MS = 2_000;

export const GET = withUser("users:read", async (request: Request) => {
  // The stream outlives the request's check: the session is checked again at every heartbeat.
  const secret = (await cookies()).get(SESSION_COOKIE)?.value;
  const encoder = new TextEncoder();
  let close = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      const send = (chunk: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(chunk));
        } catch {
          close(); // the consumer is gone
        }
      };
      const unsubscribe = getReadModelListener(app.streams).subscribe((message: LiveMessage) =>
        send(`event: ${LIVE_EVENT}\ndata: ${JSON.stringify(message)}\n\n`),
      );
      const heartbeat = setInterval(() => {
        principalFromSession(getDb(), secret)
          .then((principal) => (principal?.permissions.has("users:read") ? send(": heartbeat\n\n") : close()))
          .catch(() => send(": heartbeat\n\n"));
      }, HEARTBEAT_MS);
      close = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        unsubscribe();
        try {
          controller.close();
        } catch {
          // already closed or errored
        }
      };
      request.signal.addEventListener("abort", () => close(), { once: true });
      // The first bytes flush the headers, so the browser's EventSource opens now.
      send(`retry: ${RETRY_MS}\n: connected\n\n`);
    },
    cancel() {
      close();
    },
  });
  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      // no-transform: Next's gzip (and proxies) would otherwise buffer the stream.
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    },
  });
});
