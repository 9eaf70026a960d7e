/**
 * `fazlab logs --follow` over a running lab's control channel (the compiled CLI, real sockets):
 * logs sent with util-linux `logger` to the lab's UDP/514 appear in a follower that started
 * before them, `--text` filters (in any case), the follower ends when the lab stops, and then
 * `fazlab logs` (without --follow) still reads what the stopped lab stored.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { jsonLine, removeTempDirs, runFazlab, type RunningFazlab, startFazlab, tempDir } from "../support/cli.ts"

const run = promisify(execFile)

const LAB = `
name: follow-test
devices:
  faz-1: { kind: fortianalyzer }
`

describe("fazlab logs --follow", () => {
  let cwd = ""
  let up: RunningFazlab
  let udp = { host: "", port: 0 }
  const followers: RunningFazlab[] = []

  const send = (message: string) => run("logger", ["--server", udp.host, "--port", String(udp.port), "--udp", "--rfc3164", "--tag", "fgt", message])

  beforeAll(async () => {
    cwd = tempDir()
    fs.writeFileSync(path.join(cwd, "lab.yaml"), LAB)
    up = startFazlab(["up", "lab.yaml", "--port-base", "ephemeral"], { cwd })
    // Printed once the control channel is served: "  faz-1        udp/514   -> 127.0.1.1:40514".
    await up.waitForLine((line) => line.startsWith("lab follow-test is up"))
    const [, host = "", port = "0"] = /udp\/514\s+-> (\S+):(\d+)$/u.exec(await up.waitForLine((line) => /faz-1\s+udp\/514/u.test(line))) ?? []
    udp = { host, port: Number(port) }
  })

  afterAll(async () => {
    for (const follower of followers) await follower.kill()
    await up.kill()
    removeTempDirs()
  })

  it("prints logs stored after it started, as they are stored; --text filters in any case", async () => {
    const all = startFazlab(["logs", "--follow", "--json"], { cwd })
    const marked = startFazlab(["logs", "--follow", "--text", "MARKER-2"], { cwd })
    followers.push(all, marked)
    await send("marker-1 deny from 10.0.0.1")
    const first = jsonLine(await all.waitForLine((line) => line.includes("marker-1")))
    expect(first).toMatchObject({ device: expect.any(String), raw: expect.stringContaining("marker-1 deny from 10.0.0.1") })
    await send("marker-2 deny from 10.0.0.2")
    const second = jsonLine(await all.waitForLine((line) => line.includes("marker-2")))
    expect(Number(second?.["id"])).toBeGreaterThan(Number(first?.["id"]))
    const text = await marked.waitForLine((line) => line.includes("marker-2"))
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \S+ -\/- - .*marker-2 deny from 10\.0\.0\.2$/)
    expect(marked.lines.some((line) => line.includes("marker-1"))).toBe(false)
  })

  it("ends (exit 0) when the lab stops; without --follow the stopped lab's logs are still read", async () => {
    const follower = startFazlab(["logs", "--follow"], { cwd })
    followers.push(follower)
    await follower.waitForLine((line) => line.includes("marker-2"))
    const exited = new Promise<number | null>((resolve) => follower.child.once("exit", (code) => resolve(code)))
    const stopped = await up.interrupt()
    expect(stopped.code, stopped.stderr).toBe(0)
    expect(await exited).toBe(0)
    expect(follower.stderr()).toBe("fazlab logs: the lab stopped\n")
    const stored = await runFazlab(["logs", "--json"], { cwd })
    expect(stored.code, stored.stderr).toBe(0)
    expect(stored.stdout).toContain("marker-1")
    expect(stored.stdout).toContain("marker-2")
    const refused = await runFazlab(["logs", "--follow"], { cwd })
    expect(refused.code).toBe(2)
    expect(refused.stderr.trim()).toBe(
      `fazlab logs: no running lab found under ${path.join(cwd, ".fazlab")}; start one here with fazlab up, or pass --lab DIR or --control URL --token T; without --follow, fazlab logs reads a stopped lab's stored logs`
    )
  })
})
