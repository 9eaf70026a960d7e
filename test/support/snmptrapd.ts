/**
 * A real net-snmp `snmptrapd` as a test's trap receiver: in the foreground (the test's own
 * process), its own configuration (community `public` logged), numeric OIDs and no MIBs, on one
 * loopback UDP port. What it prints is kept; `waitFor` waits for a printed trap.
 */
import { writeFileSync } from "node:fs"
import * as path from "node:path"
import { daemonDir, spawnDaemon } from "./daemon.ts"
import { freePortBase } from "./ports.ts"

export interface Snmptrapd {
  readonly port: number
  /** Everything it printed since it started. */
  output(): string
  waitFor(predicate: (output: string) => boolean, timeoutMs?: number): Promise<string>
  stop(): Promise<void>
}

export const startSnmptrapd = async (): Promise<Snmptrapd> => {
  const dir = daemonDir("snmptrapd")
  const port = (await freePortBase(["udp/162"])) + 162
  writeFileSync(path.join(dir, "snmptrapd.conf"), "authCommunity log public\n")
  const daemon = spawnDaemon(
    dir,
    "snmptrapd",
    ["-f", "-Lo", "-On", "-m", "", "-C", "-c", path.join(dir, "snmptrapd.conf"), "-p", path.join(dir, "pid"), `udp:127.0.0.1:${port}`],
    { ...process.env, SNMP_PERSISTENT_DIR: dir }
  )
  const child = daemon.child
  let output = ""
  const listeners = new Set<() => void>()
  const take = (chunk: Buffer) => {
    output += chunk.toString()
    for (const listener of listeners) listener()
  }
  child.stdout?.on("data", take)
  child.stderr?.on("data", take)

  const waitFor = (predicate: (output: string) => boolean, timeoutMs = 10_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(output)) return
        clearTimeout(timer)
        listeners.delete(check)
        resolve(output)
      }
      const timer = setTimeout(() => {
        listeners.delete(check)
        reject(new Error(`snmptrapd did not print what was expected within ${timeoutMs} ms; it printed: ${output.slice(-600)}`))
      }, timeoutMs)
      listeners.add(check)
      check()
    })

  // It prints its version once it listens.
  await Promise.race([
    waitFor((text) => text.includes("NET-SNMP version")),
    daemon.exited.then(() => Promise.reject(new Error(`snmptrapd exited: ${output.trim()}`)))
  ])
  return {
    port,
    output: () => output,
    waitFor,
    stop: daemon.stop
  }
}
