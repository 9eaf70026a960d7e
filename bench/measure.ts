/**
 * Clock and memory readings shared by the benchmark's processes: wall-clock milliseconds that
 * compare across processes, a rate over a span, and the peaks of V8's heap and of the memory
 * outside it, and a sending process's load for its report. Imports nothing of the lab, so a process that uses it keeps its own RSS.
 */
/** Wall-clock milliseconds (performance.timeOrigin based): comparable between processes. */
export const now = (): number => performance.timeOrigin + performance.now()

/** `count` per second over `from`..`to` (ms), 0 when the span is empty. */
export const perSecond = (count: number, from: number, to: number): number => (to > from ? (count * 1000) / (to - from) : 0)

/** Peaks of V8's used heap and of memory outside it (Buffers, TLS), from `sample()` calls. */
export class MemoryPeaks {
  #heapUsed = 0
  #external = 0
  #timer: ReturnType<typeof setInterval> | null = null

  sample(): void {
    const memory = process.memoryUsage()
    this.#heapUsed = Math.max(this.#heapUsed, memory.heapUsed)
    this.#external = Math.max(this.#external, memory.external + memory.arrayBuffers)
  }

  /** Samples every `ms` until `stop()`. */
  every(ms: number): this {
    this.#timer = setInterval(() => this.sample(), ms)
    return this
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }

  get heapUsedMaxMb(): number {
    return this.#heapUsed / 2 ** 20
  }

  get externalMaxMb(): number {
    return this.#external / 2 ** 20
  }
}

/** A process's load, as the OFTP senders report it (`OftpFleetReport`). */
export interface ProcessLoad {
  /** Peak resident set size of this process, KiB. */
  readonly maxRssKiB: number
  readonly heapUsedMaxMb: number
  readonly externalMaxMb: number
  /** Event-loop delay over the run, ms (p99 and max). */
  readonly loopDelayP99Ms: number
  readonly loopDelayMaxMs: number
}

/** The load so far, from the memory peaks and a `monitorEventLoopDelay` histogram (ns). */
export const processLoad = (memory: MemoryPeaks, loop: { percentile(p: number): number; readonly max: number }): ProcessLoad => ({
  maxRssKiB: process.resourceUsage().maxRSS,
  heapUsedMaxMb: memory.heapUsedMaxMb,
  externalMaxMb: memory.externalMaxMb,
  loopDelayP99Ms: loop.percentile(99) / 1e6,
  loopDelayMaxMs: loop.max / 1e6
})
