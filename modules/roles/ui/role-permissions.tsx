/** A role's permissions as small badges (lists and role pages). */
import { Badge } from "@/lib/ui/badge";

export function RolePermissions({ permissions, builtIn }: { permissions: readonly string[]; builtIn: boolean }) {
  if (permissions.length === 0 && !builtIn) return null;
  return (
    <span className="mt-1 flex flex-wrap gap-1" aria-label="Permissions">
      {builtIn && <Badge tone="blue">built-in</Badge>}
      {permissions.map((p) => (
        <Badge key={p}>{p}</Badge>
      ))}
    </span>
  );
}
