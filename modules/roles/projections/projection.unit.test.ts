import { describe, expect, it } from "vitest";
import { event } from "@/test/fixtures";
import type { RoleState } from "../domain/role-state";
import { projectRoleEvent } from "./role-projection";

const roleId = "00000000-0000-4000-8000-0000000000aa";
const at = (offset: number) => ({ topic: "roles", partition: 3, offset: String(offset) });

describe("role projection", () => {
  it("projects all three role events", () => {
    const states = new Map<string, RoleState | null>();
    const rows = [
      event("RoleCreated", roleId, 1, { name: "support", description: "" }),
      event("RoleUpdated", roleId, 2, { description: "Answers tickets" }),
      event("RoleDeleted", roleId, 3, {}),
    ].map((e, i) => projectRoleEvent(states, e, at(i)));
    expect(states.get(roleId)).toMatchObject({ name: "support", description: "Answers tickets", isDeleted: true, version: 3 });
    expect(rows[1]!.changes).toEqual({ description: { before: "", after: "Answers tickets" } });
  });
});
