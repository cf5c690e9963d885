/**
 * The SDK as one ES module a plain `<script type="module">` (or `import()`) can load:
 * `src/client/` bundled by esbuild. The server serves it at /chat-client.js, and
 * `npm run build` writes it to dist/chat-client.js for the package. It is bundled
 * from the source tree, which a deployment keeps beside dist/.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ENTRY = fileURLToPath(new URL("../../src/client/index.ts", import.meta.url));

export async function bundleSdk(): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: ["es2022"],
    legalComments: "none",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.contents;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = fileURLToPath(new URL("../chat-client.js", import.meta.url));
  writeFileSync(out, await bundleSdk());
  console.log(`wrote ${out}`);
}
