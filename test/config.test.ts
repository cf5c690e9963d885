import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULTS, loadOptions, SETTINGS } from "../src/config.js";

describe("config", () => {
  it("uses the defaults when nothing is set", () => {
    expect(loadOptions([], {})).toEqual(DEFAULTS);
    expect(DEFAULTS).toMatchObject({ port: 8080, openAuth: false, maxFrameBytes: 65536 });
  });

  it("reads environment variables, and flags over them", () => {
    const env = { PORT: "9000", CHAT_OPEN_AUTH: "1", HOST: "127.0.0.1" };
    expect(loadOptions([], env)).toMatchObject({ port: 9000, openAuth: true, host: "127.0.0.1" });
    expect(loadOptions(["--port", "0", "--open-auth=false"], env)).toMatchObject({ port: 0, openAuth: false });
    expect(loadOptions(["--open-auth", "--port=1234"], {})).toMatchObject({ port: 1234, openAuth: true });
  });

  it("rejects bad values and unknown flags with a message naming them", () => {
    expect(() => loadOptions([], { PORT: "http" })).toThrow(/PORT must be an integer from 0 to 65535; received "http"/);
    expect(() => loadOptions(["--nope"], {})).toThrow(/unknown option --nope/);
    expect(() => loadOptions(["--port"], {})).toThrow(/--port needs a value/);
    expect(() => loadOptions([], { CHAT_LOG_LEVEL: "loud" })).toThrow(/CHAT_LOG_LEVEL must be one of/);
  });

  it("returns a frozen object", () => {
    expect(Object.isFrozen(loadOptions([], {}))).toBe(true);
  });

  it("is documented: the README's configuration table has every setting's row, as config.ts describes it", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const rows = readme.split("\n").filter((line) => line.startsWith("| `"));
    for (const s of SETTINGS) {
      const d: unknown = s.default;
      const shown = Array.isArray(d) ? "(none)" : typeof d === "boolean" ? (d ? "on" : "off") : d === null ? "`off`" : `\`${String(d)}\``;
      expect(rows).toContain(`| \`${s.env}\` | \`${s.flag}\` | ${shown} | ${s.doc} |`);
    }
  });
});
