/**
 * The machine's Chromium for browser tests (Debian's `chromium` package), driven by
 * playwright-core. Tests skip, with a message, only when it is missing and CI is not
 * set; under CI a missing browser fails the run (.ci/run installs it).
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Without the background-networking flags Chromium keeps calling hosts this machine cannot reach. */
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export const skipBrowser = !existsSync(CHROMIUM) && !process.env.CI;
if (skipBrowser) console.warn(`browser tests skipped: ${CHROMIUM} is not installed (apt-get install -y chromium); under CI they run.`);

export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...extraArgs] });
}
