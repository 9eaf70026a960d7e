/**
 * The flags every lab-running command shares (`run`, `up`): where ports go, where data goes,
 * and how events are shown. Parsed once here so the commands agree on names and messages.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { ControlBind } from "../control/access.ts"
import { type ControlBindError, type ControlServer, serveControl } from "../control/server.ts"
import type { Lab } from "../lab/lab.ts"
import { type Addressing, defaultAddressing, type PortBase } from "../net/port-plan.ts"
import type { LabPlacementName } from "../placement/setup.ts"
import { UsageError } from "./io.ts"

export const labFlagOptions = {
  headless: { type: "boolean", default: false },
  "port-base": { type: "string" },
  addressing: { type: "string" },
  "data-dir": { type: "string" },
  memory: { type: "boolean", default: false },
  "control-bind": { type: "string" },
  speed: { type: "string" },
  clock: { type: "string" },
  placement: { type: "string" },
  netns: { type: "boolean", default: false },
  nftables: { type: "string" }
} as const

export interface LabFlags {
  readonly headless: boolean
  readonly portBase: PortBase | "auto"
  readonly addressing: Addressing
  readonly memory: boolean
  readonly dataDir: string | undefined
  /** Lab time runs this many times faster than the wall clock (timers included; sockets stay real); null: the lab file's `speed`. */
  readonly speed: number | null
  /** real or simulated time; null: the lab file's `clock`. */
  readonly clock: "real" | "simulated" | null
  /** Where the devices run (`--placement`, `--netns`); null: the lab file's `placement`. */
  readonly placement: LabPlacementName | null
  /** A netns lab router's nftables file instead of the lab file's `netns.nftables` (as given: relative to the current folder). */
  readonly nftables: string | null
}

export const parsePortBase = (value: string | undefined): PortBase | "auto" => {
  if (value === undefined || value === "auto") return "auto"
  if (value === "ephemeral") return "ephemeral"
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 60000) {
    throw new UsageError(`--port-base must be an integer from 0 to 60000, "auto" or "ephemeral", got "${value}"`)
  }
  return n
}

export const parseLabFlags = (values: {
  readonly headless?: boolean
  readonly "port-base"?: string
  readonly addressing?: string
  readonly "data-dir"?: string
  readonly memory?: boolean
  readonly speed?: string
  readonly clock?: string
  readonly placement?: string
  readonly netns?: boolean
  readonly nftables?: string
}): LabFlags => {
  const addressing = values.addressing ?? defaultAddressing()
  if (addressing !== "shared" && addressing !== "per-device") {
    throw new UsageError(`--addressing must be "shared" (every device on 127.0.0.1) or "per-device" (127.0.1.x each), got "${addressing}"`)
  }
  const speed = values.speed === undefined ? null : Number(values.speed)
  if (speed !== null && (!Number.isFinite(speed) || speed < 1 || speed > 1000)) {
    throw new UsageError(`--speed must be a number from 1 (real time) to 1000, got "${values.speed}"`)
  }
  const clock = values.clock ?? null
  if (clock !== null && clock !== "real" && clock !== "simulated") {
    throw new UsageError(`--clock must be "real" (wall-clock time, sped up by --speed) or "simulated" (time jumps to the next timer whenever the lab is idle), got "${clock}"`)
  }
  if (clock === "simulated" && speed !== null) {
    throw new UsageError("--speed applies to the real clock; with --clock simulated, lab time already runs as fast as the lab allows: drop one of them")
  }
  const placement = values.placement ?? (values.netns === true ? "netns" : null)
  if (placement !== null && placement !== "in-process" && placement !== "process" && placement !== "netns" && placement !== "external") {
    throw new UsageError(`--placement must be "in-process" (every device in the lab's process), "process" (one process per device), "netns" (one network namespace per device) or "external" (the lab waits for nodes started elsewhere, in containers), got "${placement}"`)
  }
  if (values.netns === true && placement !== "netns") throw new UsageError(`--netns means --placement netns, and --placement says ${placement}; give one of them`)
  if (values.nftables !== undefined && placement !== null && placement !== "netns") {
    throw new UsageError(`--nftables is the rule file of a netns lab's router, and --placement says ${placement}; add --netns, or drop --nftables`)
  }
  return {
    speed,
    clock,
    placement,
    nftables: values.nftables ?? null,
    headless: values.headless ?? false,
    portBase: parsePortBase(values["port-base"]),
    addressing,
    memory: values.memory ?? false,
    dataDir: values["data-dir"]
  }
}

/** The default data folder of a lab: `.fazlab/<lab name>` under the folder it was started from. */
export const defaultDataDir = (cwd: string, labName: string): string => path.join(cwd, ".fazlab", labName)

/** The file a running lab writes so `fazlab logs` (and later `attach`) can find it. */
export const LAB_INFO_FILE = "lab.json"

export interface LabInfo {
  readonly name: string
  readonly pid: number
  readonly startedAt: string
  readonly analyzers: ReadonlyArray<{ readonly id: string; readonly store: string }>
}

const writeLabInfo = (dataDir: string, info: LabInfo): void => {
  fs.mkdirSync(dataDir, { recursive: true })
  fs.writeFileSync(path.join(dataDir, LAB_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`)
}

/**
 * Makes a running lab reachable from other terminals: writes `lab.json` (for `fazlab logs`)
 * into its data folder and serves the control channel (for `fazlab ctl`) until the scope ends.
 */
export const publishLab = (
  lab: Lab,
  dataDir: string | null,
  bind: ControlBind | undefined,
  served: ControlServer | null = null
): Effect.Effect<ControlServer, ControlBindError, Scope.Scope> =>
  Effect.suspend(() => {
    if (dataDir !== null) {
      writeLabInfo(dataDir, {
        name: lab.name,
        pid: process.pid,
        startedAt: new Date().toISOString(),
        analyzers: lab.analyzerIds().map((id) => ({ id, store: path.join(dataDir, id, "logs.sqlite") }))
      })
    }
    // A lab whose devices run as nodes serves its channel before they start (src/placement/nodes.ts).
    return served !== null ? Effect.succeed(served) : serveControl(lab, { dataDir, ...(bind === undefined ? {} : { bind }) })
  })

/**
 * A lab's data folder and its `lab.json`: `explicit` (`--lab DIR`), else the lab started most
 * recently from `cwd` (`.fazlab/<lab>/`); a usage error in one sentence when there is none.
 */
export const findLab = (cwd: string, explicit: string | undefined): { dir: string; info: LabInfo } => {
  const candidates = explicit !== undefined
    ? [path.resolve(cwd, explicit)]
    : fs.existsSync(path.join(cwd, ".fazlab"))
    ? fs.readdirSync(path.join(cwd, ".fazlab")).map((name) => path.join(cwd, ".fazlab", name))
    : []
  const labs = candidates
    .map((dir) => ({ dir, file: path.join(dir, LAB_INFO_FILE) }))
    .filter(({ file }) => fs.existsSync(file))
    .sort((a, b) => fs.statSync(b.file).mtimeMs - fs.statSync(a.file).mtimeMs)
  const found = labs[0]
  if (found === undefined) {
    throw new UsageError(
      explicit !== undefined
        ? `${explicit} is not a lab data folder (no ${LAB_INFO_FILE}); pass the folder a lab was started with (--data-dir)`
        : `no lab found under ${path.join(cwd, ".fazlab")}; start one here with fazlab up, or pass --lab DIR`
    )
  }
  return { dir: found.dir, info: JSON.parse(fs.readFileSync(found.file, "utf8")) as LabInfo }
}
