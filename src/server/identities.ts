/**
 * Every identity the shell mints: accounts (an id and a token), rooms, messages and
 * nodes. The core mints none, so that it stays deterministic: commands carry what is
 * minted here. A plain token leaves this module only for the reply that hands it out;
 * commands, and so the log, the stores and log lines, see its hash alone.
 */
import { randomBytes } from "node:crypto";
import { v4 as uuidv4 } from "uuid";
import type { NewAccount } from "../core/commands.js";
import type { MessageId, NodeId, RoomId } from "../core/model.js";
import { messageIdAt, type EntryId } from "../log/positions.js";
import { hashToken, mintToken } from "./tokens.js";

/**
 * The identities one request mints, in the shape its command carries (token hashes), with
 * the plain tokens kept aside by hash for the reply that hands them out. A minter lives as
 * long as its request, so the tokens go with it; the field is private so that no log line
 * that serialises a request can show them.
 */
export class Minter {
  #tokens: Map<string, string> | undefined;

  account(): NewAccount {
    return { id: uuidv4(), tokenHash: this.token() };
  }

  /** A new token; returns its hash. */
  token(): string {
    const token = mintToken();
    const hash = hashToken(token);
    (this.#tokens ??= new Map()).set(hash, token);
    return hash;
  }

  roomId(): RoomId {
    return uuidv4();
  }

  /** The plain token whose hash this minter returned. */
  tokenOf(hash: string): string | undefined {
    return this.#tokens?.get(hash);
  }
}

/**
 * Not random: a message's id is its command's place in the log, so that every node mints
 * the same id for it and ids sort in log order (see positions.ts).
 */
export function mintMessageId(at: EntryId, index: number): MessageId {
  return messageIdAt(at, index);
}

/** A new identity for this process: never stored, so that a copied database cannot clone it. */
export function mintNodeId(): NodeId {
  return randomBytes(6).toString("hex");
}
