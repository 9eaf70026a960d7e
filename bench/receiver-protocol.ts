/**
 * What the benchmark's two receivers (`receiver.ts` for syslog, `oftp-receiver.ts` for OFTP)
 * share: the batch `Counter` their rate comes from, and their side of the JSON-lines talk with
 * `bench/run.ts`: print `{"type":"ready",...}` once bound, read one `{"expect":...}` line on
 * stdin, wait until that many are counted or nothing new came for `IDLE_MS` (bounded by
 * `MAX_WAIT_MS`), then print the report. Imports nothing of the lab, so a bare sink's RSS stays
 * that of a bare server.
 */
import * as readline from "node:readline"
import { now } from "./measure.ts"

/** Nothing new for this long after the sender finished means the rest is lost. */
const IDLE_MS = 2000
const MAX_WAIT_MS = 60_000

/** The counter's part of a receiver's report. */
export interface Counted {
  /** Messages or records counted. */
  readonly received: number
  /** Events that brought them (datagrams, TCP reads, LOGS frames, `logs-stored` events). */
  readonly batches: number
  /** Per second from the first batch to the last one (the first batch left out). */
  readonly rate: number
  /** Wall-clock ms (performance.timeOrigin based) of the first and last batch. */
  readonly firstAt: number
  readonly lastAt: number
}

/**
 * Counts batches: a batch is what one event brought. The rate leaves the first batch out and
 * divides by the time from it to the last one, so it does not depend on when the sender
 * happened to start.
 */
export class Counter {
  received = 0
  batches = 0
  firstAt = 0
  firstCount = 0
  lastAt = 0
  #onProgress: (() => void) | null = null

  add(count: number): void {
    if (count === 0) return
    const at = now()
    if (this.received === 0) {
      this.firstAt = at
      this.firstCount = count
    }
    this.received += count
    this.batches++
    this.lastAt = at
    this.#onProgress?.()
  }

  get rate(): number {
    return this.lastAt > this.firstAt ? ((this.received - this.firstCount) * 1000) / (this.lastAt - this.firstAt) : 0
  }

  counted(): Counted {
    return { received: this.received, batches: this.batches, rate: this.rate, firstAt: this.firstAt, lastAt: this.lastAt }
  }

  /** Resolves once `expected` are counted, or nothing new came for `IDLE_MS`, or after `MAX_WAIT_MS`. */
  waitFor(expected: number): Promise<void> {
    return new Promise((resolve) => {
      const hardStop = setTimeout(done, MAX_WAIT_MS)
      let idle = setTimeout(done, IDLE_MS)
      const self = this
      function done(): void {
        clearTimeout(hardStop)
        clearTimeout(idle)
        self.#onProgress = null
        resolve()
      }
      this.#onProgress = () => {
        if (this.received >= expected) return done()
        clearTimeout(idle)
        idle = setTimeout(done, IDLE_MS)
      }
      if (this.received >= expected) done()
    })
  }
}

/** Prints `{"type":"ready",...fields}`: the receiver is bound and `run.ts` may start the sender. */
export const announceReady = (fields: Readonly<Record<string, unknown>>): void => {
  process.stdout.write(`${JSON.stringify({ type: "ready", ...fields })}\n`)
}

/** The `expect` of the first line on stdin (`{"expect":...}`), or undefined; stdin is closed after it. */
export const readExpect = (): Promise<unknown> =>
  new Promise((resolve) => {
    const lines = readline.createInterface({ input: process.stdin })
    lines.once("line", (line) => {
      lines.close()
      process.stdin.destroy()
      const parsed: unknown = JSON.parse(line)
      resolve(typeof parsed === "object" && parsed !== null && "expect" in parsed ? parsed.expect : undefined)
    })
  })

/** Prints the receiver's report as its last JSON line. */
export const printReport = (report: object): void => {
  process.stdout.write(`${JSON.stringify(report)}\n`)
}
