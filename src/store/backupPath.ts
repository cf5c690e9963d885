/** Where a running server writes the copy of its database that `npm run backup` asks for (SIGUSR2). */
export const backupPathOf = (db: string) => `${db}.backup`;
