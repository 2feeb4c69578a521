/** Shown while a user's page renders (without it, the users list's skeleton would stand in). */
export default function UserLoading() {
  return (
    <div role="status" aria-label="Loading user" className="animate-pulse">
      <div className="mb-2 h-4 w-16 rounded bg-zinc-100" />
      <div className="mb-6 space-y-2">
        <div className="h-7 w-80 max-w-full rounded bg-zinc-200" />
        <div className="h-4 w-40 rounded bg-zinc-100" />
      </div>
      <div className="grid gap-6 lg:grid-cols-5">
        <div className="space-y-6 lg:col-span-2">
          <div className="h-56 rounded-lg border border-zinc-200 bg-white" />
          <div className="h-40 rounded-lg border border-zinc-200 bg-white" />
        </div>
        <div className="h-96 rounded-lg border border-zinc-200 bg-white lg:col-span-3" />
      </div>
      <span className="sr-only">Loading user…</span>
    </div>
  );
}
