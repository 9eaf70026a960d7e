/**
 * What `fazlab up` and `fazlab run` do with `placement` (the lab file's, or `--placement` /
 * `--netns`): nothing for `in-process`; for `process` and `netns` the `LabPlacement` of a lab
 * whose devices are all nodes it spawns, checked first (a data folder for the shared CA and
 * stores, the real clock, and for `netns` root and namespace support and a network the lab file
 * can lay out); for `external` (the command line only: containers, docs/placement.md) the same
 * lab of nodes, which it does not spawn but waits for, on the control channel's TCP listener,
 * with the token of `FAZLAB_CONTROL_TOKEN`. Each problem is one sentence (`PlacementError`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { ControlBind } from "../control/access.ts"
import type { LabPlacement } from "../lab/lab.ts"
import type { Placement, Scenario } from "../lab/scenario/schema.ts"
import { NetnsPlanError, netnsPlan } from "./netns-plan.ts"
import { netnsProblem } from "./netns.ts"
import { NodeSet } from "./nodes.ts"

export class PlacementError extends Error {
  override readonly name = "PlacementError"
}

/** Where a lab's devices run: a lab file's `placement`, or `external` from the command line. */
export type LabPlacementName = Placement | "external"

/** The environment variable a container lab's control token comes from (the lab's and every node's). */
export const TOKEN_VARIABLE = "FAZLAB_CONTROL_TOKEN"

export interface PlacementInput {
  readonly scenario: Scenario
  /** The lab file as given, or null for the embedded default lab (its text is `defaultText`). */
  readonly file: string | null
  readonly defaultText: string
  readonly dataDir: string | null
  readonly placement: LabPlacementName | null
  /** The environment (`external` takes its token from it). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** The router's nftables file from the command line (absolute), over the lab file's. */
  readonly nftables: string | null
  readonly simulated: boolean
  readonly speed: number
  readonly bind: ControlBind | undefined
}

export interface PlacedLab {
  readonly placement: LabPlacement
  readonly nodes: NodeSet
  /** A netns lab's router namespace: the host reaches the lab's addresses from there. */
  readonly router?: string
}

/** The lab's placement, or null when every device runs in the lab's process. */
export const placeLab = async (input: PlacementInput): Promise<PlacedLab | null> => {
  const { scenario } = input
  const placement = input.placement ?? scenario.placement
  if (placement === "in-process") {
    if (input.nftables !== null) throw new PlacementError(`--nftables is the rule file of a netns lab's router, and lab ${scenario.name} runs in-process; add --netns`)
    return null
  }
  if (placement !== "netns" && input.nftables !== null) throw new PlacementError(`--nftables is the rule file of a netns lab's router, and placement ${placement} has no router; add --netns`)
  if (input.dataDir === null) {
    throw new PlacementError(`placement ${placement} needs a data folder (the device processes share the lab's CA and stores there); drop --memory`)
  }
  if (input.simulated) {
    throw new PlacementError(`placement ${placement} runs every device on the real clock of its own process, and ${scenario.name} asks for clock: simulated; use --clock real, or placement in-process`)
  }
  if (placement === "external") {
    const token = input.env[TOKEN_VARIABLE] ?? ""
    if (token.length < 16) throw new PlacementError(`placement external needs the token its nodes present in ${TOKEN_VARIABLE} (16 characters or more, the same for the lab and every node); set it, for example to $(openssl rand -base64 32 | tr -d /+=)`)
    const nodes = new NodeSet({ scenario, file: null, dataDir: input.dataDir, placement, netns: null, speed: input.speed, bind: input.bind, token })
    return { nodes, placement: { local: new Set(), remote: nodes } }
  }
  let file = input.file
  if (file === null) {
    // The nodes load the lab from a file: the embedded default lab is written beside its data.
    file = path.join(input.dataDir, "default-lab.yaml")
    fs.mkdirSync(input.dataDir, { recursive: true })
    fs.writeFileSync(file, input.defaultText)
  }
  file = path.resolve(file)
  let netns: { readonly plan: ReturnType<typeof netnsPlan>; readonly nftables: string | null } | null = null
  if (placement === "netns") {
    const problem = await netnsProblem()
    if (problem !== null) throw new PlacementError(problem)
    try {
      const plan = netnsPlan(scenario)
      const rules = scenario.netns.nftables
      netns = { plan, nftables: input.nftables ?? (rules === null ? null : path.resolve(path.dirname(file), rules)) }
    } catch (error) {
      if (error instanceof NetnsPlanError) throw new PlacementError(error.message)
      throw error
    }
  }
  const nodes = new NodeSet({ scenario, file, dataDir: input.dataDir, placement, netns, speed: input.speed, bind: input.bind, token: null })
  return {
    nodes,
    ...(netns === null ? {} : { router: netns.plan.router }),
    placement: { local: new Set(), remote: nodes, ...(netns === null ? {} : { addresses: netns.plan.addresses }) }
  }
}
