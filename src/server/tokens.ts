/**
 * Account tokens: 256 random bits handed to the client once; only their SHA-256
 * is kept. A slow password hash buys nothing for secrets this long.
 */
import { createHash, randomBytes } from "node:crypto";

export function mintToken(): string {
  return randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
