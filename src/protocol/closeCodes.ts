/**
 * Every WebSocket close code this server (or its SDK) uses, what it means, and whether a
 * client should reconnect after it. protocol.md's "Close codes" table lists exactly these
 * (a test checks), and the SDK decides whether to reconnect from `retry`.
 */
export const CLOSE_CODES = {
  normal: { code: 1000, retry: false, meaning: "normal closure" },
  shuttingDown: { code: 1001, retry: true, meaning: "the server is shutting down" },
  badUtf8: { code: 1007, retry: true, meaning: "a text frame that is not valid UTF-8" },
  policy: { code: 1008, retry: true, meaning: "policy: flooding after rate_limited, not reading what is sent, or too many fragments" },
  tooBig: { code: 1009, retry: true, meaning: "a frame over the size limit" },
  serverFailure: { code: 1011, retry: true, meaning: "an unexpected server failure" },
  tryAgainLater: { code: 1013, retry: true, meaning: "try again later: the connection's start could not be put in the cluster's log" },
  noReply: { code: 4000, retry: true, meaning: "the SDK's own: the server did not answer a request the SDK needs (sign-in, catch-up) in time" },
  sessionEnded: { code: 4002, retry: true, meaning: "the server ended this connection's session" },
} as const satisfies Record<string, { code: number; retry: boolean; meaning: string }>;

export type CloseName = keyof typeof CLOSE_CODES;

/** Whether a client should reconnect after a close with `code`; codes not listed here (1006: the connection was lost) are worth retrying. */
export function shouldReconnect(code: number): boolean {
  for (const entry of Object.values(CLOSE_CODES)) if (entry.code === code) return entry.retry;
  return true;
}
