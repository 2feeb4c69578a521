import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { LiveUpdates } from "@/modules/live-updates";
import { currentUser } from "@/lib/auth/guard";
import { NavLink } from "@/lib/ui/nav-link";
import { buttonClass } from "@/lib/ui/styles";
import { signOutAction } from "@/modules/access/actions/sign-out";
import { Providers } from "./providers";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Admin console", template: "%s · Admin console" },
  description: "Users and roles, with the full history of every change.",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Only decides what the header shows: each page checks the session and permission itself.
  const user = await currentUser();
  return (
    <html lang="en">
      <body className="min-h-screen font-sans">
        <Providers>
          <header className="border-b border-zinc-200 bg-white">
            <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-8 gap-y-2 px-4 py-3 sm:px-6">
              <Link href="/users" className="flex items-center gap-2 text-sm font-semibold tracking-tight text-zinc-900">
                <span aria-hidden="true" className="grid size-7 place-items-center rounded-md bg-zinc-900 text-xs text-white">
                  AC
                </span>
                Admin console
              </Link>
              {user && (
                <>
                  <nav aria-label="Main" className="flex items-center gap-1">
                    <NavLink href="/users">Users</NavLink>
                    <NavLink href="/roles">Roles</NavLink>
                    <NavLink href="/activity">Activity</NavLink>
                    <NavLink href="/access-review">Access review</NavLink>
                    {user.permissions.has("ops:manage") && <NavLink href="/health">Health</NavLink>}
                    {user.permissions.has("tokens:manage") && <NavLink href="/tokens">API tokens</NavLink>}
                    {user.permissions.has("webhooks:manage") && <NavLink href="/webhooks">Webhooks</NavLink>}
                  </nav>
                  <div className="ml-auto flex items-center gap-4">
                    {/* Mounted once for the whole session: every page stays current without a reload. */}
                    <LiveUpdates />
                    <form action={signOutAction} className="flex items-center gap-3 text-sm">
                      <span className="hidden text-zinc-600 sm:inline" title={user.email}>
                        {user.name}
                      </span>
                      <button type="submit" className={buttonClass("secondary", "sm")}>
                        Sign out
                      </button>
                    </form>
                  </div>
                </>
              )}
            </div>
          </header>
          <main className="mx-auto max-w-6xl px-4 py-8 sm:px-6">{children}</main>
        </Providers>
      </body>
    </html>
  );
}
