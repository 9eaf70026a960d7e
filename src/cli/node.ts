/**
 * `fazlab node --kind K --id ID --config LAB.yaml --lab URL [--token T] [--port-base N|ephemeral] [--data-dir DIR] [--addressing dns --pki DIR]`
 *
 * Runs one device of a lab file as its own process (docs/placement.md): built by its kind on its
 * documented ports (or the lab's port base), reporting its events to the lab over the control
 * channel and taking the lab's commands; a node that loses the lab keeps running, keeps its
 * events in a bounded buffer and dials again. `fazlab up` / `run` with `placement: process` or
 * `netns` start one per device; by hand it joins a lab already running. Ctrl-C (SIGTERM) stops
 * the device cleanly and sends its last events first; so does a lab that stops in order and says
 * so (`lab-stopping`), and the node then exits 0. In a container (`--addressing dns`, what
 * `fazlab export` writes) it reaches the others by name and takes the lab CA from `--pki DIR`.
 */
import * as path from "node:path"
import { parseArgs } from "node:util"
import * as Effect from "effect/Effect"
import { unixSocketUrl } from "../control/server.ts"
import { ControlClientError, findControl } from "../control/client.ts"
import { loadScenario } from "../lab/scenario/load.ts"
import { adoptLabCa, PkiError } from "../net/pki.ts"
import { registry } from "../devices/registry.ts"
import { runNode } from "../placement/node.ts"
import { type Command, ExitCode, UsageError } from "./io.ts"
import { parsePortBase } from "./lab-flags.ts"
import { Interrupted, runLabEffect } from "./run-effect.ts"
import type { CommandHelp } from "./help.ts"
import { aKind } from "../lab/scenario/references.ts"

export const help: CommandHelp = {
  usage: ["fazlab node --kind K --id ID --config LAB.yaml [--lab URL | --lab-dir DIR] [--token T] [--port-base N|ephemeral] [--data-dir DIR] [--addressing dns --pki DIR]"],
  summary: "Runs one device of a lab file as its own process, reporting to the running lab over its control channel; fazlab up and run start these for placement process and netns.",
  flags: [
    ["--kind K", "the device's kind, as the lab file says (a check that the right device starts)"],
    ["--id ID", "the device's id in the lab file"],
    ["--config LAB.yaml", "the lab file the lab runs (the same file)"],
    ["--lab URL", "the lab's control channel: ws://HOST:PORT/ or ws+unix:/PATH:/ (control.json's url or unixSocket)"],
    ["--lab-dir DIR", "instead of --lab: the running lab's data folder (its control.json and control.token)"],
    ["--token T", "the control token (default: $FAZLAB_CONTROL_TOKEN, or the lab folder's control.token)"],
    ["--port-base N|ephemeral", "the lab's port base (default 0: the documented ports)"],
    ["--addressing shared|per-device|dns", "as the lab (default per-device on Linux); dns: in a container, listen on every address and reach the others by name, dialing the lab until it answers"],
    ["--data-dir DIR", "the lab's data folder: the lab CA and the device's store (default: --lab-dir)"],
    ["--pki DIR", "the lab CA to issue this device's certificates from (ca.pem, ca.key: fazlab pki export DIR), made the data folder's"],
    ["--placement process|netns", "netns: the node runs in the device's network namespace, on the lab subnet's addresses"],
    ["--speed N", "lab time runs N times faster than the wall clock, as the lab's"],
    ["--exit-with-lab", "exit when the process that started this node ends (the lab starts its nodes so)"],
    ["--hold", "connect, then build the device only when the lab sends start (the lab spawns its nodes at once and begins them in order)"]
  ],
  examples: ["fazlab node --kind fortigate --id fgt-1 --config scenarios/syslog-basics.yaml --lab-dir .fazlab/syslog-basics"]
}

export const node: Command = async (args, io) => {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: false,
    options: {
      kind: { type: "string" },
      id: { type: "string" },
      config: { type: "string" },
      lab: { type: "string" },
      "lab-dir": { type: "string" },
      token: { type: "string" },
      "port-base": { type: "string" },
      addressing: { type: "string" },
      "data-dir": { type: "string" },
      pki: { type: "string" },
      placement: { type: "string" },
      speed: { type: "string" },
      "exit-with-lab": { type: "boolean", default: false },
      hold: { type: "boolean", default: false }
    }
  })
  if (positionals.length > 0) throw new UsageError("fazlab node takes no arguments besides its flags")
  const { kind, id, config } = values
  if (kind === undefined || id === undefined || config === undefined) throw new UsageError("fazlab node needs --kind K --id ID --config LAB.yaml (the device and the lab file it is in)")
  const placement = values.placement ?? "process"
  if (placement !== "process" && placement !== "netns") throw new UsageError(`--placement of a node must be "process" or "netns", got "${placement}"`)
  const addressing = values.addressing ?? (process.platform === "linux" ? "per-device" : "shared")
  if (addressing !== "shared" && addressing !== "per-device" && addressing !== "dns") throw new UsageError(`--addressing must be "shared", "per-device" or "dns", got "${addressing}"`)
  const speed = values.speed === undefined ? 1 : Number(values.speed)
  if (!Number.isFinite(speed) || speed < 1 || speed > 1000) throw new UsageError(`--speed must be a number from 1 to 1000, got "${values.speed}"`)
  const portBase = parsePortBase(values["port-base"] ?? "0")
  if (portBase === "auto") throw new UsageError("--port-base of a node must be the lab's own (a number, or ephemeral), not auto")
  if ((values.lab === undefined) === (values["lab-dir"] === undefined)) throw new UsageError("give the lab as --lab URL or --lab-dir DIR (one of them)")
  const labDir = values["lab-dir"]
  const fixed = values.lab === undefined ? null : { url: values.lab, token: values.token ?? io.env["FAZLAB_CONTROL_TOKEN"] ?? "" }
  if (fixed !== null && fixed.token === "") throw new UsageError("the node needs the lab's control token: --token T, or FAZLAB_CONTROL_TOKEN in its environment")
  // With --lab-dir the lab's files are read again at every reconnect: a lab started again has a new token.
  const address = () => {
    if (fixed !== null) return fixed
    const found = findControl(io.cwd, labDir)
    return { url: found.unixSocket === undefined ? found.url : unixSocketUrl(found.unixSocket), token: values.token ?? found.token }
  }
  if (fixed === null) {
    try {
      address()
    } catch (error) {
      throw error instanceof ControlClientError ? new UsageError(error.message) : error
    }
  }
  const scenario = await loadScenario(path.resolve(io.cwd, config), { stepsRequired: false })
  const spec = scenario.devices.get(id)
  if (spec === undefined) throw new UsageError(`${config} has no device ${id}; its devices: ${[...scenario.devices.keys()].join(", ")}`)
  if (spec.kind !== kind) throw new UsageError(`${id} in ${config} is ${aKind(spec.kind)}, not ${aKind(kind)}; give --kind ${spec.kind}`)
  registry.of(spec)
  const dataDir = values["data-dir"] ?? labDir
  if (values.pki !== undefined) {
    if (dataDir === undefined) throw new UsageError("--pki makes a lab CA the data folder's: give --data-dir DIR too")
    await adoptLabCa(path.resolve(io.cwd, values.pki), path.resolve(io.cwd, dataDir)).catch((error: unknown) => {
      throw error instanceof PkiError ? new UsageError(error.message) : error
    })
  }
  // Started by a lab: the lab's end (even a SIGKILL) ends the node, so nothing outlives it; and
  // a lab that stops in order says so (`lab-stopping`) to the nodes it did not start.
  const lab = new AbortController()
  const parent = process.ppid
  const watch = values["exit-with-lab"] ? setInterval(() => process.ppid !== parent && lab.abort(), 500) : null
  watch?.unref()
  try {
    await runLabEffect(
      Effect.scoped(Effect.andThen(
        runNode({
          scenario,
          id,
          lab: address,
          dataDir: dataDir === undefined ? null : path.resolve(io.cwd, dataDir),
          portBase,
          addressing,
          speed,
          placement,
          hold: values.hold,
          onLink: (line) => io.stderr(`${line}\n`),
          onLabStopping: () => lab.abort()
        }),
        Effect.never
      )),
      AbortSignal.any([io.signal, lab.signal])
    )
  } catch (error) {
    if (error instanceof Interrupted) return ExitCode.Ok
    throw error
  } finally {
    if (watch !== null) clearInterval(watch)
  }
  return ExitCode.Ok
}
