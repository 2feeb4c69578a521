/**
 * The checks every page, server action and route handler makes on the server
 * (hiding a button is not a check). Next.js-specific: reads the session cookie
 * and request headers. One principal per request (React `cache`).
 */
import { cache } from "react";
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { getDb } from "@/lib/db";
import { DomainError, forbidden, unauthenticated } from "@/lib/errors";
import type { Permission } from "./permissions";
import type { Principal } from "./principal";
import { principalFromSession, SESSION_COOKIE } from "./sessions";

type UserPrincipal = Extract<Principal, { kind: "user" }>;

/** The signed-in user of this request, or null. */
export const currentUser = cache(async (): Promise<UserPrincipal | null> => {
  const secret = (await cookies()).get(SESSION_COOKIE)?.value;
  const principal = await principalFromSession(getDb(), secret);
  return principal?.kind === "user" ? principal : null;
});

/** For pages any signed-in user may see: sends anyone else to sign in, then back here. */
export async function requireSignedIn(): Promise<UserPrincipal> {
  const user = await currentUser();
  if (user) return user;
  const path = (await headers()).get("x-request-path") ?? "/";
  redirect(`/sign-in?next=${encodeURIComponent(path)}`);
}

/** For pages: signs the visitor in first, and shows "no permission" instead of the page when they lack it. */
export async function requirePage(permission: Permission): Promise<UserPrincipal> {
  const user = await requireSignedIn();
  if (!user.permissions.has(permission)) redirect(`/forbidden?need=${encodeURIComponent(permission)}`);
  return user;
}

/**
 * For server actions and console route handlers: the signed-in user holding
 * `permission`, or a DomainError ("unauthenticated" / "forbidden"). Also refuses
 * a request whose Origin is another site (a cross-site form post), on top of
 * the same check Next.js makes for server actions.
 */
export async function requireUser(permission: Permission): Promise<UserPrincipal> {
  await assertSameOrigin();
  const user = await currentUser();
  if (!user) throw unauthenticated();
  if (!user.permissions.has(permission)) throw forbidden(permission);
  return user;
}

async function assertSameOrigin() {
  const h = await headers();
  const origin = h.get("origin");
  if (!origin) return; // same-origin GETs and non-browser clients send none; browsers always send it cross-site
  const host = h.get("x-forwarded-host") ?? h.get("host");
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = "";
  }
  if (originHost !== host) throw new DomainError("forbidden", "Cross-site request refused (its Origin is another site).");
}

/** The client's address as the nearest proxy (or Next.js itself) saw it; see the README's security model. */
async function clientIp(): Promise<string> {
  const h = await headers();
  const forwarded = h.get("x-forwarded-for")?.split(",").map((s) => s.trim()).filter(Boolean);
  return forwarded?.at(-1) ?? h.get("x-real-ip") ?? "unknown";
}

/** Who is asking, as recorded with a session and in UserLoggedIn. */
export async function requestMeta(): Promise<{ ip: string; userAgent: string | null }> {
  return { ip: await clientIp(), userAgent: (await headers()).get("user-agent") };
}

/**
 * Hands the browser its session cookie: httpOnly, SameSite=Lax, Secure unless
 * the console is on this machine over plain HTTP.
 */
export async function setSessionCookie(session: { secret: string; expiresAt: Date }) {
  const h = await headers();
  const host = (h.get("x-forwarded-host") ?? h.get("host") ?? "").replace(/:\d+$/, "");
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(host);
  (await cookies()).set(SESSION_COOKIE, session.secret, {
    httpOnly: true,
    sameSite: "lax",
    secure: !local,
    path: "/",
    expires: session.expiresAt,
  });
}
