/** The permissions a role carries, as a group of checkboxes (create and edit forms). */
import { PERMISSIONS, type Permission } from "@/lib/auth/permissions";

export function PermissionsField({
  selected,
  disabled,
  error,
  idPrefix,
}: {
  selected: readonly string[];
  /** Built-in roles: shown, not editable (and nothing is submitted). */
  disabled?: boolean;
  error?: string;
  idPrefix: string;
}) {
  return (
    <fieldset className="space-y-2" aria-describedby={error ? `${idPrefix}-error` : undefined}>
      <legend className="text-sm font-medium text-zinc-800">Permissions</legend>
      {/* Always sent (unless fixed), so unticking every box means "none" rather than "unchanged". */}
      {!disabled && <input type="hidden" name="permissions" value="" />}
      {(Object.entries(PERMISSIONS) as [Permission, string][]).map(([permission, description]) => (
        <label key={permission} className="flex items-start gap-2 text-sm text-zinc-700">
          <input
            type="checkbox"
            name="permissions"
            value={permission}
            defaultChecked={selected.includes(permission)}
            disabled={disabled}
            className="mt-0.5 size-4 shrink-0 rounded border-zinc-300"
          />
          <span>
            <code className="font-medium text-zinc-900">{permission}</code>
            <span className="block text-xs text-zinc-500">{description}</span>
          </span>
        </label>
      ))}
      {disabled && <p className="text-xs text-zinc-500">A built-in role&apos;s permissions are fixed.</p>}
      {error && (
        <p id={`${idPrefix}-error`} className="text-sm text-red-700">
          {error}
        </p>
      )}
    </fieldset>
  );
}
