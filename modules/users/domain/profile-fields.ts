/** A user's profile fields, in the order pages show them, with their labels (their history, the comparison). */
export const PROFILE_FIELDS = [
  { field: "email", label: "Email" },
  { field: "name", label: "Name" },
] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number]["field"];
