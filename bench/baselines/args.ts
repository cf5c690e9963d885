/** The flags both baselines share with our server's command line: --port and --host. */
export function listenArgs(argv: readonly string[]): { port: number; host: string } {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const port = Number(value("--port") ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`--port must be 0-65535; received ${value("--port")}`);
  return { port, host: value("--host") ?? "127.0.0.1" };
}

/** One JSON line in the shape our server logs, so the spawner reads every server alike. */
export function announce(url: string): void {
  process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), url, msg: `listening on ${url}` })}\n`);
}
