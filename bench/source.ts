/**
 * Which code of our server a run measured. By default the working tree; with
 * --ours-ref, a snapshot of that commit extracted by `git archive` into a temporary
 * directory (node_modules linked from the repo), which leaves the repository and
 * whatever someone is editing in it untouched.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface OursSource {
  /** "working tree" or the ref asked for. */
  ref: string;
  commit: string;
  /** Uncommitted changes under src/ or schemas/ (working tree only). */
  dirty: boolean;
  /** Directory the server runs in. */
  dir: string;
  dispose(): void;
}

function git(root: string, args: string[]): string {
  return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

export function oursSource(root: string, ref: string): OursSource {
  if (ref === "") {
    let commit = "unknown";
    let dirty = false;
    try {
      commit = git(root, ["rev-parse", "HEAD"]);
      dirty = git(root, ["status", "--porcelain", "--", "src", "schemas"]) !== "";
    } catch {
      // Not a git checkout: the figures still stand, only the label is missing.
    }
    return { ref: "working tree", commit, dirty, dir: root, dispose: () => {} };
  }
  const commit = git(root, ["rev-parse", "--verify", `${ref}^{commit}`]);
  const dir = mkdtempSync(join(tmpdir(), "chat-bench-src-"));
  execFileSync("sh", ["-c", `git archive --format=tar "$0" | tar -x -C "$1"`, commit, dir], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  return { ref, commit, dirty: false, dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
