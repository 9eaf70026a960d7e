/**
 * What each control command does to a lab: lifecycle, fault (kill, restart, freeze, thaw,
 * partition, heal) and burst commands become the lab's own actions (the same ones a scenario
 * step takes); registry commands go to an analyzer, `logs` reads an analyzer's store, and
 * `step` asks the scenario runner to start its waiting step now.
 *
 * Every refusal is a `CommandRefused` whose message is the sentence the error reply carries:
 * it names the device, serial or analyzer at fault and what exists instead.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { Action } from "../lab/scenario/schema.ts"
import { readLogs } from "./log-query.ts"
import type { CommandName, CommandResult, CommandResults, ControlCommand, DegradeCommand, LifecycleCommand, PartitionCommand } from "./protocol.ts"
import type { ControlAnalyzer, ControlTarget, Explained } from "./target.ts"

export class CommandRefused extends Schema.TaggedError<CommandRefused>()("CommandRefused", { reason: Schema.String }) {
  override get message(): string {
    return this.reason
  }
}

const refuse = (reason: string) => Effect.fail(new CommandRefused({ reason }))

const refused = (error: Explained) => new CommandRefused({ reason: error.message })

const list = (names: ReadonlyArray<string>): string => names.length === 0 ? "none" : names.join(", ")

const needDevice = (target: ControlTarget, id: string): Effect.Effect<void, CommandRefused> =>
  target.devices.has(id) ? Effect.void : refuse(`no device "${id}" in lab ${target.name}; its devices: ${list([...target.devices.keys()])}`)

const perform = (target: ControlTarget, device: string, action: Action) =>
  needDevice(target, device).pipe(Effect.andThen(target.perform(action).pipe(Effect.mapError(refused))))

/**
 * The analyzers a registry command is about: the one named, else all of them but HA
 * secondaries (an HA group's registry is its primary's; the secondaries hold copies).
 */
const analyzersFor = (target: ControlTarget, id: string | undefined): Effect.Effect<ReadonlyArray<ControlAnalyzer>, CommandRefused> => {
  const analyzers = target.analyzers()
  if (analyzers.length === 0) return refuse(`lab ${target.name} has no analyzer, so it has no device registry`)
  if (id === undefined) {
    const copies = new Set(target.haRoles().filter((member) => member.role !== "primary").map((member) => member.device))
    const registries = analyzers.filter((analyzer) => !copies.has(analyzer.id))
    return Effect.succeed(registries.length === 0 ? analyzers : registries)
  }
  const found = analyzers.find((analyzer) => analyzer.id === id)
  return found === undefined
    ? refuse(`no analyzer "${id}" in lab ${target.name}; its analyzers: ${list(analyzers.map((a) => a.id))}`)
    : Effect.succeed([found])
}

/** The analyzer that holds `serial`: the one named, the only one, or the one whose registry lists it. */
const analyzerOf = (target: ControlTarget, serial: string, id: string | undefined): Effect.Effect<ControlAnalyzer, CommandRefused> =>
  analyzersFor(target, id).pipe(
    Effect.flatMap((analyzers) => {
      const [only] = analyzers
      if (analyzers.length === 1 && only !== undefined) return Effect.succeed(only)
      const holding = analyzers.filter((analyzer) => analyzer.listDevices().some((device) => device.serial === serial))
      const [found] = holding
      if (holding.length === 1 && found !== undefined) return Effect.succeed(found)
      return refuse(
        holding.length === 0
          ? `no analyzer of lab ${target.name} has seen serial ${serial}; name one with analyzer (${list(analyzers.map((a) => a.id))})`
          : `serial ${serial} is registered on ${list(holding.map((a) => a.id))}; name one with analyzer`
      )
    })
  )

/**
 * The analyzer whose logs `logs` reads: the one named (an HA group's name means its primary),
 * else the HA primary or the only analyzer. While a group has no primary (an election is under
 * way) its first running member answers: it holds copies of the primary's logs.
 */
const logAnalyzer = (target: ControlTarget, id: string | undefined): Effect.Effect<ControlAnalyzer, CommandRefused> => {
  const analyzers = target.analyzers()
  if (analyzers.length === 0) return refuse(`lab ${target.name} has no analyzer, so it has no stored logs`)
  const roles = target.haRoles()
  const byId = (name: string | undefined) => analyzers.find((analyzer) => analyzer.id === name)
  if (id !== undefined) {
    const primary = roles.find((member) => member.group === id && member.role === "primary")?.device
    const found = byId(id) ?? byId(primary)
    if (found !== undefined) return Effect.succeed(found)
    return refuse(
      roles.some((member) => member.group === id)
        ? `HA group ${id} has no primary right now; name one of its members with analyzer`
        : `no analyzer "${id}" in lab ${target.name}; its analyzers: ${list(analyzers.map((a) => a.id))}`
    )
  }
  const members = new Set(roles.map((member) => member.device))
  const running = (analyzer: ControlAnalyzer) => target.devices.get(analyzer.id)?.status() === "running"
  const groupAnswer = (group: string): ControlAnalyzer | undefined => {
    const inGroup = analyzers.filter((analyzer) => roles.some((member) => member.device === analyzer.id && member.group === group))
    const primary = roles.find((member) => member.group === group && member.role === "primary")?.device
    return inGroup.find((analyzer) => analyzer.id === primary) ?? inGroup.find(running) ?? inGroup[0]
  }
  const grouped = [...new Set(roles.map((member) => member.group))].map(groupAnswer).filter((analyzer) => analyzer !== undefined)
  const candidates = [...analyzers.filter((analyzer) => !members.has(analyzer.id)), ...grouped]
  const [only] = candidates
  return candidates.length === 1 && only !== undefined
    ? Effect.succeed(only)
    : refuse(`lab ${target.name} stores logs on ${list(candidates.map((a) => a.id))}; name one with analyzer`)
}

const statusOf = (target: ControlTarget, device: string): string => target.devices.get(device)?.status() ?? "unknown"

/** Commands only a node sends; the server takes them (src/control/server.ts), never a handler here. */
type NodeCommandName = "node-hello" | "node-events" | "address"

const NODE_ONLY = "is sent by a device node (fazlab node) to its lab, and this lab runs no device in a process of its own"

type Handlers = {
  readonly [K in Exclude<keyof CommandResults, NodeCommandName>]: (
    target: ControlTarget,
    command: Extract<ControlCommand, { readonly name: K }>
  ) => Effect.Effect<CommandResults[K], CommandRefused>
}

const lifecycleAction = (name: (typeof LifecycleCommand.Type)["name"], device: string): Action => {
  switch (name) {
    case "stop":
      return { stop: device }
    case "start":
      return { start: device }
    case "pause":
      return { pause: device }
    case "resume":
      return { resume: device }
    case "kill":
      return { kill: device }
    case "restart":
      return { restart: device }
    case "freeze":
      return { freeze: device }
    case "thaw":
      return { thaw: device }
  }
}

const lifecycle = (target: ControlTarget, command: typeof LifecycleCommand.Type) => {
  const { name, device } = command
  return perform(target, device, lifecycleAction(name, device)).pipe(Effect.map(() => ({ device, status: statusOf(target, device) })))
}

const partition = (target: ControlTarget, command: typeof PartitionCommand.Type) => {
  const [a, b] = command.members
  const cut = command.name === "partition"
  return needDevice(target, a).pipe(
    Effect.andThen(perform(target, b, cut ? { partition: [a, b] } : { heal: [a, b] })),
    Effect.as({ members: [a, b], partitioned: cut })
  )
}

const degrade = (target: ControlTarget, command: typeof DegradeCommand.Type) => {
  const [a, b] = command.members
  const { hbDelayMs, hbLoss } = command
  return needDevice(target, a).pipe(
    Effect.andThen(perform(target, b, { degrade: { members: [a, b], hbDelay: hbDelayMs, hbLoss } })),
    Effect.as({ members: [a, b], hbDelayMs, hbLoss })
  )
}

const HANDLERS: Handlers = {
  stop: lifecycle,
  start: lifecycle,
  pause: lifecycle,
  resume: lifecycle,
  kill: lifecycle,
  restart: lifecycle,
  freeze: lifecycle,
  thaw: lifecycle,
  partition,
  heal: partition,
  degrade,
  burst: (target, { device, count }) => perform(target, device, { burst: { device, count } }).pipe(Effect.as({ device, count })),
  devices: (target, command) =>
    analyzersFor(target, command.analyzer).pipe(
      Effect.map((analyzers) => ({
        devices: analyzers.flatMap((analyzer) => analyzer.listDevices().map((device) => ({ ...device, analyzer: analyzer.id })))
      }))
    ),
  authorize: (target, { serial, adom, analyzer: named }) =>
    analyzerOf(target, serial, named).pipe(
      Effect.flatMap((analyzer) =>
        analyzer.authorizeDevice(serial, adom ?? null).pipe(
          Effect.mapError(refused),
          Effect.map(({ released }) => ({
            analyzer: analyzer.id,
            serial,
            adom: analyzer.listDevices().find((device) => device.serial === serial)?.adom ?? adom ?? null,
            released
          }))
        )
      )
    ),
  logs: (target, command) =>
    logAnalyzer(target, command.analyzer).pipe(
      Effect.flatMap((analyzer) =>
        Effect.try({
          try: () => readLogs(analyzer.id, analyzer.store, command),
          catch: (error) =>
            new CommandRefused({ reason: `cannot read the logs of ${analyzer.id}: ${error instanceof Error ? error.message : String(error)}` })
        })
      )
    ),
  step: (target) => target.stepNow().pipe(Effect.mapError(refused)),
  sent: (target, { device, analyzers }) =>
    target.senderFacts === undefined
      ? refuse(`lab ${target.name} cannot say what ${device} sent`)
      : target.senderFacts(device, analyzers).pipe(Effect.mapError(refused)),
  "delete-device": (target, { serial, analyzer: named }) =>
    analyzerOf(target, serial, named).pipe(
      Effect.flatMap((analyzer) =>
        analyzer.deleteDevice(serial).pipe(
          Effect.mapError(refused),
          Effect.map(({ dropped }) => ({ analyzer: analyzer.id, serial, dropped }))
        )
      )
    )
}

/** The effect of one decoded command; its success is the ok reply's `result`. */
export const commandEffect = <C extends ControlCommand>(target: ControlTarget, command: C): Effect.Effect<CommandResult<C>, CommandRefused> => {
  if (command.name === "node-hello" || command.name === "node-events" || command.name === "address") return refuse(`${command.name} ${NODE_ONLY}`)
  // A device in another process answers for itself.
  const forwarded = target.forward?.(command)
  if (forwarded !== null && forwarded !== undefined) return forwarded.pipe(Effect.map((result) => result as CommandResult<C>), Effect.mapError(refused))
  // The handler picked by the command's own name takes exactly that command.
  return (HANDLERS[command.name as Exclude<CommandName, NodeCommandName>] as unknown as (target: ControlTarget, command: C) => Effect.Effect<CommandResult<C>, CommandRefused>)(target, command)
}
