/**
 * The in-repo render helper for ink components (what ink-testing-library does): a fake
 * terminal stdout with a size, a fake stdin that accepts raw key presses, `render` in debug
 * mode so every frame is written whole, and `waitForFrame`, which re-checks on every frame
 * written instead of sleeping.
 */
import { EventEmitter } from "node:events"
import { stripVTControlCharacters } from "node:util"
import { render, type Instance } from "ink"
import type { ReactNode } from "react"

/** A terminal's stdout: ink reads `columns`, `rows` and `isTTY`, and writes frames. */
class FakeStdout extends EventEmitter {
  readonly isTTY = true
  columns: number
  rows: number
  readonly frames: string[] = []

  constructor(columns: number, rows: number) {
    super()
    this.columns = columns
    this.rows = rows
  }

  write(text: string, callback?: () => void): boolean {
    this.frames.push(text)
    this.emit("frame")
    callback?.()
    return true
  }
}

/** A terminal's stdin in raw mode: `press` queues bytes and tells ink they are readable. */
class FakeStdin extends EventEmitter {
  readonly isTTY = true
  private readonly queued: string[] = []

  setRawMode(): this {
    return this
  }
  setEncoding(): this {
    return this
  }
  ref(): this {
    return this
  }
  unref(): this {
    return this
  }
  resume(): this {
    return this
  }
  pause(): this {
    return this
  }
  read(): string | null {
    return this.queued.shift() ?? null
  }
  press(data: string): void {
    this.queued.push(data)
    this.emit("readable")
  }
}

/** Raw key sequences as a terminal sends them. */
export const KEYS = {
  tab: "\t",
  shiftTab: "\u001B[Z",
  up: "\u001B[A",
  down: "\u001B[B",
  escape: "\u001B"
} as const

export interface Rendered {
  /** The last frame written, without colour codes. */
  lastFrame(): string
  /** Resolves with the first frame (the current one or a later one) that `predicate` accepts; rejects after `timeoutMs`. */
  waitForFrame(predicate: (frame: string) => boolean, timeoutMs?: number): Promise<string>
  /** Sends raw bytes as typed keys. */
  press(data: string): void
  /** Changes the terminal's size, as a window resize does. */
  resize(columns: number, rows: number): void
  readonly instance: Instance
  unmount(): void
}

export const renderUi = (node: ReactNode, size: { readonly columns: number; readonly rows: number } = { columns: 80, rows: 24 }): Rendered => {
  const stdout = new FakeStdout(size.columns, size.rows)
  const stdin = new FakeStdin()
  const instance = render(node, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
    interactive: true
  })
  const lastFrame = () => stripVTControlCharacters(stdout.frames.at(-1) ?? "")
  const waitForFrame = (predicate: (frame: string) => boolean, timeoutMs = 5000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const frame = lastFrame()
        if (!predicate(frame)) return
        clearTimeout(timer)
        stdout.off("frame", check)
        resolve(frame)
      }
      const timer = setTimeout(() => {
        stdout.off("frame", check)
        reject(new Error(`no matching frame within ${timeoutMs} ms; last frame:\n${lastFrame()}`))
      }, timeoutMs)
      stdout.on("frame", check)
      check()
    })
  return {
    lastFrame,
    waitForFrame,
    press: (data) => stdin.press(data),
    resize: (columns, rows) => {
      stdout.columns = columns
      stdout.rows = rows
      stdout.emit("resize")
    },
    instance,
    unmount: () => instance.unmount()
  }
}
