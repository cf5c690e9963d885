/**
 * Which browser pages may talk to the server. A WebSocket is not bound by the
 * same-origin policy, so the server checks `Origin` itself: its own origin (Origin's
 * host equals the Host header), the listed ones, or any with `*`. Same-origin alone
 * falls to DNS rebinding (a hostile name pointed at this server makes Origin and Host
 * agree), so with `publicHosts` set the Host header itself must be one of ours.
 */

/** The host name of a Host header (or a configured host): lower case, no port, no brackets, no trailing dot. */
export function hostName(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  let name = host.trim().toLowerCase();
  if (name.startsWith("[")) name = name.slice(1, name.indexOf("]") < 0 ? undefined : name.indexOf("]"));
  // One colon is a port; more are a bare IPv6 address.
  else if (name.split(":").length === 2) name = name.slice(0, name.indexOf(":"));
  if (name.endsWith(".")) name = name.slice(0, -1);
  return name === "" ? undefined : name;
}

/** True when `publicHosts` is empty or names the request's host; a request without Host fails a set list. */
export function hostAllowed(host: string | undefined, publicHosts: readonly string[]): boolean {
  if (publicHosts.length === 0) return true;
  const name = hostName(host);
  return name !== undefined && publicHosts.some((h) => hostName(h) === name);
}

function originOf(text: string): string | undefined {
  try {
    return new URL(text).origin;
  } catch {
    return undefined;
  }
}

/**
 * True for a client that sends no Origin (not a browser: the check protects browser
 * users only), a same-origin page, a listed origin, or any origin when `*` is listed.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowedOrigins: readonly string[]): boolean {
  if (origin === undefined || allowedOrigins.includes("*")) return true;
  const normal = originOf(origin);
  // "null" (sandboxed frames, file: pages) has no host and matches only a literal "null" entry.
  if (normal === undefined || normal === "null") return allowedOrigins.includes(origin);
  if (host !== undefined && new URL(normal).host === host.trim().toLowerCase()) return true;
  return allowedOrigins.some((o) => originOf(o) === normal);
}
