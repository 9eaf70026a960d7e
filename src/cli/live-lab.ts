/**
 * A lab on the real clock as `fazlab up` and `fazlab probe LAB.yaml` start it: placed as the lab
 * flags say (`placeLiveLab`: its node processes or network namespaces, a placement problem as a
 * usage error), then made in the caller's scope with the same `Lab.make` settings
 * (`makeLiveLab`). `fazlab run` places its own, since its clock may be simulated.
 */
import * as path from "node:path"
import type { ControlBind } from "../control/access.ts"
import type { LabEvent } from "../events/events.ts"
import { Lab } from "../lab/lab.ts"
import type { Scenario } from "../lab/scenario/schema.ts"
import { RealLabClock } from "../machines/clock.ts"
import { type PlacedLab, PlacementError, placeLab } from "../placement/setup.ts"
import { type CliIo, UsageError } from "./io.ts"
import type { LabFlags } from "./lab-flags.ts"

/** Where the lab comes from and what it keeps: its file (null: the embedded default lab, `defaultText`), its data folder, the control channel's bind. */
export interface LiveLabSource {
  readonly scenario: Scenario
  readonly file: string | null
  readonly defaultText: string
  readonly dataDir: string | null
  readonly bind: ControlBind | undefined
}

/** Lab time runs `--speed` times faster, else at the lab file's `speed`. */
const speedOf = (flags: LabFlags, scenario: Scenario): number => flags.speed ?? scenario.speed

/** Places the lab on the real clock; null: it runs in this process. */
export const placeLiveLab = (io: CliIo, flags: LabFlags, source: LiveLabSource): Promise<PlacedLab | null> =>
  placeLab({
    ...source,
    env: io.env,
    placement: flags.placement,
    nftables: flags.nftables === null ? null : path.resolve(io.cwd, flags.nftables),
    simulated: false,
    speed: speedOf(flags, source.scenario)
  }).catch((error: unknown) => {
    throw error instanceof PlacementError ? new UsageError(error.message) : error
  })

/** Makes the lab `placeLiveLab` placed, in the caller's scope, on the real clock. */
export const makeLiveLab = (
  flags: LabFlags,
  source: LiveLabSource,
  placed: PlacedLab | null,
  onEvent?: (event: LabEvent) => void
) =>
  Lab.make({
    scenario: source.scenario,
    dataDir: source.dataDir,
    portBase: flags.portBase,
    addressing: flags.addressing,
    clock: new RealLabClock(speedOf(flags, source.scenario)),
    ...(placed === null ? {} : { placement: placed.placement }),
    ...(onEvent === undefined ? {} : { onEvent })
  })
