/**
 * Local Apache Kafka (KRaft, one combined broker+controller node) for development and tests.
 *
 * Jars come from Maven Central through infra/kafka/pom.xml into .data/kafka/libs-<version>
 * (resolved only when missing; ~/.m2 caches them). Needs `java` (17+) and `mvn` on PATH.
 * See infra/kafka/README.md for the version choice.
 */
import { spawn, execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { assertPortFree } from "../ports";
import { stopWithThisProcess } from "../exit-hook";

/** Keep in sync with <kafka.version> in infra/kafka/pom.xml. */
export const KAFKA_VERSION = "4.4.0";

const HOST = "127.0.0.1";
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, "..", "..");
const POM = path.join(HERE, "pom.xml");

export interface StartKafkaOptions {
  /** Broker state lives here: server.properties, kraft-logs/ (topic data), logs/ (broker log). */
  dataDir: string;
  /** PLAINTEXT listener for clients, on 127.0.0.1. */
  port: number;
  /** KRaft controller listener, on 127.0.0.1. */
  controllerPort: number;
  /** Receives every broker log line (and a few lines from this launcher). */
  log?: (line: string) => void;
  /** Where the jars go; default `<repo>/.data/kafka/libs-<KAFKA_VERSION>`. */
  libsDir?: string;
  /** Max time from spawn to a successful admin round trip; default 90 s. */
  readyTimeoutMs?: number;
  /** JVM heap flags; default `-Xms256m -Xmx512m`. */
  heapOpts?: string[];
  /**
   * Default true: C1 JIT only (-XX:TieredStopAtLevel=1). On this 2-core machine that halves the
   * CPU a start costs (~12 s -> ~6 s) and the time to ready; the price is lower peak throughput,
   * so pass false when benchmarking the broker itself.
   */
  fastStartup?: boolean;
  /**
   * Multi-node KRaft cluster (e.g. the fault drills): this node's `node.id`; default 1.
   * Every node of a cluster runs broker+controller.
   */
  nodeId?: number;
  /**
   * `controller.quorum.voters` of the cluster, e.g. `1@127.0.0.1:9093,2@127.0.0.1:9095,...`;
   * default: this node alone (`<nodeId>@127.0.0.1:<controllerPort>`).
   */
  controllerQuorumVoters?: string;
  /** Cluster id used to format fresh storage; the nodes of one cluster must share it. Default: random. */
  clusterId?: string;
  /**
   * server.properties entries added to, or replacing, the generated ones (e.g.
   * `offsets.topic.replication.factor: "3"`, `min.insync.replicas: "2"` for a 3-node cluster).
   */
  properties?: Record<string, string>;
}

export interface KafkaHandle {
  brokers: string[];
  pid: number;
  /** The broker's own log (log4j output plus JVM stdout/stderr). */
  logFile: string;
  /** SIGTERM (controlled shutdown), SIGKILL if still alive after `graceMs` (default 10 s). */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL right away (crash simulation); resolves when the process is gone. */
  kill(): Promise<void>;
  /** Resolves when the JVM exits, whatever the reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function defaultLibsDir(version = KAFKA_VERSION): string {
  return path.join(REPO_ROOT, ".data", "kafka", `libs-${version}`);
}

/** `mvn dependency:copy-dependencies` into libsDir unless kafka_2.13-<version>.jar is already there. */
export async function resolveKafkaJars(
  libsDir = defaultLibsDir(),
  log: (line: string) => void = () => {},
): Promise<string> {
  const marker = path.join(libsDir, `kafka_2.13-${KAFKA_VERSION}.jar`);
  if (fs.existsSync(marker)) return libsDir;
  const tmpDir = `${libsDir}.partial-${process.pid}`;
  fs.rmSync(tmpDir, { recursive: true, force: true });
  const args = ["-q", "-B", "-Dstyle.color=never", "-f", POM, "dependency:copy-dependencies", `-DoutputDirectory=${tmpDir}`];
  log(`[kafka] resolving jars: mvn ${args.join(" ")}`);
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    execFile("mvn", args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const hint = code === "ENOENT" ? " (is Maven installed? apt-get install maven)" : "";
        reject(new Error(`[kafka] mvn failed${hint}: ${err.message}\n${stdout}\n${stderr}`.trim()));
      } else resolve();
    });
  });
  if (!fs.existsSync(path.join(tmpDir, `kafka_2.13-${KAFKA_VERSION}.jar`))) {
    throw new Error(`[kafka] mvn finished but ${tmpDir} has no kafka_2.13-${KAFKA_VERSION}.jar`);
  }
  // Publish atomically: a half-copied dir never looks complete. Another process may have won
  // the race meanwhile (and may be running a JVM off it): then keep theirs, drop ours.
  if (fs.existsSync(marker)) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    return libsDir;
  }
  fs.rmSync(libsDir, { recursive: true, force: true }); // a leftover without the marker jar
  try {
    fs.renameSync(tmpDir, libsDir);
  } catch (err) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    if (!fs.existsSync(marker)) throw err;
  }
  log(`[kafka] jars resolved in ${Date.now() - started} ms`);
  return libsDir;
}

/** Like `kafka-storage random-uuid`: 16 random bytes, base64url; never starting with "-" (argparse). */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

function serverProperties(o: {
  port: number;
  controllerPort: number;
  logDirs: string;
  nodeId?: number;
  controllerQuorumVoters?: string;
  properties?: Record<string, string>;
}): string {
  const nodeId = o.nodeId ?? 1;
  const lines = [
    "# Generated by infra/kafka/broker.ts on every start; edits are overwritten.",
    "process.roles=broker,controller",
    `node.id=${nodeId}`,
    `controller.quorum.voters=${o.controllerQuorumVoters ?? `${nodeId}@${HOST}:${o.controllerPort}`}`,
    `listeners=PLAINTEXT://${HOST}:${o.port},CONTROLLER://${HOST}:${o.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${o.port}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    `log.dirs=${o.logDirs}`,
    "auto.create.topics.enable=false",
    "delete.topic.enable=true",
    "num.partitions=1",
    "default.replication.factor=1",
    "min.insync.replicas=1",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=10",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "transaction.state.log.num.partitions=10",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    // After a SIGKILL the restarted node must wait for its previous incarnation's session to
    // expire before it can register again (default 9 s); keep that short for restart tests.
    "broker.heartbeat.interval.ms=500",
    "broker.session.timeout.ms=3000",
    "num.network.threads=2",
    "num.io.threads=4",
  ];
  const overrides = o.properties ?? {};
  const kept = lines.filter((line) => {
    const eq = line.indexOf("=");
    return line.startsWith("#") || eq < 0 || !(line.slice(0, eq) in overrides);
  });
  return [...kept, ...Object.entries(overrides).map(([k, v]) => `${k}=${v}`), ""].join("\n");
}

function log4j2Properties(): string {
  // Everything to stdout; the launcher appends it to logs/server.log and forwards it to opts.log.
  return [
    "status = warn",
    "appender.out.type = Console",
    "appender.out.name = STDOUT",
    "appender.out.layout.type = PatternLayout",
    "appender.out.layout.pattern = [%d] %p %m (%c)%n",
    "rootLogger.level = INFO",
    "rootLogger.appenderRef.out.ref = STDOUT",
    "logger.kafka.name = kafka",
    "logger.kafka.level = INFO",
    "logger.state.name = state.change.logger",
    "logger.state.level = WARN",
    "logger.request.name = kafka.request.logger",
    "logger.request.level = WARN",
    "",
  ].join("\n");
}

function runJava(args: string[], log: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("java", args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const out = `${stdout}${stderr}`;
      for (const line of out.split("\n")) if (line.trim()) log(line);
      if (err) reject(new Error(`java ${args.slice(-6).join(" ")} failed: ${err.message}\n${out}`));
      else resolve(out);
    });
  });
}

export async function startKafka(opts: StartKafkaOptions): Promise<KafkaHandle> {
  const log = opts.log ?? (() => {});
  const dataDir = path.resolve(opts.dataDir);
  const logDirs = path.join(dataDir, "kraft-logs");
  const logsDir = path.join(dataDir, "logs");
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;

  const pidFile = path.join(dataDir, "broker.pid");
  await stopLeftover(pidFile, path.join(dataDir, "server.properties"), log);
  await assertPortFree(opts.port, "startKafka (client port)");
  await assertPortFree(opts.controllerPort, "startKafka (controller port)");
  if (opts.port === opts.controllerPort) throw new Error("startKafka: port and controllerPort must differ");

  const libsDir = await resolveKafkaJars(opts.libsDir ?? defaultLibsDir(), log);
  const classpath = `${libsDir}${path.sep}*`;

  fs.mkdirSync(logDirs, { recursive: true });
  fs.mkdirSync(logsDir, { recursive: true });
  const propsFile = path.join(dataDir, "server.properties");
  const log4jFile = path.join(dataDir, "log4j2.properties");
  fs.writeFileSync(
    propsFile,
    serverProperties({
      port: opts.port,
      controllerPort: opts.controllerPort,
      logDirs,
      nodeId: opts.nodeId,
      controllerQuorumVoters: opts.controllerQuorumVoters,
      properties: opts.properties,
    }),
  );
  fs.writeFileSync(log4jFile, log4j2Properties());

  const toolJvm = ["-Xmx256m", "-XX:TieredStopAtLevel=1", `-Dlog4j2.configurationFile=${log4jFile}`, "-cp", classpath];

  // First run only: format the KRaft storage. meta.properties marks formatted storage.
  if (!fs.existsSync(path.join(logDirs, "meta.properties"))) {
    const clusterId = opts.clusterId ?? newClusterId();
    log(`[kafka] formatting storage in ${logDirs} (cluster id ${clusterId})`);
    // Static quorum (controller.quorum.voters) => no --standalone / --initial-controllers needed.
    await runJava([...toolJvm, "kafka.tools.StorageTool", "format", `--cluster-id=${clusterId}`, "--config", propsFile], log);
  }

  const logFile = path.join(logsDir, "server.log");
  const logStream = fs.createWriteStream(logFile, { flags: "a" });
  const tail: string[] = [];
  const remember = (line: string) => {
    tail.push(line);
    if (tail.length > 80) tail.shift();
    if (!logStream.writableEnded) logStream.write(`${line}\n`);
    log(line);
  };
  remember(`[kafka] ---- starting Kafka ${KAFKA_VERSION} on ${HOST}:${opts.port} (controller ${opts.controllerPort}) at ${new Date().toISOString()}`);

  const jvmArgs = [
    ...(opts.heapOpts ?? ["-Xms256m", "-Xmx512m"]),
    ...(opts.fastStartup === false ? [] : ["-XX:TieredStopAtLevel=1"]),
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${log4jFile}`,
    `-Dkafka.logs.dir=${logsDir}`,
    "-cp",
    classpath,
    "kafka.Kafka",
    propsFile,
  ];
  // Detached (a process group of its own): a terminal's Ctrl-C reaches the program that started
  // the broker, which stops it after the clients that use it, not before.
  const child = spawn("java", jvmArgs, { stdio: ["ignore", "pipe", "pipe"], cwd: dataDir, detached: true });
  stopWithThisProcess(child, "SIGKILL");
  if (child.pid !== undefined) fs.writeFileSync(pidFile, `${child.pid}\n`);

  // 'close' comes after the process exited and its stdout/stderr ended; 'error' alone when the
  // spawn itself failed (no java on PATH), in which case no 'close' follows.
  let spawnFailed = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("close", (code, signal) => {
      resolve({ code, signal });
    });
    child.once("error", () => {
      if (child.pid !== undefined) return; // a kill() error on a live process, not a spawn failure
      spawnFailed = true;
      resolve({ code: null, signal: null });
    });
  });
  const spawnError = new Promise<never>((_, reject) =>
    child.once("error", (err) => {
      const hint = (err as NodeJS.ErrnoException).code === "ENOENT" ? " (is a Java 17+ runtime on PATH?)" : "";
      reject(new Error(`could not run java${hint}: ${err.message}`));
    }),
  );
  spawnError.catch(() => {}); // observed below

  for (const stream of [child.stdout, child.stderr]) {
    let buf = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        remember(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    stream.on("end", () => {
      if (buf) remember(buf);
      buf = "";
    });
  }
  void exited.then(({ code, signal }) => {
    remember(spawnFailed ? "[kafka] ---- java could not be started" : `[kafka] ---- JVM exited (code ${code}, signal ${signal})`);
    logStream.end();
  });

  const brokers = [`${HOST}:${opts.port}`];
  const handle: KafkaHandle = {
    brokers,
    pid: child.pid ?? -1,
    logFile,
    exited,
    async stop(graceMs = 10_000) {
      if (spawnFailed || child.exitCode !== null || child.signalCode !== null) return void (await exited);
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (spawnFailed || child.exitCode !== null || child.signalCode !== null) return void (await exited);
      child.kill("SIGKILL");
      await exited;
    },
  };

  const started = Date.now();
  const exitedEarly = exited.then(({ code, signal }): never => {
    throw new Error(`the JVM exited during startup (code ${code}, signal ${signal})`);
  });
  exitedEarly.catch(() => {}); // only meaningful inside the race below
  try {
    await Promise.race([waitUntilReady(brokers, readyTimeoutMs), spawnError, exitedEarly]);
  } catch (err) {
    await handle.kill();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `startKafka: broker on ${brokers[0]} not ready: ${reason.split("\n")[0]} (its log: ${logFile})\n` +
        `--- last lines of ${logFile} ---\n${tail.slice(-40).join("\n")}`,
    );
  }
  log(`[kafka] ready on ${brokers[0]} in ${Date.now() - started} ms (pid ${handle.pid})`);
  return handle;
}

/**
 * A broker of an earlier run on this data directory, left running because the program that
 * started it was SIGKILLed (it runs detached): stop it, so the ports and the data are free.
 */
async function stopLeftover(pidFile: string, propsFile: string, log: (line: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, "utf8").trim());
  } catch {
    return;
  }
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return; // gone (or no /proc)
  }
  if (!cmdline.includes("kafka.Kafka") || !cmdline.includes(propsFile)) return;
  log(`[kafka] stopping a broker left running on ${path.dirname(pidFile)} (pid ${pid})`);
  for (const [signal, waitMs] of [["SIGTERM", 8_000], ["SIGKILL", 2_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    for (const deadline = Date.now() + waitMs; Date.now() < deadline; ) {
      if (!fs.existsSync(`/proc/${pid}`)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** SIGKILL a broker started by startKafka (e.g. to test recovery), resolving once it is gone. */
export function killKafka(handle: KafkaHandle): Promise<void> {
  return handle.kill();
}

/** Real readiness: an admin client can describe the cluster, list topics and reach the group coordinator. */
async function waitUntilReady(brokers: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = new Error("no attempt made");
  while (Date.now() < deadline) {
    const kafka = new Kafka({
      clientId: "infra-readiness",
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      requestTimeout: 5_000,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length < 1) {
        throw new Error(`cluster not formed yet: ${JSON.stringify(cluster)}`);
      }
      await admin.listTopics();
      // Consumer groups ready too: the first FindCoordinator creates __consumer_offsets, and its
      // partitions then load; until then clients get "coordinator not available / loading"
      // (kafkajs retries, but logs a consumer crash). Absorb that here, once, at start.
      await admin.fetchOffsets({ groupId: "infra-readiness", topics: [] });
      return;
    } catch (err) {
      lastError = err;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const msg = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(`timed out after ${timeoutMs} ms (last error: ${msg})`);
}
