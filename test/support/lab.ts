/**
 * The test harness for labs: start a lab from YAML on kernel-chosen ports (tests run in
 * parallel) that closes itself, and wait for events on its bus instead of sleeping.
 *
 * - `useLab(yaml)` in a test: the lab closes when the test finishes, passed or failed.
 * - `sharedLab(yaml)` at the top of a file or `describe`: one lab for all its tests, closed after them.
 * - `startLab(yaml)`: a lab the test closes itself (`close()` is idempotent; a test that stops
 *   and starts labs on the same data folder).
 * - `waitForEvent(source, "type", where?)`: the first event of that type (already seen or
 *   future) for which `where` holds, narrowed to that type (`EventOf<"type">`); or with a type
 *   guard instead of a type. `source` is a started lab, or any `{ bus, events }`.
 * - `isEvent("type", where?)`: the same test as a type guard, for `events.filter` and `find`.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { afterAll, beforeAll, onTestFinished } from "vitest"
import type { FortiAnalyzer } from "../../src/devices/fortianalyzer/analyzer.ts"
import type { KindRegistry } from "../../src/devices/registry.ts"
import type { EventOf, LabEvent, LabEventType } from "../../src/events/events.ts"
import type { EventBus } from "../../src/events/bus.ts"
import { Lab } from "../../src/lab/lab.ts"
import { parseScenario } from "../../src/lab/scenario/load.ts"
import { type LabClock, RealLabClock } from "../../src/machines/clock.ts"
import type { Addressing } from "../../src/net/port-plan.ts"

/** Where a test waits for events: a bus and every event it published so far, in order. */
export interface EventStream {
  readonly bus: EventBus
  readonly events: ReadonlyArray<LabEvent>
}

export interface StartedLab extends EventStream {
  readonly lab: Lab
  readonly events: LabEvent[]
  /** Closes the lab (its devices stop, its ports close); once, however often it is called. */
  close(): Promise<void>
}

export interface LabOptions {
  readonly dataDir?: string | null
  readonly clock?: LabClock
  /** A fixed port base on 127.0.0.1 for every device (a test that must know a port beforehand); kernel-chosen ports per device otherwise. */
  readonly portBase?: number
  /** One loopback address per device (default without `portBase`) or 127.0.0.1 for all (default with it). */
  readonly addressing?: Addressing
  /** Device kinds beyond the shipped ones (a test's fixture kind). */
  readonly registry?: KindRegistry
}

/** Starts a lab the caller closes (`close()`); prefer `useLab` or `sharedLab`, which close it themselves. */
export const startLab = async (yaml: string, options: LabOptions = {}): Promise<StartedLab> => {
  const scope = await Effect.runPromise(Scope.make())
  const events: LabEvent[] = []
  const registry = options.registry === undefined ? {} : { registry: options.registry }
  const lab = await Effect.runPromise(
    Scope.provide(scope)(
      Lab.make({
        scenario: parseScenario(yaml, "test.yaml", { stepsRequired: false, ...registry }),
        dataDir: options.dataDir ?? null,
        portBase: options.portBase ?? "ephemeral",
        addressing: options.addressing ?? (options.portBase === undefined ? "per-device" : "shared"),
        clock: options.clock ?? new RealLabClock(),
        onEvent: (event) => events.push(event),
        ...registry
      })
    )
  ).catch(async (cause: unknown) => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw cause
  })
  let closed: Promise<void> | null = null
  return { lab, bus: lab.bus, events, close: () => (closed ??= Effect.runPromise(Scope.close(scope, Exit.void))) }
}

/** Starts a lab in a test and closes it when the test finishes, whether it passed or failed. */
export const useLab = async (yaml: string, options: LabOptions = {}): Promise<StartedLab> => {
  const started = await startLab(yaml, options)
  onTestFinished(() => started.close())
  return started
}

/**
 * One lab for every test of the file (or of the `describe` it is called in): started before
 * them, closed after them. Returns a getter for it, to call inside the tests. `options` may be a
 * function, called when the lab starts (a data folder made in an earlier `beforeAll`).
 */
export const sharedLab = (yaml: string, options: LabOptions | (() => LabOptions) = {}): (() => StartedLab) => {
  let started: StartedLab | null = null
  beforeAll(async () => {
    started = await startLab(yaml, typeof options === "function" ? options() : options)
  })
  afterAll(() => started?.close())
  return () => {
    if (started === null) throw new Error("the shared lab is used outside a test (it starts in beforeAll)")
    return started
  }
}

export interface WaitOptions {
  /** Rejects after this long; default 10 s. */
  readonly timeoutMs?: number
  /** Looks at the events already seen from this index on (`events.length` before an action: only what follows it). */
  readonly from?: number
}

const DEFAULT_TIMEOUT_MS = 10_000

/**
 * Resolves with the first event (already seen since `from`, or future) of type `type` for which
 * `where` holds; rejects after `timeoutMs` naming what it waited for and the last events.
 */
export function waitForEvent<T extends LabEventType>(source: EventStream, type: T, where?: (event: EventOf<T>) => boolean, options?: WaitOptions): Promise<EventOf<T>>
/** The same with a predicate over all events instead of a type; a type guard narrows the result. */
export function waitForEvent<E extends LabEvent>(source: EventStream, predicate: (event: LabEvent) => event is E, options?: WaitOptions): Promise<E>
export function waitForEvent(source: EventStream, predicate: (event: LabEvent) => boolean, options?: WaitOptions): Promise<LabEvent>
export function waitForEvent(
  source: EventStream,
  typeOrPredicate: LabEventType | ((event: LabEvent) => boolean),
  whereOrOptions?: ((event: LabEvent) => boolean) | WaitOptions,
  maybeOptions?: WaitOptions
): Promise<LabEvent> {
  const byType = typeof typeOrPredicate === "string"
  const where = typeof whereOrOptions === "function" ? whereOrOptions : undefined
  const options = (byType ? maybeOptions : typeof whereOrOptions === "object" ? whereOrOptions : undefined) ?? {}
  const matches = byType ? isEvent(typeOrPredicate, where) : typeOrPredicate
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const already = source.events.slice(options.from ?? 0).find(matches)
  if (already !== undefined) return Promise.resolve(already)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe()
      const what = byType ? `${typeOrPredicate} event${where === undefined ? "" : " that matches"}` : "matching event"
      const last = source.events.slice(-3).map((event) => JSON.stringify(event)).join("\n")
      reject(new Error(`no ${what} within ${timeoutMs} ms; the last events:\n${last}`))
    }, timeoutMs)
    const unsubscribe = source.bus.subscribe((event) => {
      if (!matches(event)) return
      clearTimeout(timer)
      unsubscribe()
      resolve(event)
    })
  })
}

/** A type guard for events of `type` for which `where` holds: `events.filter(isEvent("ha-role", (e) => e.device === "faz-a"))`. */
export const isEvent =
  <T extends LabEventType>(type: T, where: (event: EventOf<T>) => boolean = () => true) =>
  (event: LabEvent): event is EventOf<T> =>
    event.type === type && where(event as EventOf<T>)

/** Waits until the analyzer has stored at least `count` logs from `device` (a lab id, or the name the logs carry) in total. */
export const waitForStored = (source: EventStream, device: string, count: number, timeoutMs = DEFAULT_TIMEOUT_MS) =>
  waitForEvent(source, "logs-stored", (event) => (event.from === device || event.sender === device) && event.total >= count, { timeoutMs })

/** Waits for `device` to take `role` (an `ha-role` event), among the events from index `from` on. */
export const waitForRole = (source: EventStream, device: string, role: EventOf<"ha-role">["role"], options: WaitOptions = {}) =>
  waitForEvent(source, "ha-role", (event) => event.device === device && event.role === role, options)

export const udpEndpoint = (lab: Lab, device: string, port: "udp/514" | "tcp/514") => lab.plan.resolve(device, port)

/** The lab's analyzer `id`; throws when there is none (a mistake in the test's lab). */
export const analyzer = (lab: Lab, id: string): FortiAnalyzer => {
  const found = lab.analyzer(id)
  if (found === undefined) throw new Error(`no analyzer ${id}`)
  return found
}
