/**
 * `fazlab probe`: the firewall-regression matrix. It walks the port catalog's flows (narrowed by
 * `--direction`, `--from`, `--to`, `--rows`) and checks each at the application level against a
 * running lab (`--lab DIR`, `--control URL --token T`, or the latest lab started here), against a
 * lab file it starts itself (`fazlab probe LAB.yaml`), or against a real host (`--target HOST`).
 * Each flow is compared with its expectation (`--expect FILE`, default: every flow allowed).
 *
 * Output: the matrix (default), `--json` (the report), `--junit FILE` (one test case per flow).
 * `--diff BEFORE.json AFTER.json` compares two `--json` reports. `--list` prints the flow ids.
 *
 * Exit 0 when every probed flow is as expected (diff: nothing opened or closed), 1 otherwise,
 * 2 on bad input or when no lab can be reached.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { type ControlClient, ControlClientError, connectControl } from "../control/client.ts"
import type { Direction } from "../catalog/schema.ts"
import { serveControl } from "../control/server.ts"
import type { Lab } from "../lab/lab.ts"
import { loadScenario } from "../lab/scenario/load.ts"
import { checkOf } from "../probe/checks.ts"
import { ALLOW_ALL, type Expectations, parseExpectations } from "../probe/expectations.ts"
import { catalogFlows, catalogRoles, type Flow } from "../probe/flows.ts"
import { probeLab } from "../probe/matrix.ts"
import { diffReports, ProbeReport, renderDiff, renderMatrix, renderProbeJunit } from "../probe/report.ts"
import { probeTarget } from "../probe/target.ts"
import { controlAddressOf } from "./ctl.ts"
import type { CommandHelp } from "./help.ts"
import { type CliIo, type Command, ExitCode, UsageError } from "./io.ts"
import { parseLabFlags } from "./lab-flags.ts"
import { makeLiveLab, placeLiveLab } from "./live-lab.ts"
import { runLabEffect } from "./run-effect.ts"

export const help: CommandHelp = {
  usage: [
    "fazlab probe [LAB.yaml] [--lab DIR | --control URL --token T] [--direction in|out] [--from ROLE] [--to ROLE] [--rows ID,ID]",
    "             [--expect FILE] [--json] [--junit FILE] [--timeout MS]",
    "fazlab probe --target HOST [--port tcp/22=2222]... [flow filters] [--expect FILE] [--json] [--junit FILE]",
    "fazlab probe --diff BEFORE.json AFTER.json [--json]",
    "fazlab probe --list [flow filters] [--json]"
  ],
  summary:
    "Checks every documented flow of the port catalog at the application level (syslog stored, OFTP hello, HA JOIN answered, HTTPS answered, SSH key exchange ...) against a lab or a real host, and compares each with its expectation. Exit 0 all as expected, 1 not, 2 bad input.",
  flags: [
    ["[LAB.yaml]", "start this lab file (in this process, stores in memory), probe it, stop it"],
    ["--lab DIR | --control URL --token T", "probe the running lab there (default: the latest lab started here)"],
    ["--direction in|out", "only incoming (to the FortiAnalyzer) or outgoing flows"],
    ["--from ROLE / --to ROLE", "only flows from / to this role (fortigate, fortianalyzer, admin-pc ...; --list shows them)"],
    ["--rows ID,ID", "only these flow ids"],
    ["--expect FILE", "allow/deny per flow (YAML: default: allow|deny, flows: {ID or pattern with *: allow|deny}); default every flow allowed"],
    ["--json", "print the report as JSON (what --diff reads)"],
    ["--junit FILE", "also write JUnit XML, one test case per flow"],
    ["--timeout MS", "how long one check or one confirmation may take (default 3000)"],
    ["--target HOST", "probe a real host from this machine (checks that need no emulated peer; says what it could not check)"],
    ["--port KEY=N", "with --target: documented port KEY (tcp/22) is N on the host; repeatable"],
    ["--fazlab-peer", "with --target: the host runs fazlab devices, so every check runs in full (used inside lab namespaces)"],
    ["--port-base N|auto|ephemeral", "with LAB.yaml: where the lab's ports go (default auto)"],
    ["--placement P / --netns / --nftables FILE", "with LAB.yaml: where its devices run and the router's rule file, as for fazlab up (default: the lab file's)"],
    ["--diff BEFORE AFTER", "which flows opened, closed or changed between two --json reports; exit 1 when any did"],
    ["--list", "print the flows (id, check, status) without probing"]
  ],
  examples: [
    "fazlab probe --direction in",
    "fazlab probe scenarios/firewall-regression.yaml --expect expect.yaml --junit probe.xml",
    "fazlab probe scenarios/firewall-regression.yaml --nftables scenarios/firewall/blocked.nft",
    "fazlab probe --target faz.example.net --direction in",
    "fazlab probe --diff before.json after.json"
  ]
}

const DEFAULT_TIMEOUT_MS = 3000
const CONCURRENCY = 16

const options = {
  lab: { type: "string" },
  control: { type: "string" },
  token: { type: "string" },
  direction: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  rows: { type: "string" },
  expect: { type: "string" },
  json: { type: "boolean", default: false },
  junit: { type: "string" },
  timeout: { type: "string" },
  target: { type: "string" },
  port: { type: "string", multiple: true },
  "fazlab-peer": { type: "boolean", default: false },
  "port-base": { type: "string" },
  placement: { type: "string" },
  netns: { type: "boolean", default: false },
  nftables: { type: "string" },
  diff: { type: "boolean", default: false },
  list: { type: "boolean", default: false }
} as const

/** The catalog's flows the filters keep; a UsageError names a role or id the catalog does not know. */
const selectFlows = (values: { readonly direction?: string | undefined; readonly from?: string | undefined; readonly to?: string | undefined; readonly rows?: string | undefined }): ReadonlyArray<Flow> => {
  const { direction, from, to } = values
  if (direction !== undefined && direction !== "in" && direction !== "out") throw new UsageError(`--direction must be "in" or "out", got "${direction}"`)
  const roles = catalogRoles()
  for (const [flag, role] of [["--from", from], ["--to", to]] as const) {
    if (role !== undefined && !roles.includes(role)) throw new UsageError(`${flag} "${role}" is no role of the port catalog; roles: ${roles.join(", ")}`)
  }
  const flows = catalogFlows({
    ...(direction === undefined ? {} : { direction: direction as Direction }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to })
  })
  if (values.rows === undefined) return flows
  const wanted = values.rows.split(",").map((id) => id.trim()).filter((id) => id.length > 0)
  const all = new Set(catalogFlows().map((flow) => flow.id))
  const unknown = wanted.find((id) => !all.has(id))
  if (unknown !== undefined) throw new UsageError(`--rows names "${unknown}", which is no flow of the catalog; fazlab probe --list prints every flow id`)
  return flows.filter((flow) => wanted.includes(flow.id))
}

const parseTimeout = (text: string | undefined): number => {
  if (text === undefined) return DEFAULT_TIMEOUT_MS
  const n = Number(text)
  if (!/^\d+$/u.test(text) || n < 100 || n > 60_000) throw new UsageError(`--timeout must be whole milliseconds from 100 to 60000, got "${text}"`)
  return n
}

const parsePorts = (entries: ReadonlyArray<string>): ReadonlyMap<string, number> =>
  new Map(entries.map((entry) => {
    const match = /^(tcp|udp)\/(\d{1,5})=(\d{1,5})$/u.exec(entry)
    const port = Number(match?.[3])
    if (match === null || port < 1 || port > 65535) throw new UsageError(`--port must be written as tcp/22=2222 (the documented port, then where it is on the host), got "${entry}"`)
    return [`${match[1]}/${match[2]}`, port] as const
  }))

/** The expectations of `--expect FILE` (every flow allowed without it); a UsageError when the file is unreadable or wrong. */
export const readExpectations = (io: Pick<CliIo, "cwd">, file: string | undefined): Expectations => {
  if (file === undefined) return ALLOW_ALL
  let text: string
  try {
    text = fs.readFileSync(path.resolve(io.cwd, file), "utf8")
  } catch (error) {
    throw new UsageError(`cannot read the expectations file ${file} (${(error as NodeJS.ErrnoException).code ?? "unreadable"}); check the path`)
  }
  const parsed = parseExpectations(text, file, catalogFlows().map((flow) => flow.id))
  if (typeof parsed === "string") throw new UsageError(parsed)
  return parsed
}

const decodeReport = Schema.decodeUnknownResult(Schema.fromJsonString(ProbeReport))

const readReport = (io: CliIo, file: string): ProbeReport => {
  let text: string
  try {
    text = fs.readFileSync(path.resolve(io.cwd, file), "utf8")
  } catch (error) {
    throw new UsageError(`cannot read the probe report ${file} (${(error as NodeJS.ErrnoException).code ?? "unreadable"}); check the path`)
  }
  const decoded = decodeReport(text)
  if (Result.isFailure(decoded)) throw new UsageError(`${file} is not a probe report; write one with fazlab probe --json > ${file}`)
  return decoded.success
}

/**
 * Waits (at most `timeoutMs`) until every HA group of the lab file has an acting primary, no
 * member is still electing and each virtual IP has its listeners (members in other processes
 * report their roles and listeners a moment after they start).
 */
const settled = (lab: Lab, timeoutMs: number): Promise<void> =>
  new Promise((resolve) => {
    const ready = () => {
      const roles = lab.haRoles()
      const bound = new Set(lab.plan.boundEndpoints().map((endpoint) => endpoint.device))
      return [...lab.groups.values()].every((group) => roles.some((role) => role.group === group.group && role.role === "primary") && (!group.vip || bound.has(group.group))) &&
        roles.every((role) => role.role !== "none")
    }
    if (ready()) return resolve()
    const timer = setTimeout(finish, timeoutMs)
    const unsubscribe = lab.bus.subscribe(() => {
      if (ready()) finish()
    })
    function finish() {
      clearTimeout(timer)
      unsubscribe()
      resolve()
    }
  })

const output = (io: CliIo, report: ProbeReport, values: { readonly json: boolean; readonly junit?: string | undefined }): ExitCode => {
  if (values.junit !== undefined) {
    try {
      fs.writeFileSync(path.resolve(io.cwd, values.junit), renderProbeJunit(report))
    } catch (error) {
      throw new UsageError(`cannot write the JUnit report ${values.junit} (${(error as NodeJS.ErrnoException).code ?? "unwritable"}); check the folder`)
    }
  }
  io.stdout(values.json ? `${JSON.stringify(report)}\n` : renderMatrix(report))
  return report.summary.failed === 0 ? ExitCode.Ok : ExitCode.Failed
}

const statusOf = (flow: Flow): string => flow.rows.find((row) => row.status === "emulated")?.status ?? flow.rows[0]?.status ?? "?"

export const probe: Command = async (args, io) => {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options })
  const timeoutMs = parseTimeout(values.timeout)
  if (values.diff) {
    if (positionals.length !== 2) throw new UsageError("--diff takes two reports: fazlab probe --diff BEFORE.json AFTER.json")
    const diff = diffReports(readReport(io, positionals[0] ?? ""), readReport(io, positionals[1] ?? ""))
    io.stdout(values.json ? `${JSON.stringify(diff)}\n` : renderDiff(diff))
    return diff.opened.length === 0 && diff.closed.length === 0 && diff.changed.length === 0 ? ExitCode.Ok : ExitCode.Failed
  }
  const flows = selectFlows(values)
  if (values.list) {
    io.stdout(values.json
      ? flows.map((flow) => `${JSON.stringify({ id: flow.id, rows: flow.rows.map((row) => row.id), check: checkOf(flow), status: statusOf(flow) })}\n`).join("")
      : flows.map((flow) => `${flow.id}  ${checkOf(flow) ?? "-"}  ${statusOf(flow)}\n`).join(""))
    return ExitCode.Ok
  }
  const expectations = readExpectations(io, values.expect)
  if (values.target !== undefined) {
    if (positionals.length > 0 || values.lab !== undefined || values.control !== undefined) {
      throw new UsageError("--target probes a host, not a lab: drop the lab file, --lab and --control, or drop --target")
    }
    const report = await probeTarget(flows, {
      host: values.target,
      ports: parsePorts(values.port ?? []),
      fazlabPeer: values["fazlab-peer"],
      timeoutMs,
      concurrency: CONCURRENCY,
      expectations
    })
    return output(io, report, values)
  }
  if (values.port !== undefined || values["fazlab-peer"]) throw new UsageError("--port and --fazlab-peer go with --target HOST")
  const settings = { timeoutMs, concurrency: CONCURRENCY, expectations }
  if (positionals.length > 1) throw new UsageError("fazlab probe takes at most one lab file")
  const file = positionals[0]
  if (file === undefined) {
    if (values["port-base"] !== undefined || values.placement !== undefined || values.netns || values.nftables !== undefined) {
      throw new UsageError("--port-base, --placement, --netns and --nftables go with a lab file that fazlab probe starts")
    }
    let client: ControlClient | null = null
    try {
      client = await connectControl(controlAddressOf(io, values))
      return output(io, await probeLab(client, flows, settings), values)
    } catch (error) {
      if (error instanceof ControlClientError) throw new UsageError(error.message)
      throw error
    } finally {
      await client?.close()
    }
  }
  if (values.lab !== undefined || values.control !== undefined) throw new UsageError("give a lab file to start, or --lab / --control for a running lab, not both")
  const flags = parseLabFlags(values)
  const labFile = path.resolve(io.cwd, file)
  const scenario = await loadScenario(labFile, { stepsRequired: false })
  // A lab of nodes shares its CA and stores through a data folder: a temporary one, removed with the lab.
  const placement = flags.placement ?? scenario.placement
  const dataDir = placement === "in-process" ? null : fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-probe-"))
  try {
    const source = { scenario, file: labFile, defaultText: "", dataDir, bind: undefined }
    const placed = await placeLiveLab(io, flags, source)
    const program = Effect.scoped(
      Effect.gen(function*() {
        const lab = yield* makeLiveLab(flags, source, placed)
        const control = placed?.nodes.server ?? (yield* serveControl(lab, { dataDir: null }))
        return yield* Effect.promise(async () => {
          await settled(lab, 30_000)
          const client = await connectControl({ url: control.url, token: control.token })
          try {
            return await probeLab(client, flows, settings)
          } finally {
            await client.close()
          }
        })
      })
    )
    return output(io, await runLabEffect(program, io.signal), values)
  } finally {
    if (dataDir !== null) fs.rmSync(dataDir, { recursive: true, force: true })
  }
}
