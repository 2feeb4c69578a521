/**
 * Runs before every page: tells the page its own path (so a sign-in redirect
 * can come back to it) and sends a visitor with no session cookie straight to
 * the sign-in page. This is a convenience, not the check: every page, action
 * and route handler verifies the session and permission itself (lib/auth/guard.ts).
 */
import { NextResponse, type NextRequest } from "next/server";

const PUBLIC_PAGES = ["/sign-in", "/setup"];

export function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  // Route handlers answer 401 themselves (JSON for clients, not a redirect).
  const isPage = !pathname.startsWith("/api/") && pathname !== "/metrics";
  const isPublic = PUBLIC_PAGES.some((p) => pathname === p || pathname.startsWith(`${p}/`));
  if (isPage && !isPublic && request.method === "GET" && !request.cookies.has("session")) {
    const signIn = new URL("/sign-in", request.url);
    signIn.searchParams.set("next", `${pathname}${search}`);
    return NextResponse.redirect(signIn);
  }
  const headers = new Headers(request.headers);
  headers.set("x-request-path", `${pathname}${search}`);
  return NextResponse.next({ request: { headers } });
}

export const config = {
  // Everything but Next's own assets and the icon.
  matcher: ["/((?!_next/static|_next/image|icon.svg|favicon.ico).*)"],
};
