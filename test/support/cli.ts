/**
 * Test helpers for the `fazlab` command as users run it: a child process of `bin/fazlab.js` (the
 * compiled dist/, so `npm run build` first) on the test runner's Node. `runFazlab` runs a
 * command to its end; `startFazlab` keeps one running (`up`, `logs --follow`), lets a test wait
 * for a stdout line, and stops it with SIGINT as Ctrl-C would.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..")
export const FAZLAB_BIN = path.join(REPO_ROOT, "bin", "fazlab.js")

export interface CliResult {
  /** The exit code; null when the process was ended by a signal. */
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface CliOptions {
  /** The working directory of the command; pass absolute paths to files outside it. */
  readonly cwd: string
  /** Added to the test process's environment. */
  readonly env?: Readonly<Record<string, string>>
  /** The process is killed (SIGKILL) and the promise rejects after this long. Default 20 s. */
  readonly timeoutMs?: number
  /** Run it in this network namespace (`ip netns exec NS`, which execs it: the child is fazlab itself). */
  readonly netns?: string
}

const made: string[] = []

/** A fresh empty folder under the OS temp folder, for a command's cwd or data; see `removeTempDirs`. */
export const tempDir = (prefix = "fazlab-cli-"): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  made.push(dir)
  return dir
}

/** Removes every folder `tempDir` made in this test file (call it from afterAll). */
export const removeTempDirs = (): void => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
}

const spawnFazlab = (args: ReadonlyArray<string>, options: CliOptions): ChildProcess =>
  spawn(options.netns === undefined ? process.execPath : "ip", [...(options.netns === undefined ? [] : ["netns", "exec", options.netns, process.execPath]), FAZLAB_BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"]
  })

const describeCommand = (args: ReadonlyArray<string>): string => `fazlab ${args.join(" ")}`

/** Runs `fazlab ...args` to its end and collects its output and exit code. */
export const runFazlab = (args: ReadonlyArray<string>, options: CliOptions): Promise<CliResult> => {
  const child = spawnFazlab(args, options)
  const timeoutMs = options.timeoutMs ?? 20_000
  let stdout = ""
  let stderr = ""
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${describeCommand(args)} did not finish within ${timeoutMs} ms; stderr so far:\n${stderr}`))
    }, timeoutMs)
    child.once("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

export interface RunningFazlab {
  readonly child: ChildProcess
  /** Every complete stdout line so far, in order. */
  readonly lines: ReadonlyArray<string>
  /** Everything on stderr so far. */
  stderr(): string
  /**
   * Resolves with the first stdout line (already printed or future) that matches; rejects when
   * the process exits first or after `timeoutMs` (default 10 s). `index` counts lines from 0.
   */
  waitForLine(predicate: (line: string, index: number) => boolean, timeoutMs?: number): Promise<string>
  /** Sends SIGINT (Ctrl-C) and resolves when the process has exited; SIGKILL after `timeoutMs`. */
  interrupt(timeoutMs?: number): Promise<CliResult>
  /** Resolves when the process has exited on its own; rejects after `timeoutMs` (default 10 s), leaving it running. */
  exited(timeoutMs?: number): Promise<CliResult>
  /** Kills the process if it still runs (for afterEach); resolves when it has exited. */
  kill(): Promise<void>
}

/** Starts `fazlab ...args` and keeps it running; stop it with `interrupt()` or `kill()`. */
export const startFazlab = (args: ReadonlyArray<string>, options: CliOptions): RunningFazlab => {
  const child = spawnFazlab(args, options)
  const lines: string[] = []
  const watchers = new Set<() => void>()
  let partial = ""
  let stdout = ""
  let stderr = ""
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null
  const closed = new Promise<void>((resolve) => {
    child.once("close", (code, signal) => {
      if (partial !== "") lines.push(partial)
      partial = ""
      exit = { code, signal }
      resolve()
      for (const watcher of watchers) watcher()
    })
  })
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk
    const parts = (partial + chunk).split("\n")
    partial = parts.pop() ?? ""
    if (parts.length === 0) return
    lines.push(...parts)
    for (const watcher of watchers) watcher()
  })
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))

  const result = (): CliResult => ({ code: exit?.code ?? null, signal: exit?.signal ?? null, stdout, stderr })
  const tail = () => `last stdout lines:\n${lines.slice(-5).join("\n")}\nstderr:\n${stderr}`

  const waitForLine = (predicate: (line: string, index: number) => boolean, timeoutMs = 10_000): Promise<string> =>
    new Promise((resolve, reject) => {
      let checked = 0
      const check = () => {
        for (; checked < lines.length; checked++) {
          const line = lines[checked] as string
          if (predicate(line, checked)) {
            done()
            return resolve(line)
          }
        }
        if (exit !== null) {
          done()
          reject(new Error(`${describeCommand(args)} exited (code ${exit.code}, signal ${exit.signal}) before printing the line waited for; ${tail()}`))
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`${describeCommand(args)} printed no matching line within ${timeoutMs} ms; ${tail()}`))
      }, timeoutMs)
      const done = () => {
        clearTimeout(timer)
        watchers.delete(check)
      }
      watchers.add(check)
      check()
    })

  /** Whether the process exited within `timeoutMs`. */
  const exitsWithin = async (timeoutMs: number): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)))
    const outcome = await Promise.race([closed, timedOut])
    clearTimeout(timer)
    return outcome !== "timeout"
  }

  const interrupt = async (timeoutMs = 10_000): Promise<CliResult> => {
    if (exit === null) child.kill("SIGINT")
    if (!(await exitsWithin(timeoutMs))) {
      child.kill("SIGKILL")
      await closed
      throw new Error(`${describeCommand(args)} did not stop within ${timeoutMs} ms of SIGINT; ${tail()}`)
    }
    return result()
  }

  const exited = async (timeoutMs = 10_000): Promise<CliResult> => {
    if (!(await exitsWithin(timeoutMs))) throw new Error(`${describeCommand(args)} did not exit within ${timeoutMs} ms; ${tail()}`)
    return result()
  }

  const kill = async (): Promise<void> => {
    if (exit === null) child.kill("SIGKILL")
    await closed
  }

  return { child, lines, stderr: () => stderr, waitForLine, interrupt, exited, kill }
}

/** Parses a JSON line (headless events, `logs --json`); null when the line is not a JSON object. */
export const jsonLine = (line: string): Record<string, unknown> | null => {
  try {
    const value: unknown = JSON.parse(line)
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : null
  } catch {
    return null
  }
}
