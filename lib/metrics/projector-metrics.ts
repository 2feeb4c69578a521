/** The projector's metrics (exported by its /metrics endpoint, lib/metrics/metrics-server.ts). */
import { Counter, Gauge, Histogram } from "prom-client";
import { metricSet } from "./registry";

export const projectorMetrics = () =>
  metricSet("projector", (registry) => ({
    eventsProjected: new Counter({
      name: "projector_events_projected_total",
      help: "Events applied to the read model, by topic and event type (redelivered and duplicate events not counted).",
      labelNames: ["topic", "type"] as const,
      registers: [registry],
    }),
    batchDuration: new Histogram({
      name: "projector_batch_duration_seconds",
      help: "Time to project one partition batch: waiting for its database transaction (shared by the small batches of one fetch), the transaction, and the Kafka offset commit.",
      labelNames: ["topic"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    partitionLag: new Gauge({
      name: "projector_partition_lag",
      help: "Messages behind the end of the partition after the last batch (high watermark − next offset), for the partitions this instance holds.",
      labelNames: ["topic", "partition"] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: "projector_dead_letters_total",
      help: "Messages this instance dead-lettered (recorded in dead_letters, copied to <topic>.dlq by the relay), by original topic.",
      labelNames: ["topic"] as const,
      registers: [registry],
    }),
    deadLetterRelayFailures: new Counter({
      name: "projector_dead_letter_relay_failures_total",
      help: "Dead letters whose copy to <topic>.dlq failed (each is retried with backoff), by original topic.",
      labelNames: ["topic"] as const,
      registers: [registry],
    }),
    consumerCrashes: new Counter({
      name: "projector_consumer_crashes_total",
      help: "Times this instance's Kafka consumer crashed (each is followed by a restart with backoff).",
      registers: [registry],
    }),
    batchFailures: new Counter({
      name: "projector_batch_failures_total",
      help: "Partition batches that failed and were rolled back (retried from the same position), by topic.",
      labelNames: ["topic"] as const,
      registers: [registry],
    }),
    assignedPartitions: new Gauge({
      name: "projector_assigned_partitions",
      help: "Partitions Kafka assigned to this instance, by topic.",
      labelNames: ["topic"] as const,
      registers: [registry],
    }),
  }));
