/**
 * Test helpers: start a lab from YAML on kernel-chosen ports (tests run in parallel), and wait
 * for events on its bus instead of sleeping.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { FortiAnalyzer } from "../../src/devices/fortianalyzer/analyzer.ts"
import type { KindRegistry } from "../../src/devices/registry.ts"
import type { LabEvent } from "../../src/events/events.ts"
import type { EventBus } from "../../src/events/bus.ts"
import { Lab } from "../../src/lab/lab.ts"
import { parseScenario } from "../../src/lab/scenario/load.ts"
import { type LabClock, RealLabClock } from "../../src/machines/clock.ts"

export interface StartedLab {
  readonly lab: Lab
  readonly events: LabEvent[]
  close(): Promise<void>
}

export const startLab = async (
  yaml: string,
  options: {
    readonly dataDir?: string | null
    readonly clock?: LabClock
    /** A fixed port base on 127.0.0.1 for every device (a test that must know a port beforehand); kernel-chosen ports per device otherwise. */
    readonly portBase?: number
    /** Device kinds beyond the shipped ones (a test's fixture kind). */
    readonly registry?: KindRegistry
  } = {}
): Promise<StartedLab> => {
  const scope = await Effect.runPromise(Scope.make())
  const events: LabEvent[] = []
  const lab = await Effect.runPromise(
    Scope.provide(scope)(
      Lab.make({
        scenario: parseScenario(yaml, "test.yaml", { stepsRequired: false, ...(options.registry === undefined ? {} : { registry: options.registry }) }),
        dataDir: options.dataDir ?? null,
        portBase: options.portBase ?? "ephemeral",
        addressing: options.portBase === undefined ? "per-device" : "shared",
        clock: options.clock ?? new RealLabClock(),
        onEvent: (event) => events.push(event),
        ...(options.registry === undefined ? {} : { registry: options.registry })
      })
    )
  )
  return { lab, events, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** Resolves with the first event (already seen or future) that matches; rejects after `timeoutMs`. */
export const waitForEvent = <T extends LabEvent>(
  bus: EventBus,
  seen: ReadonlyArray<LabEvent>,
  predicate: (event: LabEvent) => event is T,
  timeoutMs = 10_000
): Promise<T> => {
  const already = seen.find(predicate)
  if (already !== undefined) return Promise.resolve(already)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe()
      reject(new Error(`no matching event within ${timeoutMs} ms`))
    }, timeoutMs)
    const unsubscribe = bus.subscribe((event) => {
      if (predicate(event)) {
        clearTimeout(timer)
        unsubscribe()
        resolve(event)
      }
    })
  })
}

/** Waits until the analyzer has stored at least `count` logs from `device` (a lab id, or the name the logs carry) in total. */
export const waitForStored = (started: StartedLab, device: string, count: number, timeoutMs = 10_000) =>
  waitForEvent(
    started.lab.bus,
    started.events,
    (event): event is Extract<LabEvent, { type: "logs-stored" }> => event.type === "logs-stored" && (event.from === device || event.sender === device) && event.total >= count,
    timeoutMs
  )

type RoleEvent = Extract<LabEvent, { type: "ha-role" }>

/** Waits for `device` to take `role` (an `ha-role` event), among the events from index `from` on. */
export const waitForRole = (started: StartedLab, device: string, role: RoleEvent["role"], options: { readonly from?: number; readonly timeoutMs?: number } = {}) =>
  waitForEvent(
    started.lab.bus,
    started.events.slice(options.from ?? 0),
    (event): event is RoleEvent => event.type === "ha-role" && event.device === device && event.role === role,
    options.timeoutMs ?? 10_000
  )

export const udpEndpoint = (lab: Lab, device: string, port: "udp/514" | "tcp/514") => lab.plan.resolve(device, port)

/** The lab's analyzer `id`; throws when there is none (a mistake in the test's lab). */
export const analyzer = (lab: Lab, id: string): FortiAnalyzer => {
  const found = lab.analyzer(id)
  if (found === undefined) throw new Error(`no analyzer ${id}`)
  return found
}
