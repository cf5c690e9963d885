/**
 * A mergeable latency histogram: log-linear buckets (64 per power of two, so any
 * reported percentile is within ~1.6% of the true sample). Loadgen processes each
 * keep one and ship it sparse over IPC; the orchestrator merges them, which exact
 * sample arrays could not do cheaply at 100k samples/s.
 */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
/** Values are clamped here (µs): ~35 minutes, far past any bench timeout. */
const MAX_VALUE = 2 ** 31 - 1;

function indexOf(value: number): number {
  const v = Math.min(MAX_VALUE, Math.max(0, Math.floor(value)));
  if (v < 2 * SUB) return v;
  const shift = 31 - Math.clz32(v) - SUB_BITS;
  return (shift + 1) * SUB + ((v >>> shift) - SUB);
}

/** The middle of a bucket's value range. */
function valueOf(index: number): number {
  if (index < 2 * SUB) return index;
  const shift = Math.floor(index / SUB) - 1;
  const low = (index - (shift + 1) * SUB + SUB) << shift;
  return low + ((1 << shift) - 1) / 2;
}

/** Sparse form for IPC and JSON: [bucket, count] pairs. */
export type HistogramData = Array<[number, number]>;

export class Histogram {
  #counts: number[] = [];
  #total = 0;
  #max = 0;

  record(value: number): void {
    const i = indexOf(value);
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.#total++;
    if (value > this.#max) this.#max = value;
  }

  get count(): number {
    return this.#total;
  }

  get max(): number {
    return this.#max;
  }

  merge(other: Histogram): void {
    other.#counts.forEach((n, i) => {
      this.#counts[i] = (this.#counts[i] ?? 0) + n;
    });
    this.#total += other.#total;
    this.#max = Math.max(this.#max, other.#max);
  }

  /** The value at quantile q (0..1), or NaN when empty. */
  quantile(q: number): number {
    if (this.#total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return Math.min(valueOf(i), this.#max);
    }
    return this.#max;
  }

  toData(): HistogramData {
    const out: HistogramData = [];
    this.#counts.forEach((n, i) => {
      if (n > 0) out.push([i, n]);
    });
    return out;
  }

  /** `max` travels separately because buckets only bound it. */
  static fromData(data: HistogramData, max: number): Histogram {
    const h = new Histogram();
    for (const [i, n] of data) {
      h.#counts[i] = (h.#counts[i] ?? 0) + n;
      h.#total += n;
    }
    h.#max = max;
    return h;
  }
}

/** Latency summary in milliseconds, as reported. */
export interface LatencySummary {
  samples: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export function summarize(h: Histogram, unitsPerMs = 1000): LatencySummary {
  const ms = (v: number): number => Math.round((v / unitsPerMs) * 100) / 100;
  return { samples: h.count, p50: ms(h.quantile(0.5)), p99: ms(h.quantile(0.99)), p999: ms(h.quantile(0.999)), max: ms(h.max) };
}
