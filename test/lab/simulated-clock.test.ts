/**
 * `clock: simulated`: scenarios/ha-simulated-clock.yaml plays thirty minutes of HA with
 * FortiOS's own timers in seconds, on real sockets, and gives the same timeline every run. Two
 * runs at once (so they also compete for the CPU) must agree on every role change, split
 * brain, fault, step and expectation: what happened, to whom, why, and at which lab time.
 */
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { REPO_ROOT, removeTempDirs, runFazlab, tempDir } from "../support/cli.ts"

const SCENARIO = path.join(REPO_ROOT, "scenarios", "ha-simulated-clock.yaml")
const TIMELINE_EVENTS = new Set(["ha-role", "ha-split-brain", "ha-split-brain-healed", "ha-heartbeat-missed", "fault", "step-started", "expectation-passed", "expectation-failed"])

/** The events that make the story, each as its lab time and its fields minus addresses (ephemeral ports differ per run). */
const timeline = (stdout: string): ReadonlyArray<string> =>
  stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { readonly type: string; readonly detail?: string })
    .filter((event) => TIMELINE_EVENTS.has(event.type))
    .map(({ detail: _detail, ...event }) => JSON.stringify(event))

const runOnce = async () => {
  const cwd = tempDir()
  const result = await runFazlab(["run", SCENARIO, "--port-base", "ephemeral", "--memory", "--headless", "--out", path.join(cwd, "report.txt")], { cwd, timeoutMs: 60_000 })
  expect(result.code, result.stderr).toBe(0)
  return timeline(result.stdout)
}

describe("a scenario on the simulated clock", () => {
  afterAll(removeTempDirs)

  it("plays thirty minutes of FortiOS timers in seconds and gives the same timeline twice", async () => {
    const [first, second] = await Promise.all([runOnce(), runOnce()])
    const lastAt = (JSON.parse(first.at(-1) ?? "{}") as { readonly at?: number }).at ?? 0
    expect(lastAt).toBeGreaterThanOrEqual(30 * 60_000)
    expect(first.some((line) => line.includes(`"reason":"faz-b became primary: 3 heartbeats missed from faz-a at hb-interval 5 s","at":310000`)), first.join("\n")).toBe(true)
    expect(second).toEqual(first)
  }, 60_000)
})
