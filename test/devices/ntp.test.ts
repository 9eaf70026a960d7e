/**
 * NTP against a real client: `sntp` has no port option, so the lab runs as `fazlab up` on the
 * documented ports inside a network namespace the test creates, and `sntp` asks the lab's NTP
 * server there on UDP/123. The analyzer in the same lab (`config system ntp`) syncs from it and
 * reports the offset and stratum sntp sees too.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { FAZLAB_BIN, jsonLine, removeTempDirs, tempDir } from "../support/cli.ts"

const run = promisify(execFile)
const ns = `fazlab-ntp-${process.pid}`

const LAB = `
name: ntp-test
devices:
  ntp-1:
    kind: ntp-server
    stratum: 2
    clock-offset: 1500
  faz-1:
    kind: fortianalyzer
    ntp:
      status: enable
      ntpserver: [{ id: 1, server: ntp-1 }]
`

let lab: ChildProcess
const events: Array<Record<string, unknown>> = []
const waiters = new Set<() => void>()

const waitForEvent = (predicate: (event: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => {
    const check = () => {
      const found = events.find(predicate)
      if (found === undefined) return
      clearTimeout(timer)
      waiters.delete(check)
      resolve(found)
    }
    const timer = setTimeout(() => {
      waiters.delete(check)
      reject(new Error(`no matching event from the lab in the namespace within ${timeoutMs} ms; last: ${JSON.stringify(events.slice(-3))}`))
    }, timeoutMs)
    waiters.add(check)
    check()
  })

beforeAll(async () => {
  await run("ip", ["netns", "add", ns])
  await run("ip", ["-n", ns, "link", "set", "lo", "up"])
  const dir = tempDir()
  const file = path.join(dir, "ntp.yaml")
  writeFileSync(file, LAB)
  lab = spawn("ip", ["netns", "exec", ns, process.execPath, FAZLAB_BIN, "up", file, "--headless", "--memory", "--port-base", "0"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })
  let partial = ""
  lab.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n")
    partial = parts.pop() ?? ""
    for (const line of parts) {
      const event = jsonLine(line)
      if (event !== null) events.push(event)
    }
    for (const waiter of waiters) waiter()
  })
})

afterAll(async () => {
  if (lab.exitCode === null) {
    const exited = new Promise((resolve) => lab.once("exit", resolve))
    lab.kill("SIGINT")
    await exited
  }
  await run("ip", ["netns", "del", ns])
  removeTempDirs()
})

describe("NTP in a network namespace", () => {
  it("answers sntp on UDP/123 with its stratum and its clock 1.5 s ahead", async () => {
    const bound = await waitForEvent((event) => event["type"] === "listener-bound" && event["device"] === "ntp-1" && event["port"] === "udp/123")
    expect(bound["actualPort"]).toBe(123)
    const { stdout } = await run("ip", ["netns", "exec", ns, "sntp", "-t", "2", String(bound["address"])])
    // e.g. "2026-12-05 07:10:00.123456 (+0000) +1.500123 +/- 0.000021 127.0.1.1 s2 no-leap"
    const line = stdout.trim().split("\n").at(-1) ?? ""
    const match = /([+-]\d+\.\d+) \+\/- \d+\.\d+ (\S+) s(\d+)/u.exec(line)
    expect(match, stdout).not.toBeNull()
    expect(Math.abs(Number(match?.[1]) - 1.5)).toBeLessThan(0.2)
    expect(match?.[2]).toBe(bound["address"])
    expect(match?.[3]).toBe("2")
  })

  it("lets the analyzer sync from it and report the same offset and stratum", async () => {
    const synced = await waitForEvent((event) => event["type"] === "ntp-sync" && event["device"] === "faz-1")
    expect(synced["stratum"]).toBe(2)
    expect(Math.abs(Number(synced["offset"]) - 1500)).toBeLessThan(200)
    expect(String(synced["reason"])).toMatch(/^faz-1 synced from ntp-1 \(stratum 2\): offset \+1\d{3}\.\d ms, delay \d+\.\d ms$/u)
  })
})
