/**
 * startKafka lifecycle: port-in-use error, data surviving a SIGKILL + restart, graceful stop.
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Kafka, logLevel } from "kafkajs";
import { killKafka, startKafka, type KafkaHandle } from "./broker";
import { freePorts } from "../ports";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kafka-broker-"));
let broker: KafkaHandle | undefined;

afterAll(async () => {
  await broker?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe("startKafka", () => {
  it("fails clearly when the port is taken", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    const [free] = await freePorts(1);
    try {
      await expect(startKafka({ dataDir, port: taken, controllerPort: free! })).rejects.toThrow(
        new RegExp(`127\\.0\\.0\\.1:${taken} is already in use`),
      );
    } finally {
      blocker.close();
    }
  });

  it("keeps topics and records across a SIGKILL and a restart (new ports too)", async () => {
    const [port, controllerPort] = await freePorts(2);
    broker = await startKafka({ dataDir, port: port!, controllerPort: controllerPort! });
    const first = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const admin = first.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: "durable", numPartitions: 1 }] });
    const producer = first.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: "durable", acks: -1, messages: [{ value: "a" }, { value: "b" }] });
    await producer.disconnect();
    await admin.disconnect();

    await killKafka(broker);
    expect((await broker.exited).signal).toBe("SIGKILL");

    const [port2, controllerPort2] = await freePorts(2);
    broker = await startKafka({ dataDir, port: port2!, controllerPort: controllerPort2! });
    const admin2 = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin2.connect();
    try {
      expect(await admin2.listTopics()).toContain("durable");
      expect(await admin2.fetchTopicOffsets("durable")).toEqual([
        expect.objectContaining({ partition: 0, low: "0", high: "2" }),
      ]);
    } finally {
      await admin2.disconnect();
    }

    const pid = broker.pid;
    await broker.stop();
    broker = undefined;
    expect(() => process.kill(pid, 0)).toThrow(); // the JVM is gone
  }, 240_000); // two broker starts; each takes 5 s idle but 30 s+ on a loaded 2-core machine
});
