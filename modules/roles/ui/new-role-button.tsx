"use client";
import { buttonClass } from "@/lib/ui/styles";

/** The create form's first field (modules/roles/ui/create-role-form.tsx). */
export const NEW_ROLE_NAME_FIELD_ID = "new-role-name";

/**
 * "New role": the form is always on the page (beside the table, or under it on
 * narrow screens), so the button brings it into view and puts the caret in
 * "Name", ready to type.
 */
export function NewRoleButton() {
  return (
    <button
      type="button"
      aria-controls={NEW_ROLE_NAME_FIELD_ID}
      onClick={() => {
        const field = document.getElementById(NEW_ROLE_NAME_FIELD_ID);
        field?.scrollIntoView({ block: "center", behavior: "smooth" });
        field?.focus({ preventScroll: true });
      }}
      className={buttonClass("primary")}
    >
      New role
    </button>
  );
}
