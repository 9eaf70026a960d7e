/**
 * A lab for a benchmark process, started on the real clock with kernel-chosen ports and closed
 * by the caller: what the receivers (`receiver.ts`, `oftp-receiver.ts`) and the FortiGates'
 * process (`oftp-fleet.ts`) share. The lab's modules are imported only when a lab starts, so a
 * process that never starts one (a bare sink) keeps the RSS of a bare server.
 */
import type { LabEvent } from "../src/events/events.ts"
import type { Lab } from "../src/lab/lab.ts"
import type { Addressing } from "../src/net/port-plan.ts"

export interface BenchLabOptions {
  /** The scenario's YAML, and the file name its errors would name. */
  readonly yaml: string
  readonly file: string
  /** Where the stores go; null keeps them in memory. */
  readonly dataDir: string | null
  readonly addressing: Addressing
  readonly onEvent: (event: LabEvent) => void
}

export interface BenchLab {
  readonly lab: Lab
  /** Stops the lab: flushes and closes its stores. */
  close(): Promise<void>
}

export const startBenchLab = async (options: BenchLabOptions): Promise<BenchLab> => {
  const [{ Effect, Exit, Scope }, { Lab: LabClass }, { parseScenario }, { RealLabClock }] = await Promise.all([
    import("effect"),
    import("../src/lab/lab.ts"),
    import("../src/lab/scenario/load.ts"),
    import("../src/machines/clock.ts")
  ])
  const scope = await Effect.runPromise(Scope.make())
  const lab = await Effect.runPromise(
    Scope.provide(scope)(
      LabClass.make({
        scenario: parseScenario(options.yaml, options.file, { stepsRequired: false }),
        dataDir: options.dataDir,
        portBase: "ephemeral",
        addressing: options.addressing,
        clock: new RealLabClock(),
        onEvent: options.onEvent
      })
    )
  )
  return { lab, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
