/** Entry point: options from flags and environment, start, log the address, shut down on signals. */
import { pino } from "pino";
import pretty from "pino-pretty";
import { loadOptions } from "./config.js";
import { redactedUrl } from "./log/redisLog.js";
import { startServer, type ChatServer } from "./server/httpServer.js";
import { permissionWarnings } from "./store/fileModes.js";
import { StoreError } from "./store/sqliteStore.js";

let options;
try {
  options = loadOptions(process.argv.slice(2), process.env);
} catch (err) {
  console.error(`chat-server: ${(err as Error).message}`);
  process.exit(2);
}
// A person at a terminal reads lines; a supervisor or log shipper gets JSON.
const logger = process.stdout.isTTY ? pino({ level: options.logLevel }, pretty({ sync: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname,page,url,port,openAuth" })) : pino({ level: options.logLevel });
let server: ChatServer | undefined;
// `npm run backup` asks a running server for a consistent copy of its database; registered
// first, since the default action of SIGUSR2 would end the process.
process.on("SIGUSR2", () => {
  if (!server) return logger.warn("a backup was asked for before the server had started; ask again");
  server.backup().then(
    (path) => path === undefined && logger.warn("a backup was asked for, but the database is :memory:"),
    (err: unknown) => logger.error({ err }, "the backup failed"),
  );
});
try {
  // Exit a turn later, once the corked 1011 close frames have been written.
  server = await startServer({ options, logger, onFatal: () => setImmediate(() => process.exit(1)) });
} catch (err) {
  // A bad database path or a port in use is the operator's to fix: say so in one line.
  if (err instanceof StoreError || (err as NodeJS.ErrnoException).code === "EADDRINUSE" || (err as NodeJS.ErrnoException).code === "EACCES") {
    console.error(`chat-server: ${(err as Error).message}`);
    process.exit(1);
  }
  throw err;
}

const running = server;
let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  await running.close(1001);
  process.exit(0);
}
// Registered before the start-up line, so that a supervisor reacting to it can already stop us cleanly.
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
// Before the start-up line, so that whoever reads the log sees them first.
for (const warning of permissionWarnings(options.db)) logger.warn(warning);
if (options.openAuth) logger.warn("open-auth mode: anyone can sign into any account by its id alone; never use it on a public server");
const cluster = options.redisUrl === null ? {} : { cluster: { node: running.hub.node, redis: redactedUrl(options.redisUrl), prefix: options.redisPrefix } };
const as = options.redisUrl === null ? "" : ` as cluster node ${running.hub.node}`;
// The page's address first: it is what a person opens; clients connect to the WebSocket one.
const page = running.url.replace(/^ws:/, "http:").replace(/\/ws$/, "/");
logger.info({ page, url: running.url, port: running.port, openAuth: options.openAuth, ...cluster }, `chat page at ${page} · WebSocket at ${running.url}${as}`);
