import { DatabaseError } from "pg";
import { describe, expect, it } from "vitest";
import { describeFailure } from "./partition-errors";

describe("describeFailure", () => {
  it("gives PostgreSQL's code and message out of Prisma's invocation text", () => {
    const prisma = Object.assign(
      new Error("\nInvalid `prisma.$executeRaw()` invocation:\n\n\nRaw query failed. Code: `55P03`. Message: `canceling statement due to lock timeout`"),
      { name: "PrismaClientKnownRequestError" },
    );
    expect(describeFailure(prisma)).toBe("PostgreSQL 55P03: canceling statement due to lock timeout");
  });
  it("gives PostgreSQL's code and message from node-postgres (the projector's batches: lib/sql-tx.ts)", () => {
    const error = Object.assign(new DatabaseError("canceling statement due to lock timeout", 0, "error"), { code: "55P03" });
    expect(describeFailure(error)).toBe("PostgreSQL 55P03: canceling statement due to lock timeout");
  });
  it("keeps any other error on one line, with its name", () => {
    expect(describeFailure(new TypeError("bad\n  thing"))).toBe("TypeError: bad thing");
    expect(describeFailure("plain")).toBe("plain");
  });
});
