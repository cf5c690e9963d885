/** Runs the real entry point, `src/main.ts`, as a child process. */
import { spawn, type ChildProcess } from "node:child_process";

const children: ChildProcess[] = [];

/** Kills every child a test started and left running. */
export function killChildren(): void {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

/** Starts `src/main.ts` on a free port; resolves with the URL from its one start-up line. */
export async function startChild(args: string[] = [], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; lines: string[] }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--port", "0", "--host", "127.0.0.1", ...args], {
    cwd: new URL("../..", import.meta.url),
    env: { ...process.env, CHAT_DB: ":memory:", CHAT_RATE_PER_SECOND: "1000000", CHAT_RATE_BURST: "1000000", CHAT_ACCOUNTS_PER_MINUTE_PER_IP: "1000000", CHAT_ROOMS_PER_MINUTE_PER_IP: "1000000", CHAT_BYTES_PER_SECOND_PER_IP: String(1024 ** 3), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const lines: string[] = [];
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        lines.push(line);
        const found = /"url":"(ws:[^"]+)"/.exec(line);
        if (found) resolve(found[1]!);
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  return { child, url, lines };
}

