import { describe, expect, it } from "vitest";
import { chartPathFor, renderChart, type ChartInput } from "../bench/chart.js";

/**
 * A tiny well-formedness check, enough for the SVG we write (no comments, CDATA or
 * DOCTYPE): tags nest and close, attributes are quoted and not repeated, every `&`
 * starts an entity, and there is exactly one root element.
 */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const checkAmps = (s: string, where: string): void => {
    if (s.replace(entity, "").includes("&")) throw new Error(`bare & in ${where}: ${s.slice(0, 80)}`);
  };
  const stack: string[] = [];
  let roots = 0;
  for (const [token] of body.matchAll(/<[^>]*>|[^<]+/g)) {
    if (!token.startsWith("<")) {
      if (stack.length === 0 && token.trim() !== "") throw new Error(`text outside the root: ${token.slice(0, 40)}`);
      checkAmps(token, "text");
      continue;
    }
    const close = /^<\/([A-Za-z_][\w.-]*)\s*>$/.exec(token);
    if (close) {
      const open = stack.pop();
      if (open !== close[1]) throw new Error(`</${close[1]}> closes <${open ?? "nothing"}>`);
      continue;
    }
    const tag = /^<([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_:][\w:.-]*="[^"<]*")*)\s*(\/?)>$/.exec(token);
    if (!tag) throw new Error(`malformed tag: ${token.slice(0, 80)}`);
    const names = [...tag[2]!.matchAll(/([A-Za-z_:][\w:.-]*)="([^"]*)"/g)].map((m) => {
      checkAmps(m[2]!, `attribute ${m[1]}`);
      return m[1]!;
    });
    if (new Set(names).size !== names.length) throw new Error(`repeated attribute in ${token.slice(0, 80)}`);
    if (stack.length === 0) roots++;
    if (tag[3] !== "/") stack.push(tag[1]!);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join("> <")}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
}

const lat = (p50: number, p99: number, p999: number) => ({ p50, p99, p999 });
const win = (deliveriesPerSec: number, p99: number, extra: object = {}) => ({ deliveriesPerSec, latency: lat(p99 / 3, p99, p99 * 2), ...extra });
const step = (deliveries: number, p99: number, passed: boolean, retried = false) => ({
  offeredMsgsPerSec: deliveries / 20,
  passed,
  retried,
  why: passed ? "" : `p99 ${p99} ms > 100 ms`,
  result: win(deliveries, p99),
});

/** A small run: ours climbs 3 steps then fails (one retried attempt before), raw passes all 4, Socket.IO has rooms only. */
function sample(): ChartInput {
  return {
    startedAt: "2026-11-25T13:02:36.846Z",
    machine: { cpuModel: "Test CPU <x>", cores: 2, node: "v20.0.0", kernel: "6.1" },
    oursSource: { ref: "working tree", commit: "0123456789abcdef", dirty: true },
    options: { satP99Ms: 100 },
    servers: [
      { name: "ours", label: "ours (memory)" },
      { name: "raw", label: "raw ws" },
      { name: "socketio", label: "Socket.IO & co" },
    ],
    results: {
      rooms: {
        ours: { ok: true, result: { ...win(20000, 3.25), latency: lat(1.53, 3.25, 12.1), deliveriesPerServerCpuSec: 80000 } },
        raw: { ok: true, result: { ...win(19000, 1.75), latency: lat(0.95, 1.75, 3.5), deliveriesPerServerCpuSec: 160000, noisy: true } },
        socketio: { ok: true, result: { ...win(20000, 2.04), latency: lat(1.1, 2.04, 7.01), deliveriesPerServerCpuSec: 112000 } },
      },
      saturation: {
        ours: {
          ok: true,
          result: {
            steps: [step(10000, 2.8, true), step(14000, 2.5, true), step(20000, 4.4, true), step(28000, 900, false, true), step(28000, 3500, false)],
            bestDeliveriesPerSec: 20000,
            bestP99Ms: 4.4,
            limitedBy: "latency",
          },
        },
        raw: {
          ok: true,
          result: { steps: [step(9500, 1.4, true), step(13300, 1.1, true), step(18600, 1.9, true), step(26000, 2.2, true)], bestDeliveriesPerSec: 26000, bestP99Ms: 2.2, limitedBy: "not reached" },
        },
        socketio: { ok: false, error: "server exited\nstack" },
      },
    },
    tables: ["rooms — 1000 connections in 50 rooms of 20", "saturation — the rooms workload, send rate ×1.4 per step"],
  };
}

/** The markup of the `<g id="…">` panel, up to the next panel. */
function panel(svg: string, id: string): string | undefined {
  const start = svg.indexOf(`<g id="${id}"`);
  if (start < 0) return undefined;
  const next = svg.indexOf(`<g id="`, start + 1);
  return svg.slice(start, next < 0 ? undefined : next);
}

function polylines(markup: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of markup.matchAll(/<polyline data-server="([^"]+)" points="([^"]*)"/g)) {
    expect(out.has(m[1]!), `one polyline for ${m[1]}`).toBe(false);
    out.set(m[1]!, m[2]!.trim().split(/\s+/).filter(Boolean).length);
  }
  return out;
}

describe("bench chart", () => {
  it("renders well-formed SVG naming every server, with the run's date and machine", () => {
    const svg = renderChart(sample())!;
    expect(svg).toMatch(/^<\?xml[^>]*\?>\s*<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(() => assertWellFormedXml(svg)).not.toThrow();
    expect(svg).toContain('font-family="sans-serif"');
    expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/); // nothing to fetch
    for (const label of ["ours (memory)", "raw ws", "Socket.IO &amp; co"]) expect(svg).toContain(label);
    expect(svg).toContain("2026-11-25 13:02 UTC");
    expect(svg).toContain("Test CPU &lt;x&gt;, 2 cores");
  });

  it("draws one polyline per server in the saturation panel, through its passing and failing steps", () => {
    const sat = panel(renderChart(sample())!, "saturation")!;
    expect(sat).toBeDefined();
    // The retried attempt of ours is marked but is not a vertex: 3 passing + 1 failing.
    expect(polylines(sat)).toEqual(new Map([["ours", 4], ["raw", 4]]));
    expect(sat.match(/class="pass"/g)).toHaveLength(7);
    expect(sat.match(/class="fail"/g)).toHaveLength(1);
    expect(sat.match(/class="retried"/g)).toHaveLength(1);
    expect(sat).toContain("Socket.IO &amp; co failed: server exited");
    expect(sat).toContain("p99 limit 100 ms");
  });

  it("labels the rooms bars with their values and the ratio to raw", () => {
    const svg = renderChart(sample())!;
    const rooms = panel(svg, "rooms-latency")!;
    expect(rooms.match(/<rect [^>]*fill="#/g)!.length).toBeGreaterThanOrEqual(9); // 3 servers × 3 percentiles (+ legend swatches)
    for (const v of ["1.53", "12.1", "0.95†", "7.01"]) expect(rooms).toContain(`>${v}<`);
    expect(rooms).toContain("† other processes were busy");
    const cpu = panel(svg, "rooms-cpu")!;
    expect(cpu).toContain("80,000 · 0.50× raw");
    expect(cpu).toContain(">160,000<");
  });

  it("keeps a server's colour the same in every panel", () => {
    const svg = renderChart(sample())!;
    const oursLine = /<polyline data-server="ours" [^>]*stroke="(#[0-9a-f]{6})"/.exec(svg)![1]!;
    const oursBar = /<rect [^>]*fill="(#[0-9a-f]{6})"><title>ours \(memory\) p50/.exec(svg)![1]!;
    expect(oursBar).toBe(oursLine);
  });

  it("leaves out a panel with no data, and draws nothing when no panel has any", () => {
    const noSat = sample();
    delete noSat.results!.saturation;
    const svg = renderChart(noSat)!;
    expect(() => assertWellFormedXml(svg)).not.toThrow();
    expect(panel(svg, "saturation")).toBeUndefined();
    expect(svg).not.toContain("<polyline");
    expect(panel(svg, "rooms-latency")).toBeDefined();

    const noRooms = sample();
    noRooms.results!.rooms = {};
    const satOnly = renderChart(noRooms)!;
    expect(panel(satOnly, "rooms-latency")).toBeUndefined();
    expect(panel(satOnly, "rooms-cpu")).toBeUndefined();
    expect(polylines(panel(satOnly, "saturation")!).size).toBe(2);

    expect(renderChart({ results: { rooms: {}, saturation: {} } })).toBeNull();
    expect(renderChart({})).toBeNull();
  });

  it("writes the chart beside the results file", () => {
    expect(chartPathFor("bench/results/2026-11-25T13-02-36-846Z.json")).toBe("bench/results/2026-11-25T13-02-36-846Z.svg");
  });
});
