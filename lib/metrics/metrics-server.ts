/**
 * A tiny HTTP server for the projector process: GET /metrics answers the
 * process's Prometheus metrics, anything else 404. Port 0 turns it off.
 */
import { createServer, type Server } from "node:http";
import type { Logger } from "@/lib/log";
import { scrape } from "./registry";

export async function startMetricsServer(port: number, logger: Logger, host = "0.0.0.0"): Promise<Server | null> {
  if (port === 0) return null;
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404).end("not found\n");
      return;
    }
    scrape().then(
      ({ body, contentType }) => res.writeHead(200, { "content-type": contentType }).end(body),
      (error: unknown) => {
        logger.error({ err: error }, "metrics scrape failed");
        res.writeHead(500).end("scrape failed\n");
      },
    );
  });
  return new Promise((resolve) => {
    // A port clash must not stop projection: the read model matters more than its metrics.
    server.once("error", (error) => {
      logger.error({ err: error, port }, "metrics endpoint not started");
      resolve(null);
    });
    server.listen(port, host, () => {
      logger.info({ port }, "metrics endpoint listening");
      resolve(server);
    });
  });
}
