/** A round axis maximum at or above `n` (1, 2, 5, 10, 20, 50…), for the server-rendered SVG charts. */
export function niceMax(n: number): number {
  if (n <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 5, 10].map((m) => m * magnitude).find((m) => m >= n) ?? 10 * magnitude;
}
