/** Shown while the users list renders (search, filters and paging are all server round trips). */
export default function UsersLoading() {
  return (
    <div role="status" aria-label="Loading users" className="animate-pulse">
      <div className="mb-6 flex items-start justify-between gap-4">
        <div className="space-y-2">
          <div className="h-7 w-28 rounded bg-zinc-200" />
          <div className="h-4 w-64 rounded bg-zinc-100" />
        </div>
        <div className="h-9 w-24 rounded-md bg-zinc-200" />
      </div>
      <div className="mb-4 flex flex-wrap gap-3">
        <div className="h-10 w-72 rounded-md bg-zinc-100" />
        <div className="h-10 w-40 rounded-md bg-zinc-100" />
        <div className="h-10 w-28 rounded-md bg-zinc-100" />
        <div className="h-10 w-36 rounded-md bg-zinc-100" />
      </div>
      <div className="mb-3 h-4 w-24 rounded bg-zinc-100" />
      <div className="mb-3 h-14 rounded-lg border border-zinc-200 bg-white" />
      <div className="overflow-hidden rounded-lg border border-zinc-200 bg-white">
        <div className="h-10 bg-zinc-50" />
        {Array.from({ length: 8 }, (_, i) => (
          <div key={i} className="flex items-center gap-6 border-t border-zinc-100 px-4 py-3.5">
            <div className="size-4 rounded bg-zinc-100" />
            <div className="h-4 w-56 rounded bg-zinc-200" />
            <div className="h-4 w-32 rounded bg-zinc-100" />
            <div className="h-5 w-12 rounded bg-zinc-100" />
            <div className="h-5 w-20 rounded bg-zinc-100" />
          </div>
        ))}
      </div>
      <span className="sr-only">Loading users…</span>
    </div>
  );
}
