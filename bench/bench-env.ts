/**
 * What `bench/run.ts` lends the parts it runs with child processes (`oftp-run.ts`,
 * `ui-throughput.ts`): its helpers to spawn a Node child that reports JSON lines and to stop
 * one, a temporary folder, where CPU profiles go, and whether to print raw reports.
 */
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

export interface ChildLike {
  readonly process: ChildProcess
  /** The next stdout line that parses as JSON and matches, or rejects after `timeoutMs` / on exit. */
  next<T>(match: (value: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<T>
  readonly exited: Promise<number | null>
}

export interface BenchEnv {
  spawn(args: ReadonlyArray<string>, nodeFlags?: ReadonlyArray<string>): ChildLike
  stop(child: ChildLike): Promise<void>
  /** A temporary folder for the analyzers' stores. */
  readonly tmp: string
  /** Where to write CPU profiles (one folder per process role), or null. */
  readonly profileDir: string | null
  /** `BENCH_DEBUG`: raw reports go to stderr as JSON. */
  readonly debug: boolean
}

/** Node flags that write the CPU profile of a process playing `role` to `<profileDir>/<role>`; none without a profile folder. */
export const profileFlags = (env: BenchEnv, role: string): string[] => {
  if (env.profileDir === null) return []
  const dir = path.join(env.profileDir, role)
  fs.mkdirSync(dir, { recursive: true })
  return ["--cpu-prof", "--cpu-prof-dir", dir]
}
