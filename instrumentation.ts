/** Next.js calls `register` once when a server process starts (never during `next build`). */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { runAccessBootstrap } = await import("@/modules/access/application/bootstrap-runner");
  // Not awaited: the server starts answering now; /api/health reports "starting" until access is settled.
  void runAccessBootstrap();
}
