/** Small helpers shared by the drills: seeded randomness, timing, output, results. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** mulberry32: a seeded PRNG, so a failing run can be replayed with `--seed`. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}
export type Rng = ReturnType<typeof rng>;

const started = Date.now();
export function say(line: string) {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[${t}s] ${line}\n`);
}

/** One check of a drill: what was compared, and whether it held. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DrillReport {
  /** Key counts printed in the summary table. */
  counts: Record<string, number | string>;
  checks: Check[];
  /** Observations that do not fail the drill (documented windows, timings). */
  notes: string[];
}

export class Report implements DrillReport {
  counts: Record<string, number | string> = {};
  checks: Check[] = [];
  notes: string[] = [];
  count(name: string, value: number | string) {
    this.counts[name] = value;
    say(`  ${name}: ${value}`);
  }
  check(name: string, ok: boolean, detail = "") {
    this.checks.push({ name, ok, detail });
    say(`  ${ok ? "PASS" : "FAIL"} ${name}${detail ? ` — ${detail}` : ""}`);
  }
  note(text: string) {
    this.notes.push(text);
    say(`  note: ${text}`);
  }
  get ok() {
    return this.checks.length > 0 && this.checks.every((c) => c.ok);
  }
}

/** Rejects after `ms` with a message naming `what`. */
export async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export const errorCode = (error: unknown): string =>
  error && typeof error === "object" && "code" in error && typeof (error as { code: unknown }).code === "string"
    ? (error as { code: string }).code
    : error instanceof Error
      ? `${error.name}`
      : "non-error";
