import type { ReactNode } from "react";

export function PageHeader({
  title,
  description,
  actions,
  children,
}: {
  title: ReactNode;
  description?: ReactNode;
  actions?: ReactNode;
  /** Shown under the title (badges, breadcrumbs). */
  children?: ReactNode;
}) {
  return (
    <div className="mb-6 flex flex-wrap items-start justify-between gap-4">
      <div className="min-w-0 space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight break-words text-zinc-900">{title}</h1>
        {description && <p className="text-sm text-zinc-600">{description}</p>}
        {children}
      </div>
      {actions && <div className="flex shrink-0 items-center gap-2">{actions}</div>}
    </div>
  );
}

export function Card({ title, children, id }: { title?: ReactNode; children: ReactNode; id?: string }) {
  return (
    <section aria-labelledby={title && id ? id : undefined} className="rounded-lg border border-zinc-200 bg-white shadow-xs">
      {title && (
        <h2 id={id} className="border-b border-zinc-100 px-5 py-3 text-sm font-semibold text-zinc-900">
          {title}
        </h2>
      )}
      <div className="px-5 py-4">{children}</div>
    </section>
  );
}
