/**
 * Builders of the health page's facts for its unit tests (read/ and ui/): one instance row and
 * one partition failure, at a fixed `now`, with whatever a test overrides.
 */
import type { ProjectorInstanceView } from "./health";
import type { PartitionError } from "./stall";

export const fixtureNow = new Date("2026-11-30T12:00:00Z");
export const ago = (seconds: number) => new Date(fixtureNow.getTime() - seconds * 1000);

/** A live projector instance on host-a holding users 0–3. */
export const instanceView = (over: Partial<ProjectorInstanceView> = {}): ProjectorInstanceView => ({
  instanceId: "a",
  consumerGroup: "read-model",
  host: "host-a",
  pid: 42,
  metricsPort: null,
  startedAt: ago(3600),
  lastHeartbeatAt: ago(1),
  stoppedAt: null,
  isAlive: true,
  status: "alive",
  lastError: null,
  lastErrorAt: null,
  restarts: 0,
  assignment: { users: [0, 1, 2, 3] },
  ...over,
});

/** users/3 failing at offset 120 for 45 s, 7 attempts, the last 2 s ago. */
export const partitionError = (over: Partial<PartitionError> = {}): PartitionError => ({
  consumerGroup: "read-model",
  topic: "users",
  partition: 3,
  offset: 120n,
  error: "connect ECONNREFUSED 127.0.0.1:5432",
  attempts: 7,
  firstFailedAt: ago(45),
  lastFailedAt: ago(2),
  ...over,
});
