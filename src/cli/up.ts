/**
 * `fazlab up [lab.yaml] [--headless] [--port-base N]`
 *
 * Starts a lab (the embedded default lab when no file is given) and keeps it running until
 * Ctrl-C, which stops every device cleanly (exit 0). On a terminal it draws the UI (q stops
 * the lab); under a pipe it prints where each documented port actually listens and the events
 * as text (`--headless`: JSON lines). Data stays in the lab's data folder across restarts.
 */
import * as path from "node:path"
import { parseArgs } from "node:util"
import * as Effect from "effect/Effect"
import { DEFAULT_LAB_FILE, DEFAULT_LAB_YAML } from "../lab/default-lab.ts"
import { loadScenario, parseScenario } from "../lab/scenario/load.ts"
import { mountLabUi, preloadUi } from "./attach.ts"
import { eventText } from "./event-text.ts"
import { type Command, ExitCode, UsageError } from "./io.ts"
import { defaultDataDir, labFlagOptions, parseLabFlags, publishLab } from "./lab-flags.ts"
import { parseControlBindFlag } from "./ctl.ts"
import { Interrupted, runLabEffect } from "./run-effect.ts"
import { makeLiveLab, placeLiveLab } from "./live-lab.ts"
import { type CommandHelp, LAB_FLAGS_HELP } from "./help.ts"

export const help: CommandHelp = {
  usage: ["fazlab up [lab.yaml] [--headless] [--speed N] [lab flags]"],
  summary: "Starts a lab (the embedded default lab without a file) and keeps it running until Ctrl-C (or q in the UI); prints where each documented port listens.",
  flags: [["[lab.yaml]", "the lab file (a scenario; its steps are not played)"], ...LAB_FLAGS_HELP],
  examples: ["fazlab up", "fazlab up scenarios/syslog-basics.yaml --headless --port-base 20000"]
}

export const up: Command = async (args, io) => {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options: labFlagOptions })
  const flags = parseLabFlags(values)
  const bind = parseControlBindFlag(values["control-bind"])
  if (positionals.length > 1) throw new UsageError("fazlab up takes at most one lab file")
  if (flags.clock === "simulated") {
    throw new UsageError("fazlab up runs a live lab on the real clock, for people to watch; --clock simulated is for fazlab run, which plays a scenario's steps")
  }
  const file = positionals[0]
  const scenario = file === undefined ? parseScenario(DEFAULT_LAB_YAML, DEFAULT_LAB_FILE, { stepsRequired: false })
    : await loadScenario(path.resolve(io.cwd, file), { stepsRequired: false })
  const dataDir = flags.memory ? null : path.resolve(io.cwd, flags.dataDir ?? defaultDataDir(io.cwd, scenario.name))
  const tui = io.isTTY && !flags.headless
  const source = { scenario, file: file === undefined ? null : path.resolve(io.cwd, file), defaultText: DEFAULT_LAB_YAML, dataDir, bind }
  const placed = await placeLiveLab(io, flags, source)
  if (tui) preloadUi()
  const program = Effect.scoped(
    Effect.gen(function*() {
      const lab = yield* makeLiveLab(flags, source, placed, (event) => {
        if (tui) return
        if (flags.headless) io.stdout(`${JSON.stringify(event)}\n`)
        else {
          const line = eventText(event)
          if (line !== null) io.stdout(`${line}\n`)
        }
      })
      const control = yield* publishLab(lab, dataDir, bind, placed?.nodes.server ?? null)
      if (tui) {
        const ui = yield* mountLabUi(control, io, "stop the lab")
        return yield* Effect.promise(() => ui.quit)
      }
      if (!flags.headless) {
        const base = lab.plan.base
        // Where `logger` should send: an analyzer's UDP/514 (an HA group's virtual IP first in the plan).
        const syslog = lab.plan.boundEndpoints().find((e) => e.port === "udp/514")
        io.stdout(
          `\nlab ${lab.name} is up${base === 0 ? " on the documented ports" : typeof base === "number" ? ` with port base ${base} (documented P listens on ${base}+P)` : ""}:\n` +
            lab.plan.boundEndpoints().map((e) => `  ${e.device.padEnd(12)} ${e.port.padEnd(9)} -> ${e.address}:${e.actualPort}\n`).join("") +
            (syslog === undefined ? "\n" : `\ntry: ${placed?.router === undefined ? "" : `ip netns exec ${placed.router} `}logger -n ${syslog.address} -P ${syslog.actualPort} -d "hello from logger"\n`) +
            `${syslog === undefined ? "try: " : "     "}fazlab logs --follow   (in another terminal, same folder)\n` +
            `     fazlab ctl devices     (control channel ${control.url}${dataDir === null ? `, token ${control.token}` : ""})\n` +
            `Ctrl-C stops the lab.\n\n`
        )
      }
      return yield* Effect.never
    })
  )
  try {
    await runLabEffect(program, io.signal)
  } catch (error) {
    if (error instanceof Interrupted) return ExitCode.Ok
    throw error
  }
  return ExitCode.Ok
}
