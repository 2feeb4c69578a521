/**
 * One webhook request: POST the body with its headers, bounded in time
 * (WEBHOOKS_TIMEOUT_MS for connect, send and response together) and in what is
 * read of the response (WEBHOOKS_RESPONSE_MAX_BYTES; the rest is dropped and
 * the socket closed). Redirects are not followed (a 3xx is a failure), so a
 * target cannot bounce a request to an address the guard refuses.
 */
import http from "node:http";
import https from "node:https";
import { guardedLookup, isLiteralIp, hostOf, refusedAddress, TargetRefusedError } from "./target-guard";

export interface PostOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  allowPrivate: boolean;
}

export interface PostResult {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  /** The start of the response body (for the delivery log). */
  excerpt: string | null;
}

const EXCERPT_CHARS = 300;

export async function post(url: string, headers: Record<string, string>, body: string, options: PostOptions): Promise<PostResult> {
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  const target = new URL(url);
  if (!options.allowPrivate && isLiteralIp(target)) {
    const why = refusedAddress(hostOf(target));
    if (why) return { ok: false, statusCode: null, latencyMs: took(), error: `refused: ${why}`, excerpt: null };
  }
  const client = target.protocol === "https:" ? https : http;
  return new Promise<PostResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<PostResult, "latencyMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, latencyMs: took() });
    };
    const request = client.request(
      target,
      {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "admin-console-webhooks/1", ...headers, "content-length": Buffer.byteLength(body) },
        ...(options.allowPrivate ? {} : { lookup: guardedLookup }),
        agent: false, // one connection per request: each one is checked by the guard
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          const status = response.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString("utf8");
          const excerpt = text ? text.slice(0, EXCERPT_CHARS) : null;
          const ok = status >= 200 && status < 300;
          finish({ ok, statusCode: status, error: ok ? null : `HTTP ${status}`, excerpt });
        };
        response.on("data", (chunk: Buffer) => {
          const room = options.maxResponseBytes - size;
          if (room > 0) chunks.push(chunk.subarray(0, room));
          size += chunk.length;
          if (size >= options.maxResponseBytes) {
            done(); // enough read: what follows is not ours to wait for
            response.destroy();
          }
        });
        response.on("end", done);
        response.on("error", (error) => finish({ ok: false, statusCode: response.statusCode ?? null, error: describe(error), excerpt: null }));
      },
    );
    const timer = setTimeout(() => {
      finish({ ok: false, statusCode: null, error: `timed out after ${options.timeoutMs} ms`, excerpt: null });
      request.destroy();
    }, options.timeoutMs);
    request.on("error", (error) => finish({ ok: false, statusCode: null, error: describe(error), excerpt: null }));
    request.end(body);
  });
}

function describe(error: Error): string {
  if (error instanceof TargetRefusedError) return `refused: ${error.message}`;
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
