/** The webhooks worker's metrics (its /metrics endpoint, WEBHOOKS_METRICS_PORT). */
import { Counter, Gauge, Histogram } from "prom-client";
import { metricSet } from "@/lib/metrics/registry";

export const webhookMetrics = () =>
  metricSet("webhooks", (registry) => ({
    delivered: new Counter({
      name: "webhook_deliveries_total",
      help: "Webhook requests by subscription and outcome (delivered: a 2xx answer; failed: anything else, retried with backoff).",
      labelNames: ["subscription", "outcome"] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: "webhook_request_duration_seconds",
      help: "Time from sending a webhook request to its answer (or its failure), by subscription.",
      labelNames: ["subscription"] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    lag: new Gauge({
      name: "webhook_subscription_lag",
      help: "Events queued for a subscription and not yet delivered (read every few seconds).",
      labelNames: ["subscription"] as const,
      registers: [registry],
    }),
    fanOutLag: new Gauge({
      name: "webhook_dispatcher_partition_lag",
      help: "Messages the dispatcher has not yet queued (high watermark − next offset after each batch), for the partitions it holds.",
      labelNames: ["topic", "partition"] as const,
      registers: [registry],
    }),
  }));
