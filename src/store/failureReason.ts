/** A short reason for a failed write to the store, for logs, `unavailable` errors and /readyz. */
export function failureReason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === "SQLITE_FULL" || code === "ENOSPC") return "the disk is full";
  return typeof code === "string" ? code : err instanceof Error ? err.message : String(err);
}
