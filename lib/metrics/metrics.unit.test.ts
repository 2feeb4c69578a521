import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "@/infra/ports";
import { silentLogger } from "@/lib/log";
import { recordCommand } from "./console-metrics";
import { startMetricsServer } from "./metrics-server";
import { projectorMetrics } from "./projector-metrics";
import { metricSet, scrape } from "./registry";

describe("metrics", () => {
  it("recordCommand counts and times commands by type and outcome", async () => {
    recordCommand("CreateUser", "ok", 0.02);
    recordCommand("CreateUser", "ok", 0.03);
    recordCommand("CreateUser", "conflict", 0.01);
    const { body } = await scrape();
    expect(body).toContain('console_commands_total{command="CreateUser",outcome="ok"} 2');
    expect(body).toContain('console_commands_total{command="CreateUser",outcome="conflict"} 1');
    expect(body).toContain('console_command_duration_seconds_count{command="CreateUser",outcome="ok"} 2');
    expect(body).toMatch(/process_cpu_user_seconds_total \d/); // the default process metrics
  });

  it("creates each set once per process, however often it is asked for (Next dev reloads)", () => {
    expect(projectorMetrics()).toBe(projectorMetrics());
    expect(metricSet("projector", () => ({}))).toBe(projectorMetrics());
  });

  describe("the projector's endpoint", () => {
    const servers: Array<{ close(): void }> = [];
    afterAll(() => servers.forEach((s) => s.close()));

    it("serves /metrics and nothing else; port 0 means off", async () => {
      projectorMetrics().eventsProjected.inc({ topic: "users", type: "UserCreated" }, 3);
      const port = await freePort();
      const server = await startMetricsServer(port, silentLogger, "127.0.0.1");
      servers.push(server!);
      const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get("content-type")).toContain("text/plain");
      expect(await ok.text()).toContain('projector_events_projected_total{topic="users",type="UserCreated"} 3');
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
      expect(await startMetricsServer(0, silentLogger)).toBeNull();
    });

    it("does not stop the process when its port is taken", async () => {
      const port = await freePort();
      const first = await startMetricsServer(port, silentLogger, "127.0.0.1");
      servers.push(first!);
      expect(await startMetricsServer(port, silentLogger, "127.0.0.1")).toBeNull();
    });
  });
});
