/** Where to go after signing in: only a path on this site (an open redirect would make the sign-in page a phishing tool). */
export function safeNextPath(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\") || next.startsWith("/sign-in")) {
    return "/users";
  }
  return next;
}
