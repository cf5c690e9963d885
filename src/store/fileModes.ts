/**
 * The database holds every account's token hash and every message, so its files are
 * the owner's alone: a new folder is made 0700 and a new file 0600 before SQLite opens
 * it (SQLite gives its -wal and -journal files the main file's mode). Existing files
 * keep their mode; start-up warns when they are open to other accounts.
 */
import { closeSync, constants, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { databaseFilesOf } from "./databaseFiles.js";

/** Creates the folder (0700) and an empty file (0600) when missing; leaves existing ones alone. */
export function createPrivate(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

function modeOf(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o7777;
  } catch {
    return undefined;
  }
}

const octal = (mode: number) => mode.toString(8).padStart(4, "0");

/** One line per problem: database files (or their folder) that other accounts on this machine may read. */
export function permissionWarnings(path: string): string[] {
  if (path === ":memory:") return [];
  const warnings: string[] = [];
  const open = databaseFilesOf(path).flatMap((file) => {
    const mode = modeOf(file);
    return mode !== undefined && (mode & 0o066) !== 0 ? [`${file} (${octal(mode)})`] : [];
  });
  if (open.length > 0) {
    warnings.push(`database files other accounts on this machine can read or change: ${open.join(", ")}; chmod 600 them`);
  }
  const dir = dirname(path);
  const dirMode = modeOf(dir);
  // Search (x) alone lets no one list or change the folder; read or write bits do. A sticky
  // folder (/tmp) lets no one remove or rename another's file: chmod there is not ours to advise.
  if (dirMode !== undefined && (dirMode & 0o066) !== 0 && (dirMode & 0o1000) === 0) {
    warnings.push(`the database folder ${dir} (${octal(dirMode)}) is open to other accounts on this machine; chmod 700 it`);
  }
  return warnings;
}
