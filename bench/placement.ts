/**
 * The network-namespace lab part of `npm run bench` (`--only netns`), run by `bench/run.ts`: how
 * long scenarios/firewall-regression.yaml (an HA pair, a FortiManager and a FortiGate, each in
 * its namespace behind the router's nftables, with firewall/allow-all.nft) takes to come up and
 * to go down, and how long `fazlab probe` takes to check every incoming flow of the catalog in it.
 *
 * - up: from spawning `fazlab up LAB --headless` to the last device's `device-started` line and
 *   the HA primary's virtual-IP listeners (target < 3 s);
 * - down: from SIGINT to the process's exit with every namespace of the lab gone (target < 3 s);
 * - probe: `fazlab probe --lab DIR --direction in --json` against the running lab, every flow
 *   checked from the namespace of a device of its source role (target < 10 s, every probed flow
 *   passing).
 *
 * Needs Linux, root and `ip netns`: without them the part says it is skipped. Only the lab's own
 * namespaces are addressed; a run that fails removes them with `fazlab down --netns`.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import * as readline from "node:readline"
import { promisify } from "node:util"
import { FAZLAB_BIN, ROOT } from "./paths.ts"

const exec = promisify(execFile)

const UP_TARGET_MS = 3000
const DOWN_TARGET_MS = 3000
const PROBE_TARGET_MS = 10_000
/** Up and down are measured this many times (the probe in the first run). */
export const NETNS_RUNS = 3
/** A step that takes longer than this is an error, not a figure. */
const STEP_TIMEOUT_MS = 60_000

export interface NetnsBenchResult {
  readonly lines: ReadonlyArray<string>
  readonly verdict: string
}

const now = (): number => performance.now()

const median = (values: ReadonlyArray<number>): number => {
  const sorted = values.toSorted((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] ?? 0 : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

const canNetns = async (): Promise<string | null> => {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return "netns labs need Linux and root"
  return exec("ip", ["netns", "list"]).then(() => null, () => "netns labs need ip netns (iproute2)")
}

const namespacesOf = async (lab: string): Promise<number> =>
  (await exec("ip", ["netns", "list"])).stdout.split("\n").filter((line) => line.startsWith(`fz-${lab} `) || line === `fz-${lab}` || line.startsWith(`fz-${lab}-`)).length

/** Resolves when every predicate has matched one stdout JSON line of the child; rejects on exit or after STEP_TIMEOUT_MS. */
const waitForAll = (child: ChildProcess, wanted: ReadonlyArray<(event: Record<string, unknown>) => boolean>): Promise<void> =>
  new Promise((resolve, reject) => {
    const left = new Set(wanted)
    const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream })
    const done = (error: Error | null) => {
      clearTimeout(timer)
      lines.close()
      child.off("exit", exited)
      if (error === null) resolve()
      else reject(error)
    }
    const exited = () => done(new Error("fazlab up exited before the lab was up"))
    const timer = setTimeout(() => done(new Error(`the lab was not up within ${STEP_TIMEOUT_MS / 1000} s`)), STEP_TIMEOUT_MS)
    child.once("exit", exited)
    lines.on("line", (line) => {
      let event: Record<string, unknown>
      try {
        event = JSON.parse(line) as Record<string, unknown>
      } catch {
        return
      }
      for (const predicate of left) if (predicate(event)) left.delete(predicate)
      if (left.size === 0) done(null)
    })
  })

interface Run {
  readonly upMs: number
  readonly downMs: number
  readonly probe: { readonly ms: number; readonly flows: number; readonly failed: ReadonlyArray<string> } | null
}

const runOnce = async (tmp: string, index: number, withProbe: boolean): Promise<Run> => {
  const lab = `bench-netns-${process.pid}-${index}`
  const dir = path.join(tmp, lab)
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, "lab.yaml")
  const text = fs.readFileSync(path.join(ROOT, "scenarios", "firewall-regression.yaml"), "utf8")
    .replace("name: firewall-regression", `name: ${lab}`)
    .replace("nftables: firewall/allow-all.nft", `nftables: ${path.join(ROOT, "scenarios", "firewall", "allow-all.nft")}`)
  fs.writeFileSync(file, text)
  const devices = ["faz-a", "faz-b", "fmg-1", "fgt-1"]
  const dataDir = path.join(dir, "data")
  const started = now()
  const child = spawn(process.execPath, [FAZLAB_BIN, "up", file, "--headless", "--data-dir", dataDir], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })
  try {
    await waitForAll(child, [
      ...devices.map((device) => (event: Record<string, unknown>) => event["type"] === "device-started" && event["device"] === device),
      (event) => event["type"] === "listener-bound" && event["device"] === "lab" && event["port"] === "tcp/514"
    ])
    const upMs = now() - started
    let probe: Run["probe"] = null
    if (withProbe) {
      const before = now()
      const result = await exec(process.execPath, [FAZLAB_BIN, "probe", "--lab", dataDir, "--direction", "in", "--json"], { cwd: dir, timeout: STEP_TIMEOUT_MS }).catch(
        (error: { stdout?: string; code?: number }) => ({ stdout: error.stdout ?? "" })
      )
      const ms = now() - before
      const report = JSON.parse(result.stdout) as { readonly flows: ReadonlyArray<{ readonly id: string; readonly outcome: string; readonly verdict: string }> }
      const probed = report.flows.filter((flow) => flow.outcome !== "not-probed")
      probe = { ms, flows: probed.length, failed: probed.filter((flow) => flow.verdict !== "pass").map((flow) => flow.id) }
    }
    const stopping = now()
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
    child.kill("SIGINT")
    await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error("the lab did not go down within 60 s")), STEP_TIMEOUT_MS).unref())])
    const downMs = now() - stopping
    const left = await namespacesOf(lab)
    if (left > 0) throw new Error(`${left} namespaces of the lab were left behind`)
    return { upMs, downMs, probe }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    await exec(process.execPath, [FAZLAB_BIN, "down", "--netns", lab], { cwd: dir }).catch(() => undefined)
  }
}

/** Up, down and the incoming probe matrix of the firewall-regression lab in namespaces. */
export const runNetnsBench = async (tmp: string, log: (line: string) => void): Promise<NetnsBenchResult> => {
  const problem = await canNetns()
  if (problem !== null) return { lines: [`netns lab: SKIPPED (${problem})`], verdict: `SKIPPED: ${problem}` }
  const runs: Run[] = []
  try {
    for (let i = 0; i < NETNS_RUNS; i++) {
      log(`  netns lab run ${i + 1} of ${NETNS_RUNS}`)
      runs.push(await runOnce(tmp, i, i === 0))
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return { lines: [`netns lab: ERROR: ${reason}`], verdict: `ERROR: ${reason}` }
  }
  const up = median(runs.map((run) => run.upMs))
  const down = median(runs.map((run) => run.downMs))
  const probe = runs[0]?.probe ?? null
  const missed: string[] = []
  if (up >= UP_TARGET_MS) missed.push("up")
  if (down >= DOWN_TARGET_MS) missed.push("down")
  if (probe === null || probe.ms >= PROBE_TARGET_MS) missed.push("probe time")
  if (probe !== null && probe.failed.length > 0) missed.push("probe verdicts")
  const ms = (values: ReadonlyArray<number>) => `median ${median(values).toFixed(0)} ms (runs: ${values.map((v) => v.toFixed(0)).join(", ")})`
  return {
    lines: [
      `  up (spawn to every device started and the HA virtual IP listening), target < ${UP_TARGET_MS} ms: ${ms(runs.map((run) => run.upMs))}`,
      `  down (SIGINT to exit, no namespace left), target < ${DOWN_TARGET_MS} ms: ${ms(runs.map((run) => run.downMs))}`,
      probe === null
        ? "  probe: not run"
        : `  probe of every incoming flow (fazlab probe --lab --direction in), target < ${PROBE_TARGET_MS} ms: ${probe.ms.toFixed(0)} ms, ${probe.flows} flows probed, ${probe.failed.length === 0 ? "all pass" : `failing: ${probe.failed.join(", ")}`}`
    ],
    verdict: missed.length === 0 ? "PASS" : `MISS (${missed.join(", ")})`
  }
}
