/**
 * Cuts a byte stream into LF-terminated lines (a CR before the LF is dropped), for the line
 * protocols fazlab speaks over TCP (FortiRecorder's notify channel, log aggregation). A line
 * longer than the reader's limit ends the stream: `push` says so and gives no more lines.
 */
export class LineReader {
  readonly #maxBytes: number
  #pending = ""
  #dead = false

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  push(chunk: Buffer): { readonly lines: ReadonlyArray<string>; readonly tooLong: boolean } {
    if (this.#dead) return { lines: [], tooLong: true }
    const parts = (this.#pending + chunk.toString("utf8")).split("\n")
    this.#pending = parts.pop() ?? ""
    const lines = parts.map((line) => line.replace(/\r$/u, ""))
    this.#dead = this.#pending.length > this.#maxBytes || lines.some((line) => line.length > this.#maxBytes)
    return { lines: this.#dead ? [] : lines, tooLong: this.#dead }
  }
}
