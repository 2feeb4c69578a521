import { beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { DomainError, forbidden, unauthenticated } from "@/lib/errors";
import { scrape } from "@/lib/metrics/registry";

// Next's request-scoped pieces, replaced: the builder is tested on its own.
const guard = vi.hoisted(() => ({ requireUser: vi.fn() }));
const next = vi.hoisted(() => ({
  revalidatePath: vi.fn(),
  redirect: vi.fn((to: string) => {
    throw Object.assign(new Error("NEXT_REDIRECT"), { to });
  }),
}));
const log = vi.hoisted(() => ({ unexpected: vi.fn((_msg: string, _error: unknown, _context?: object) => "error-id-1") }));
vi.mock("@/lib/auth/guard", () => guard);
vi.mock("next/cache", () => ({ revalidatePath: next.revalidatePath }));
vi.mock("next/navigation", () => ({
  redirect: next.redirect,
  unstable_rethrow: (error: unknown) => {
    if (error instanceof Error && error.message === "NEXT_REDIRECT") throw error;
  },
}));
vi.mock("@/lib/log", () => ({ logUnexpected: log.unexpected }));

const { defineAction } = await import("./safe-action");

const admin = { kind: "user", userId: "u1", email: "ada@example.com", name: "Ada", permissions: new Set(["users:write"]), sessionHash: "h" };
const form = (fields: Record<string, string | string[]>) => {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) data.append(k, one);
  return data;
};
const count = async (command: string, outcome: string) =>
  Number((await scrape()).body.match(new RegExp(`console_commands_total\\{command="${command}",outcome="${outcome}"\\} (\\d+)`))?.[1] ?? 0);

beforeEach(() => {
  vi.clearAllMocks();
  guard.requireUser.mockResolvedValue(admin);
});

const renameInput = z.object({ id: z.string().regex(/^\d+$/, "Not an id."), name: z.string().trim().min(1, "Name is required.") });
type Renamed = { id: string; name: string; by: string };

const rename = (
  overrides: {
    run?: (input: z.output<typeof renameInput>) => Promise<Renamed>;
    invalidInput?: string;
    revalidateOnRefusal?: readonly string[];
  } = {},
) =>
  defineAction({
    name: "Rename",
    access: "users:write",
    input: renameInput,
    keep: ["name"],
    run: async ({ id, name }, { user }) => ({ id, name, by: user.email }),
    revalidate: (value: Renamed) => ["/things", ["/things/[id]", "page"] as const, `/things/${value.id}`],
    ...overrides,
  });

describe("defineAction", () => {
  it("checks access before reading any input: an anonymous or forbidden call runs nothing and says why", async () => {
    const run = vi.fn(async () => ({ id: "", name: "", by: "" }));
    const action = rename({ run });
    guard.requireUser.mockRejectedValueOnce(unauthenticated());
    expect(await action(null)).toEqual({ ok: false, code: "unauthenticated", message: "Sign in to continue." });
    guard.requireUser.mockRejectedValueOnce(forbidden("users:write"));
    const refused = await action(null, form({ id: "1", name: "x" }));
    expect(refused).toMatchObject({ ok: false, code: "forbidden" });
    expect(refused).not.toHaveProperty("values");
    expect(run).not.toHaveBeenCalled();
    expect(guard.requireUser).toHaveBeenCalledWith("users:write");
  });

  it("public actions ask for no session", async () => {
    const action = defineAction({ name: "Hello", access: "public", run: async (_input, { user }) => ({ user }) });
    expect(await action(null)).toEqual({ ok: true, user: null });
    expect(guard.requireUser).not.toHaveBeenCalled();
  });

  it("validates the input with the schema: field errors and the kept fields go back to the form", async () => {
    const result = await rename()(null, form({ id: "x", name: "  ", password: "secret-secret" }));
    expect(result).toEqual({
      ok: false,
      code: "validation",
      message: "Some fields are not valid (id: Not an id.; name: Name is required.).",
      fieldErrors: { id: ["Not an id."], name: ["Name is required."] },
      values: { name: "  " },
    });
    const hidden = await rename({ invalidInput: "That is not a thing this console knows." })(null, form({ id: "1x", name: "ok" }));
    expect(hidden).toMatchObject({ code: "validation", message: "That is not a thing this console knows.", fieldErrors: { id: ["Not an id."] } });
  });

  it("answers the handler's value on success, after revalidating; counts the command", async () => {
    const before = await count("Rename", "ok");
    const result = await rename()(null, form({ id: "7", name: " Ada ", $ACTION_ID_x: "" }));
    expect(result).toEqual({ ok: true, id: "7", name: "Ada", by: "ada@example.com" });
    expect(next.revalidatePath.mock.calls).toEqual([["/things"], ["/things/[id]", "page"], ["/things/7"]]);
    expect(await count("Rename", "ok")).toBe(before + 1);
  });

  it("a plain <form action> call passes the FormData first", async () => {
    const action = rename();
    await expect((action as (formData: FormData) => Promise<unknown>)(form({ id: "8", name: "B" }))).resolves.toMatchObject({ ok: true, id: "8" });
  });

  it("settles outside the timing, then redirects instead of answering", async () => {
    const settle = vi.fn(async (out: { id: string }) => ({ ...out, projected: true }));
    const action = defineAction({
      name: "Make",
      access: "users:write",
      input: z.object({ id: z.string() }),
      run: async ({ id }) => ({ id }),
      settle,
      revalidate: ["/things"],
      redirect: (value, input) => `/things/${value.id}?from=${input.id}&projected=${value.projected}`,
    });
    await expect(action(null, form({ id: "9" }))).rejects.toMatchObject({ to: "/things/9?from=9&projected=true" });
    expect(settle).toHaveBeenCalledOnce();
    expect(next.revalidatePath).toHaveBeenCalledWith("/things");
  });

  it("a domain error carries its code, message and field errors; the refusal can refresh stale pages", async () => {
    const before = await count("Rename", "conflict");
    const action = rename({
      run: async () => {
        throw new DomainError("conflict", "Changed by someone else.", { name: ["Taken."] });
      },
      revalidateOnRefusal: ["/things"],
    });
    expect(await action(null, form({ id: "1", name: "A" }))).toEqual({
      ok: false,
      code: "conflict",
      message: "Changed by someone else.",
      fieldErrors: { name: ["Taken."] },
      values: { name: "A" },
    });
    expect(next.revalidatePath.mock.calls).toEqual([["/things"]]);
    expect(await count("Rename", "conflict")).toBe(before + 1);
    expect(log.unexpected).not.toHaveBeenCalled();
  });

  it("anything else is logged once with an error id and shown generically", async () => {
    const action = rename({
      run: async () => {
        throw new Error("connection refused: postgres://admin:hunter2@db");
      },
    });
    const result = await action(null, form({ id: "1", name: "A" }));
    expect(result).toEqual({
      ok: false,
      code: "unexpected",
      message: "Something went wrong and nothing may have been saved. Please try again (error id error-id-1).",
      errorId: "error-id-1",
      values: { name: "A" },
    });
    expect(log.unexpected).toHaveBeenCalledOnce();
    expect(log.unexpected).toHaveBeenCalledWith("server action failed", expect.objectContaining({ message: expect.stringContaining("hunter2") }), { action: "Rename" });
    expect(next.revalidatePath).not.toHaveBeenCalled();
  });
});
