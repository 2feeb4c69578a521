"use client";
import { useState } from "react";
import { FormStatus, SubmitButton, fieldError } from "@/lib/ui/form-controls";
import { inputClass } from "@/lib/ui/styles";
import { RefreshWhilePending } from "@/lib/ui/refresh-while-pending";
import { useCommandForm } from "@/lib/ui/use-command-form";
import { assignRoleAction } from "@/modules/users/actions/assign-role";
import { userKeys } from "./user-query-keys";

/**
 * Assigns one of the roles the user does not have yet. A filterable select:
 * typing in "Filter roles" narrows the options and picks the first match, so
 * a long list of roles is searchable by keyboard while the control stays a
 * native select (labelled "Role to assign").
 */
export function AssignRoleForm({
  userId,
  version,
  roles,
}: {
  userId: string;
  version: number;
  /** Live roles the user does not have yet. */
  roles: { id: string; name: string }[];
}) {
  const [state, formAction] = useCommandForm(assignRoleAction, (r) => [
    userKeys.detail(r.aggregateId),
  ]);
  const [filter, setFilter] = useState("");
  const [chosen, setChosen] = useState("");
  const error = fieldError(state, "roleId");
  if (roles.length === 0) {
    return <p className="text-sm text-zinc-500">No other roles to assign.</p>;
  }
  const needle = filter.trim().toLowerCase();
  const visible = needle ? roles.filter((r) => r.name.toLowerCase().includes(needle)) : roles;
  // Keep the admin's choice while it is visible; with a filter typed, default to the first match.
  const value = visible.some((r) => r.id === chosen) ? chosen : needle ? (visible[0]?.id ?? "") : "";
  return (
    <form action={formAction} className="space-y-2">
      <input type="hidden" name="userId" value={userId} />
      <div className="grid gap-3">
        <div className="space-y-1.5">
          <label htmlFor="assign-role-filter" className="block text-sm font-medium text-zinc-800">
            Filter roles
          </label>
          <input
            id="assign-role-filter"
            type="search"
            autoComplete="off"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            placeholder="Type to filter…"
            className={inputClass}
          />
        </div>
        <div className="flex flex-wrap items-end gap-2">
        <div className="min-w-40 flex-1 space-y-1.5">
          <label htmlFor="assign-role" className="block text-sm font-medium text-zinc-800">
            Role to assign
          </label>
          <select
            id="assign-role"
            name="roleId"
            required
            value={value}
            onChange={(e) => setChosen(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "assign-role-error" : undefined}
            className={inputClass}
          >
            <option value="" disabled>
              {visible.length === 0 ? "No role matches" : "Choose a role…"}
            </option>
            {visible.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </div>
        <SubmitButton tone="secondary" disabled={value === ""}>
          Assign role
        </SubmitButton>
        </div>
      </div>
      {error && (
        <p id="assign-role-error" className="text-sm text-red-700">
          {error}
        </p>
      )}
      {!error && <FormStatus state={state} />}
      <RefreshWhilePending pending={Boolean(state?.ok && !state.projected && version < state.version)} />
    </form>
  );
}
