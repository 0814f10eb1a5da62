export function AuthCard({
  title,
  subtitle,
  children,
}: {
  title: string;
  subtitle: string;
  children: React.ReactNode;
}) {
  return (
    <main className="flex min-h-screen items-center justify-center p-6">
      <div className="w-full max-w-sm rounded-xl border border-zinc-200 bg-white p-8 shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
        <div className="mb-6">
          <div className="mb-4 flex items-center gap-2 text-sm font-semibold tracking-wide text-indigo-600 dark:text-indigo-400">
            <span aria-hidden className="inline-block h-3 w-3 rotate-45 bg-indigo-600 dark:bg-indigo-400" />
            FULCRUM
          </div>
          <h1 className="text-xl font-semibold">{title}</h1>
          <p className="mt-1 text-sm text-zinc-500 dark:text-zinc-400">{subtitle}</p>
        </div>
        {children}
      </div>
    </main>
  );
}
