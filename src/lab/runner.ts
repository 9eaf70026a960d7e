/**
 * Runs a scenario to its end: starts the lab, walks the timeline on the lab clock, performs
 * each step's action, checks its expectations (retrying within the step's deadline), and
 * returns a `ScenarioResult` for the reporters. Everything it does is also an event on the bus.
 *
 * A step waiting for its `at` / `after` time starts at once when asked (`Lab.stepNow`, the
 * control channel's `step`); later steps keep their own times (`at` still counts from when the
 * lab was up, `after` from the step before).
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { LabClock } from "../machines/clock.ts"
import type { BindError } from "../net/errors.ts"
import { check, describe, kindOf } from "./expectations.ts"
import { ActionError } from "../devices/device.ts"
import { Lab, type LabOptions, type PlanError, type StepStarted } from "./lab.ts"
import type { ExpectationResult, ScenarioResult, StepError } from "./report/result.ts"
import type { Expectation, Step } from "./scenario/schema.ts"

/** How often an expectation with a `within` deadline is checked again. */
export const RECHECK_INTERVAL_MS = 50

/** The lab's own options (`LabOptions`), and what the run adds. */
export interface RunOptions extends LabOptions {
  readonly file: string
  /** Runs once the lab is up (the port plan is known), inside the lab's scope: serve the control channel there. */
  readonly onStarted?: (lab: Lab) => Effect.Effect<void, { readonly message: string }, Scope.Scope>
  /** Runs once the scenario finished (`scenario-finished` published), before the lab stops: `run --hold` waits there for the UI. */
  readonly onFinished?: (result: ScenarioResult) => Effect.Effect<void>
}

/** Waits `ms` on the lab clock; interruptible. */
export const sleep = (clock: LabClock, ms: number): Effect.Effect<void> =>
  ms <= 0
    ? Effect.void
    : Effect.callback<void>((resume) => {
      const handle = clock.setTimeout(() => resume(Effect.void), ms)
      return Effect.sync(() => clock.clearTimeout(handle))
    })

/** The step waiting for its time, and how to end the wait now. */
interface Waiting {
  readonly step: number
  readonly title: string
  readonly wake: () => void
}

/** Waits `ms` on the lab clock like `sleep`, unless the wake function it registers is called first. */
const waitForStep = (clock: LabClock, ms: number, register: (wake: () => void) => () => void): Effect.Effect<void> =>
  ms <= 0
    ? Effect.void
    : Effect.callback<void>((resume) => {
      const handle = clock.setTimeout(() => {
        unregister()
        resume(Effect.void)
      }, ms)
      const unregister = register(() => {
        clock.clearTimeout(handle)
        resume(Effect.void)
      })
      return Effect.sync(() => {
        clock.clearTimeout(handle)
        unregister()
      })
    })

const stepTitle = (step: Step, index: number): string => {
  if (step.title !== null) return step.title
  const action = step.action
  if (action !== null) {
    const [verb, arg] = Object.entries(action)[0] ?? ["step", ""]
    return typeof arg === "string" ? `${verb} ${arg}` : verb === "burst" ? `burst ${JSON.stringify(arg)}` : verb === "sendRaw" ? "send raw bytes" : verb
  }
  return step.expect.length > 0 ? step.expect.map(describe).join("; ") : `step ${index + 1}`
}

const checkWithin = (lab: Lab, expectation: Expectation, within: number) =>
  Effect.gen(function*() {
    const deadline = lab.clock.now() + within
    for (;;) {
      const result = yield* Effect.promise(() => check(lab, expectation))
      if (result.passed || lab.clock.now() >= deadline) return result
      yield* sleep(lab.clock, Math.min(RECHECK_INTERVAL_MS, deadline - lab.clock.now()))
    }
  })

export const runScenario = (options: RunOptions): Effect.Effect<ScenarioResult, BindError | PlanError | { readonly message: string }> =>
  Effect.scoped(
    Effect.gen(function*() {
      const startedAt = new Date()
      const { scenario, clock } = options
      const lab = yield* Lab.make({
        scenario,
        dataDir: options.dataDir,
        portBase: options.portBase,
        addressing: options.addressing,
        clock,
        ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
        ...(options.registry === undefined ? {} : { registry: options.registry }),
        ...(options.placement === undefined ? {} : { placement: options.placement })
      })
      if (options.onStarted !== undefined) yield* options.onStarted(lab)
      // Step times count from here: the lab is up and whatever shows it (the UI) is ready.
      const origin = clock.now()
      const expectations: ExpectationResult[] = []
      const stepErrors: StepError[] = []
      let waiting: Waiting | null = null
      let current = 0
      const stepNow = (): Effect.Effect<StepStarted, ActionError> =>
        Effect.suspend(() => {
          if (waiting !== null) {
            const { step, title, wake } = waiting
            waiting = null
            current = step
            wake()
            return Effect.succeed({ step, title })
          }
          const total = scenario.steps.length
          const reason = current >= total
            ? `scenario ${scenario.name} has no step left to start (all ${total} have started)`
            : `step ${current} of scenario ${scenario.name} is still running; step starts a step that waits for its time`
          return Effect.fail(new ActionError({ action: "step", reason }))
        })
      yield* Effect.acquireRelease(Effect.sync(() => lab.runSteps(stepNow)), (release) => Effect.sync(release))
      for (const [index, step] of scenario.steps.entries()) {
        const n = index + 1
        const title = stepTitle(step, index)
        const register = (wake: () => void) => {
          waiting = { step: n, title, wake }
          return () => {
            waiting = null
          }
        }
        if (step.at !== null) yield* waitForStep(clock, origin + step.at - clock.now(), register)
        else if (step.after !== null) yield* waitForStep(clock, step.after, register)
        current = n
        lab.bus.publish({ type: "step-started", step: n, title })
        if (step.action !== null) {
          const outcome = yield* Effect.result(lab.perform(step.action))
          if (outcome._tag === "Failure") {
            const reason = outcome.failure.message
            stepErrors.push({ step: n, title, reason })
            lab.bus.publish({ type: "step-failed", step: n, title, reason })
            continue
          }
        }
        const counters = new Map<string, number>()
        for (const expectation of step.expect) {
          const kind = kindOf(expectation)
          const i = (counters.get(kind) ?? 0) + 1
          counters.set(kind, i)
          const began = clock.now()
          const result = yield* checkWithin(lab, expectation, step.within)
          const id = `${scenario.name}.step-${n}.${kind}-${i}`
          const entry = { id, step: n, title: describe(expectation), passed: result.passed, detail: result.detail, durationMs: Math.round(clock.now() - began) }
          expectations.push(entry)
          lab.bus.publish({ type: result.passed ? "expectation-passed" : "expectation-failed", id, title: entry.title, detail: entry.detail })
        }
      }
      const failed = expectations.filter((e) => !e.passed).length + stepErrors.length
      lab.bus.publish({ type: "scenario-finished", scenario: scenario.name, passed: expectations.length - failed + stepErrors.length, failed })
      const result: ScenarioResult = {
        scenario: scenario.name,
        file: options.file,
        startedAt: startedAt.toISOString(),
        durationMs: Math.round(clock.now()),
        expectations,
        stepErrors
      }
      if (options.onFinished !== undefined) yield* options.onFinished(result)
      return result
    })
  )
