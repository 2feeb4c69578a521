/**
 * The process's Prometheus registry (prom-client), with the default Node.js
 * process metrics. Kept on globalThis: Next's dev reloads re-evaluate modules,
 * and registering a metric twice in one registry throws.
 */
import { collectDefaultMetrics, Registry } from "prom-client";

const g = globalThis as typeof globalThis & { __adminConsoleMetrics?: Registry; __adminConsoleMetricSets?: Map<string, unknown> };

export function getRegistry(): Registry {
  if (!g.__adminConsoleMetrics) {
    g.__adminConsoleMetrics = new Registry();
    collectDefaultMetrics({ register: g.__adminConsoleMetrics });
  }
  return g.__adminConsoleMetrics;
}

/** Creates a set of metrics once per process (`name` identifies the set), registered in getRegistry(). */
export function metricSet<T>(name: string, create: (registry: Registry) => T): T {
  g.__adminConsoleMetricSets ??= new Map();
  if (!g.__adminConsoleMetricSets.has(name)) g.__adminConsoleMetricSets.set(name, create(getRegistry()));
  return g.__adminConsoleMetricSets.get(name) as T;
}

/** The exposition text and its content type, for an HTTP answer. */
export async function scrape(): Promise<{ body: string; contentType: string }> {
  const registry = getRegistry();
  return { body: await registry.metrics(), contentType: registry.contentType };
}
