/**
 * "Run a scenario step now" during `fazlab run`: a step at 60 s starts as soon as the control
 * channel's `step` arrives (seen by its events, within a deadline far below 60 s), the reply
 * names it, a `step` with no step left is refused in a sentence, and the run reports as usual.
 */
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { type ControlClient, ControlClientError, connectControl } from "../../src/control/client.ts"
import { type ControlServer, serveControl } from "../../src/control/server.ts"
import type { LabEvent } from "../../src/events/events.ts"
import { runScenario } from "../../src/lab/runner.ts"
import { parseScenario } from "../../src/lab/scenario/load.ts"
import { RealLabClock } from "../../src/machines/clock.ts"

const YAML = `
name: step-now
devices:
  faz-1: { kind: fortianalyzer }
  fgt-1: { kind: fortigate, syslog: { server: faz-1, mode: udp, rate: 20/s } }
steps:
  - title: the analyzer listens
    expect:
      - listening: { device: faz-1, port: udp/514 }
  # Checked for about 2 s after it starts: time to ask for a step when none is left.
  - title: a minute later, 40 logs are in
    at: 60s
    within: 10s
    expect:
      - logs: { from: fgt-1, at-least: 40 }
`

/** Far below the step's 60 s: the step started because it was asked to. */
const DEADLINE_MS = 15_000

/** `step`, asked again while the runner is still between the step before and the wait (it answers "still running"). */
const askStep = async (client: ControlClient): Promise<{ step: number; title: string }> => {
  for (;;) {
    try {
      return await client.command({ name: "step" })
    } catch (error) {
      if (!(error instanceof ControlClientError) || !error.message.includes("is still running")) throw error
    }
  }
}

describe("step now", () => {
  it("starts the step waiting for 60 s at once, and refuses when no step is left", async () => {
    const began = performance.now()
    const events: LabEvent[] = []
    let served: (server: ControlServer) => void = () => undefined
    const server = new Promise<ControlServer>((resolve) => (served = resolve))
    const run = Effect.runPromise(
      runScenario({
        scenario: parseScenario(YAML, "step-now.yaml"),
        file: "step-now.yaml",
        dataDir: null,
        portBase: "ephemeral",
        addressing: "per-device",
        clock: new RealLabClock(),
        onEvent: (event) => void events.push(event),
        onStarted: (lab) => serveControl(lab, { dataDir: null }).pipe(Effect.tap((control) => Effect.sync(() => served(control))), Effect.asVoid)
      })
    )
    const client = await connectControl(await server)
    const firstChecked = new Promise<void>((resolve) => {
      if (events.some((e) => e.type === "expectation-passed")) resolve()
      client.onEvent((event) => event.type === "expectation-passed" && resolve())
    })
    const finished = new Promise<LabEvent>((resolve) => client.onEvent((event) => event.type === "scenario-finished" && resolve(event)))

    await firstChecked
    expect(await askStep(client)).toEqual({ step: 2, title: "a minute later, 40 logs are in" })
    await expect(client.command({ name: "step" })).rejects.toThrow(
      "step: scenario step-now has no step left to start (all 2 have started)"
    )
    expect(await finished).toMatchObject({ type: "scenario-finished", passed: 2, failed: 0 })
    const result = await run
    expect(performance.now() - began).toBeLessThan(DEADLINE_MS)
    expect(result.expectations.map((e) => e.passed)).toEqual([true, true])
    const second = events.find((e) => e.type === "step-started" && e.step === 2)
    expect(second?.at).toBeLessThan(DEADLINE_MS)
    await client.close()
  })
})
