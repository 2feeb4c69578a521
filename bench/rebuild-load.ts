/**
 * `--rebuild-load`'s commands, in a process of their own (spawned by bench/run.ts): createUser at
 * REBUILD_LOAD_RATE per second through the console's own command path (sealing appender, keys in
 * the database at DATABASE_URL) until stdin closes, then one JSON line on stdout with what each
 * command saw (`LoadDuringRebuild`). Apart from the rebuild's process, as the console is apart
 * from the projector worker that runs a rebuild: in one process the rebuild's CPU-bound fold
 * would stall the commands, and the commands the replay.
 */
import { kafkaConfig } from "@/lib/config";
import { keyWrapperFromEnv } from "@/lib/crypto/key-wrapper";
import { createDb } from "@/lib/db";
import { createEventAppender } from "@/lib/kafka/producer";
import { createPersonalDataKeys } from "@/lib/privacy/key-store";
import { createUser } from "@/modules/users/application/user-commands";
import { visibilityWatcher } from "./measure";
import { commandsDuring } from "./rebuild-run";

const url = process.env.DATABASE_URL;
const rate = Number(process.env.REBUILD_LOAD_RATE);
if (!url || !(rate > 0)) throw new Error("DATABASE_URL and REBUILD_LOAD_RATE (> 0) are required");

const db = createDb(url);
const keyWriter = createDb(url, { poolSize: 4 });
const appender = createEventAppender(kafkaConfig(process.env), { personalData: createPersonalDataKeys(db, keyWrapperFromEnv(), { writer: keyWriter }) });
const watcher = await visibilityWatcher(url);
const until = new Promise<void>((resolve) => {
  process.stdin.on("end", resolve).on("close", resolve).resume();
});
// Warm up before the rebuild starts: the producer's connection and metadata, the pools' connections
// and the compiled command path. Without this the first second of commands waited on them, and
// took p99 to about 1 s at 20-50/s whatever the rebuild did (seen 12-02: the slow acks were the
// first 20 commands of the run, each later one faster).
const ctx = { actor: { kind: "service", name: "bench" } as const };
for (let i = 0; i < 20; i++) {
  await createUser({ db, appender }, ctx, { email: `rebuild.${process.env.REBUILD_LOAD_LABEL ?? "load"}.warmup.${i}@bench.example.com`, name: `Warm-up ${i}` });
}
process.stdout.write("started\n");
const load = await commandsDuring({ deps: { db, appender }, watcher, rate, label: process.env.REBUILD_LOAD_LABEL ?? "load", until });
process.stdout.write(`${JSON.stringify(load)}\n`);
await watcher.close();
await appender.disconnect();
await db.$disconnect();
await keyWriter.$disconnect();
process.exit(0);
