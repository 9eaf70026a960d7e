/**
 * `fazlab run <scenario.yaml> [--headless] [--hold] [--report text|json|junit] [--out FILE] [--port-base N]`
 *
 * Runs a scenario to its end and reports. Exit 0 when every expectation holds, 1 when one
 * failed (or a step's action failed), 2 on bad input (file, flags, ports that cannot be bound).
 * A run starts from a clean store: its data folder is emptied first (use `up` to keep data).
 * On a terminal the UI shows the run (q or Ctrl-C stops it, no report, exit 1); the report
 * follows when it ends. With `--hold` the lab and the UI stay once the scenario ended, so a
 * class can look at the end state; q then stops the lab and prints the report.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { parseArgs } from "node:util"
import * as Effect from "effect/Effect"
import { type LabClock, RealLabClock } from "../machines/clock.ts"
import { VirtualLabClock } from "../machines/virtual-clock.ts"
import { runScenario } from "../lab/runner.ts"
import { loadScenario } from "../lab/scenario/load.ts"
import type { Scenario } from "../lab/scenario/schema.ts"
import { renderJson } from "../lab/report/json.ts"
import { renderJunit } from "../lab/report/junit.ts"
import type { ScenarioResult } from "../lab/report/result.ts"
import { renderText } from "../lab/report/text.ts"
import { mountLabUi, preloadUi } from "./attach.ts"
import { eventText } from "./event-text.ts"
import { type Command, ExitCode, UsageError } from "./io.ts"
import { defaultDataDir, type LabFlags, labFlagOptions, parseLabFlags, publishLab } from "./lab-flags.ts"
import { parseControlBindFlag } from "./ctl.ts"
import { Interrupted, runLabEffect } from "./run-effect.ts"
import { PlacementError, placeLab } from "../placement/setup.ts"
import { type CommandHelp, LAB_FLAGS_HELP } from "./help.ts"

export const help: CommandHelp = {
  usage: ["fazlab run <scenario.yaml> [--headless | --hold] [--report text|json|junit] [--out FILE] [--speed N | --clock simulated] [lab flags]"],
  summary: "Runs a scenario to its end and reports its expectations: exit 0 when all hold, 1 when one failed or the run was stopped, 2 on bad input.",
  flags: [
    ["<scenario.yaml>", "the scenario file (see docs/scenarios.md)"],
    ["--report text|json|junit", "the report's format (default text)"],
    ["--out FILE", "write the report to FILE instead of stdout"],
    ["--hold", "on a terminal, keep the lab and the UI up once the scenario ended, until q"],
    ["--clock real|simulated", "simulated: lab time jumps to the next timer whenever the lab is idle"],
    ...LAB_FLAGS_HELP
  ],
  examples: ["fazlab run scenarios/syslog-basics.yaml --report junit --out report.xml", "fazlab run scenarios/ha-simulated-clock.yaml --headless"]
}

const REPORTS = { text: renderText, json: renderJson, junit: renderJunit } as const

/** The clock the flags and the file ask for: `--clock` over the file's `clock`, `--speed` over its `speed`. */
const labClock = (flags: LabFlags, scenario: Scenario): LabClock => {
  if ((flags.clock ?? scenario.clock) === "real") return new RealLabClock(flags.speed ?? scenario.speed)
  if (flags.speed !== null) {
    throw new UsageError(`--speed applies to the real clock, and ${scenario.name} runs on a simulated clock (clock: simulated); drop --speed, or add --clock real`)
  }
  return new VirtualLabClock()
}

export const run: Command = async (args, io) => {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { ...labFlagOptions, report: { type: "string", default: "text" }, out: { type: "string" }, hold: { type: "boolean", default: false } }
  })
  const flags = parseLabFlags(values)
  const bind = parseControlBindFlag(values["control-bind"])
  const report = values.report
  if (!(report in REPORTS)) throw new UsageError(`--report must be text, json or junit, got "${report}"`)
  if (positionals.length !== 1) throw new UsageError("give exactly one scenario file, e.g. fazlab run scenarios/syslog-basics.yaml")
  const file = positionals[0] as string
  const tui = io.isTTY && !flags.headless
  if (values.hold && !tui) {
    throw new UsageError(`--hold keeps the terminal UI open after the scenario ends, and ${flags.headless ? "--headless draws none" : "stdout is not a terminal"}; drop --hold`)
  }
  // Messages name the file as the user did: relative to where they are, or absolute if they gave it so.
  const scenario = await loadScenario(path.isAbsolute(file) ? file : path.relative(process.cwd(), path.resolve(io.cwd, file)) || file)
  const clock = labClock(flags, scenario)
  const dataDir = flags.memory ? null : path.resolve(io.cwd, flags.dataDir ?? defaultDataDir(io.cwd, scenario.name))
  if (dataDir !== null) fs.rmSync(dataDir, { recursive: true, force: true })
  const placed = await placeLab({
    scenario,
    env: io.env,
    file: path.resolve(io.cwd, file),
    defaultText: "",
    dataDir,
    placement: flags.placement,
    nftables: flags.nftables === null ? null : path.resolve(io.cwd, flags.nftables),
    simulated: clock instanceof VirtualLabClock,
    speed: flags.speed ?? scenario.speed,
    bind
  }).catch((error: unknown) => {
    if (clock instanceof VirtualLabClock) clock.close()
    throw error instanceof PlacementError ? new UsageError(error.message) : error
  })
  if (tui) preloadUi()
  // q before the end stops the run without a report; with --hold, q after the end prints it.
  const quit = new AbortController()
  let uiClosed: Promise<void> | null = null
  let finished: ScenarioResult | null = null
  const result = await runLabEffect(
    runScenario({
      scenario,
      file,
      dataDir,
      portBase: flags.portBase,
      addressing: flags.addressing,
      clock,
      ...(placed === null ? {} : { placement: placed.placement }),
      onEvent: (event) => {
        if (tui) return
        if (flags.headless) io.stdout(`${JSON.stringify(event)}\n`)
        else {
          const line = eventText(event)
          if (line !== null) io.stderr(`${line}\n`)
        }
      },
      onStarted: (lab) =>
        Effect.gen(function*() {
          const control = yield* publishLab(lab, dataDir, bind, placed?.nodes.server ?? null)
          if (tui) {
            const ui = yield* mountLabUi(control, io, values.hold ? "stop the run; once it ended, print the report" : "stop the run")
            uiClosed = ui.quit
            void ui.quit.then(() => {
              if (finished === null) quit.abort()
            })
          } else if (!flags.headless) io.stderr(`control channel: ${control.url}${dataDir === null ? ` (token ${control.token})` : ""}\n`)
        }),
      onFinished: (result) =>
        Effect.suspend(() => {
          finished = result
          // --hold: the lab stays up, and the UI shows how it ended, until q (or Ctrl-C).
          const closed = uiClosed
          return values.hold && closed !== null ? Effect.promise(() => closed) : Effect.void
        })
    }),
    tui ? AbortSignal.any([io.signal, quit.signal]) : io.signal
  ).catch((error: unknown) => {
    // q in the UI or Ctrl-C: the report of a scenario that finished (held by --hold) still prints.
    if (error instanceof Interrupted) return finished
    throw error
  }).finally(() => {
    if (clock instanceof VirtualLabClock) clock.close()
  })
  if (result === null) {
    io.stderr(`fazlab run: stopped ${quit.signal.aborted ? "from the UI" : "by the user (Ctrl-C)"} before the scenario finished; no report\n`)
    return ExitCode.Failed
  }
  const rendered = REPORTS[report as keyof typeof REPORTS](result)
  if (values.out !== undefined) fs.writeFileSync(path.resolve(io.cwd, values.out), rendered)
  else io.stdout(rendered.endsWith("\n") ? rendered : `${rendered}\n`)
  const failed = result.stepErrors.length > 0 || result.expectations.some((e) => !e.passed)
  return failed ? ExitCode.Failed : ExitCode.Ok
}
