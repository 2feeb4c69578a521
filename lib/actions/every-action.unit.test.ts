/**
 * One way to write a server action: every export of every "use server" file
 * is made by defineAction (so it checks access first, validates its input,
 * counts into the metrics and maps errors the same way as the others).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BUILT_BY } from "./safe-action";

const ROOT = path.join(import.meta.dirname, "..", "..");

function serverActionFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return ["node_modules", ".next", ".data", "generated"].includes(entry.name) ? [] : serverActionFiles(full);
    if (!/\.tsx?$/.test(entry.name) || /\.test\.tsx?$/.test(entry.name)) return [];
    return /^\s*["']use server["']/.test(readFileSync(full, "utf8")) ? [full] : [];
  });
}

describe("server actions", () => {
  const files = ["app", "modules", "lib"].flatMap((dir) => serverActionFiles(path.join(ROOT, dir)));

  it("are found", () => expect(files.length).toBeGreaterThan(10));

  it.each(files.map((f) => [path.relative(ROOT, f)]))("%s exports only actions made by defineAction", async (file) => {
    const exports = (await import(path.join(ROOT, file))) as Record<string, unknown>;
    expect(Object.keys(exports).length).toBeGreaterThan(0);
    for (const [name, value] of Object.entries(exports)) {
      expect(typeof value, name).toBe("function");
      expect((value as { [BUILT_BY]?: string })[BUILT_BY], `${name} is not made by defineAction`).toEqual(expect.any(String));
    }
  });
});
