import { journalPathOf } from "./changeJournal.js";

/** The files a database on disk is made of: the file itself, SQLite's WAL and its index, and the changes journal. Moved, copied and deleted together. */
export const databaseFilesOf = (path: string): string[] => [path, `${path}-wal`, `${path}-shm`, journalPathOf(path)];
