import { describe, expect, it } from "vitest";
import { groupCommit } from "./group-commit";

/** A run that records its groups and waits for `release` before answering. */
function recorder(fail: (items: readonly number[]) => boolean = () => false) {
  const groups: number[][] = [];
  let running = 0;
  let most = 0;
  const waiting: (() => void)[] = [];
  return {
    groups,
    most: () => most,
    releaseAll: () => waiting.splice(0).forEach((go) => go()),
    run: async (items: readonly number[]) => {
      groups.push([...items]);
      running += 1;
      most = Math.max(most, running);
      await new Promise<void>((go) => waiting.push(go));
      running -= 1;
      if (fail(items)) throw new Error(`failed: ${items.join(",")}`);
      return items.map((i) => i * 10);
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

async function settle(r: ReturnType<typeof recorder>, rounds = 10) {
  for (let i = 0; i < rounds; i++) {
    await tick();
    r.releaseAll();
  }
}

describe("group commit", () => {
  it("runs the items handed in in one turn as one group, and each gets its own result", async () => {
    const r = recorder();
    const gc = groupCommit({ run: r.run, slots: 3, size: () => 1, maxSize: 100 });
    const results = Promise.all([1, 2, 3, 4].map((i) => gc.submit(i)));
    await settle(r);
    expect(await results).toEqual([10, 20, 30, 40]);
    expect(r.groups).toEqual([[1, 2, 3, 4]]);
  });

  it("caps a group's size, runs a bigger item alone, and runs at most `slots` groups at once", async () => {
    const r = recorder();
    const gc = groupCommit({ run: r.run, slots: 2, size: (i: number) => i, maxSize: 5 });
    const results = Promise.all([2, 3, 9, 1, 1, 4].map((i) => gc.submit(i)));
    await tick();
    expect(r.groups).toEqual([[2, 3], [9]]);
    await settle(r);
    expect(await results).toEqual([20, 30, 90, 10, 10, 40]);
    expect(r.groups).toEqual([[2, 3], [9], [1, 1], [4]]);
    expect(r.most()).toBe(2);
  });

  it("items handed in while the slots are busy wait, and then go together", async () => {
    const r = recorder();
    const gc = groupCommit({ run: r.run, slots: 1, size: () => 1, maxSize: 100 });
    const first = gc.submit(1);
    await tick();
    const later = Promise.all([gc.submit(2), gc.submit(3)]);
    await tick();
    await tick();
    const late = gc.submit(4);
    expect(r.groups).toEqual([[1]]);
    await settle(r);
    expect([await first, ...(await later), await late]).toEqual([10, 20, 30, 40]);
    expect(r.groups).toEqual([[1], [2, 3, 4]]);
  });

  it("runs a failed group again item by item: only the item that fails alone gets the error", async () => {
    const r = recorder((items) => items.includes(2));
    const splits: number[] = [];
    const gc = groupCommit({ run: r.run, slots: 3, size: () => 1, maxSize: 100, onSplit: (_, n) => splits.push(n) });
    const results = Promise.allSettled([1, 2, 3].map((i) => gc.submit(i)));
    await settle(r);
    const settled = await results;
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(settled[1]).toMatchObject({ reason: new Error("failed: 2") });
    expect(r.groups).toEqual([[1, 2, 3], [1], [2], [3]]);
    expect(splits).toEqual([3]);
  });

  it("refuses fewer than one slot", () => {
    expect(() => groupCommit({ run: async () => [], slots: 0, size: () => 1, maxSize: 1 })).toThrow(/slots must be at least 1/);
  });
});
