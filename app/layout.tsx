import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { LiveUpdates } from "@/lib/live/live-updates";
import { NavLink } from "@/lib/ui/nav-link";
import { Providers } from "./providers";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Admin console", template: "%s · Admin console" },
  description: "Users and roles, with the full history of every change.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
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
              <nav aria-label="Main" className="flex items-center gap-1">
                <NavLink href="/users">Users</NavLink>
                <NavLink href="/roles">Roles</NavLink>
                <NavLink href="/activity">Activity</NavLink>
                <NavLink href="/health">Health</NavLink>
              </nav>
              {/* Mounted once for the whole session: every page stays current without a reload. */}
              <div className="ml-auto">
                <LiveUpdates />
              </div>
            </div>
          </header>
          <main className="mx-auto max-w-6xl px-4 py-8 sm:px-6">{children}</main>
        </Providers>
      </body>
    </html>
  );
}
