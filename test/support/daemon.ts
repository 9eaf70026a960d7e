/**
 * A third-party daemon a test runs in the foreground as its own child process (rsyslogd,
 * snmptrapd): started in a temporary folder of its own, stopped with SIGTERM and its folder removed.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"

export interface Daemon {
  readonly child: ChildProcess
  readonly dir: string
  readonly exited: Promise<void>
  stop(): Promise<void>
}

/** A fresh folder for the daemon's configuration and state, before it is spawned. */
export const daemonDir = (name: string): string => mkdtempSync(path.join(tmpdir(), `fazlab-${name}-`))

export const spawnDaemon = (dir: string, command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): Daemon => {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  return {
    child,
    dir,
    exited,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM")
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
