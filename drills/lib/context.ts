/** What the runner hands every drill. */
import type { KafkaCluster, Postgres } from "./infra";
import type { Rng } from "./util";

export interface DrillOptions {
  full: boolean;
  seed: number;
  /** Drill 1 */
  events: number;
  kills: number;
  /** Drill 2 / 3: seconds of load around the fault. */
  loadSeconds: number;
  /** Drill 4 */
  pgEvents: number;
  pgDownSeconds: number;
  /** Drill 5 */
  badInputs: number;
  badMessages: number;
  /** Drill 5 (c): malformed messages per mixed-size burst (one partition, then all), and 2 kB ones on one key. */
  burstMessages: number;
  burstSmall: number;
  /** Drill 6 */
  creates: number;
  edits: number;
  rounds: number;
}

export interface DrillEnv {
  postgres: Postgres;
  /** The shared single broker (started on first use). */
  kafka(): Promise<KafkaCluster>;
  rnd: Rng;
  opts: DrillOptions;
  /** Directory for this drill's logs. */
  dir: string;
}
