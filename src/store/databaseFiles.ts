import { journalPathOf } from "./changeJournal.js";

/** The empty SQLite file whose lock says which server holds the database (databaseLock.ts). */
export const lockFileOf = (path: string) => `${path}.lock`;

/** The files a database on disk is made of: the file itself, SQLite's WAL and its index, the changes journal and the lock file. Moved, copied and deleted together. */
export const databaseFilesOf = (path: string): string[] => [path, `${path}-wal`, `${path}-shm`, journalPathOf(path), lockFileOf(path)];
