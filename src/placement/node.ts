/**
 * One device of a lab file as its own process (`fazlab node`, docs/placement.md): a lab of that
 * one device, built by its kind from its settings, the lab file's port plan, the lab clock and a
 * bus, on its documented ports (or the lab's port base), that reports its events to the lab over
 * the control channel and takes the lab's requests (`Uplink`).
 *
 * What the device needs of the others comes over the same channel: where their listeners are
 * (the snapshot's listeners, then `listener-bound` / `listener-closed` events, into this
 * process's port plan) and, for an analyzer's `lost` count, what a sender in another process
 * generated (`sent`). The lab's requests are control commands run on this lab as the lab would
 * run them (src/control/commands.ts) and expectations of the lab file, checked here.
 *
 * With `dns` addressing (a node in a container, docs/placement.md) the node listens on every
 * address of its host (0.0.0.0: the container's own network) and reaches every other device, and
 * its HA group's other members, by name (the device id, an HA group's name), as the container
 * network's DNS answers; where the lab says the others listen is then not learnt (it would be
 * their wildcard addresses). It dials the lab until the lab answers: containers start in any order.
 *
 * A lab that stops in order asks its external nodes to stop too (`lab-stopping`): the node then
 * ends as on Ctrl-C (its device stopped cleanly, its last events sent) and exits 0. A lab that
 * is gone without asking (killed, crashed) is dialed again, as any lost link.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { ControlAddress } from "../control/client.ts"
import { commandEffect } from "../control/commands.ts"
import type { NodeRequest, SnapshotMessage } from "../control/protocol.ts"
import type { ControlTarget } from "../control/target.ts"
import type { LabEvent, PortKey } from "../events/events.ts"
import { RealLabClock } from "../machines/clock.ts"
import type { BindError } from "../net/errors.ts"
import type { Addressing, PortBase } from "../net/port-plan.ts"
import { check } from "../lab/expectations.ts"
import { groupOfMember, haGroups } from "../lab/topology.ts"
import { Lab, type PlanError, type RemoteDevices } from "../lab/lab.ts"
import type { Scenario } from "../lab/scenario/schema.ts"
import { netnsPlan } from "./netns-plan.ts"
import { takeAddress } from "./netns.ts"
import { Uplink } from "./uplink.ts"

export interface NodeOptions {
  readonly scenario: Scenario
  readonly id: string
  /** Where the lab is, asked again at every reconnect. */
  readonly lab: () => ControlAddress
  readonly dataDir: string | null
  readonly portBase: PortBase
  /** `dns`: peers by name, this device on every address of its host (containers). */
  readonly addressing: Addressing | "dns"
  readonly speed: number
  readonly placement: "process" | "netns"
  /** Build the device only when the lab sends `start` (the lab spawns all its nodes at once, then begins them in order). */
  readonly hold: boolean
  /** The node's link came up or went down: one line for its output. */
  readonly onLink: (line: string) => void
  /** The lab stops in order and asks its nodes to stop with it (`lab-stopping`): end the node as Ctrl-C does. */
  readonly onLabStopping: () => void
}

/** Where a node in a container listens: every address of its own network. */
const ANY_ADDRESS = "0.0.0.0"

/** Every device and HA group of the lab by its name, as a container network's DNS knows them; `id` and its HA group on every address here. */
const dnsAddresses = (scenario: Scenario, id: string): ReadonlyMap<string, string> => {
  const groups = haGroups(scenario)
  const own = groupOfMember(groups).get(id)?.group
  const names = [...scenario.devices.keys(), ...groups.keys()]
  return new Map(names.map((name) => [name, name === id || name === own ? ANY_ADDRESS : name]))
}

/** A node's lab, as the control commands the lab sends it see it. */
const nodeTarget = (lab: Lab): ControlTarget => ({
  name: lab.name,
  bus: lab.bus,
  devices: lab.devices,
  plan: lab.plan,
  perform: (action) => lab.perform(action),
  analyzers: () => lab.analyzers(),
  haRoles: () => lab.haRoles(),
  stepNow: () => lab.stepNow(),
  senderFacts: (device, analyzers) =>
    Effect.promise(() => lab.sentBy(device, analyzers)).pipe(
      Effect.flatMap((facts) => facts === null ? Effect.fail({ message: `${device} is not a log sender of lab ${lab.name}` }) : Effect.succeed({ device, ...facts }))
    )
})

/**
 * Runs the node until the scope closes: connects to the lab first (its first events wait in the
 * link's buffer), then builds and starts the device. Closing the scope stops the device cleanly
 * and sends its last events before the link closes.
 */
export const runNode = (options: NodeOptions): Effect.Effect<Lab, BindError | PlanError | { readonly message: string }, Scope.Scope> =>
  Effect.gen(function*() {
    const { scenario, id } = options
    let lab: Lab | null = null
    /** Listeners this node's device holds: the lab echoes their events, which must not undo them. */
    const own = new Set<string>()
    /** What was learnt before this node's lab was built. */
    const early: LabEvent[] = []
    // Only bindings are learnt: a listener that closed refuses connections anyway, and an HA
    // group's virtual IP may be bound by its new holder before its old holder's close arrives.
    const byName = options.addressing === "dns"
    const learn = (event: LabEvent) => {
      if (event.type !== "listener-bound" || byName) return
      if (lab === null) return void early.push(event)
      const { device, port, address, actualPort } = event
      if (!own.has(`${device} ${port}`)) lab.plan.recordBound({ device, port, address, actualPort })
    }
    let begin: () => void = () => undefined
    const begun = new Promise<void>((resolve) => (begin = resolve))
    const serve = async (request: NodeRequest): Promise<unknown> => {
      if (request.name === "lab-stopping") {
        options.onLink(`${id}: the lab is stopping; ${id} stops and this node exits`)
        options.onLabStopping()
        return { device: id, stopping: true }
      }
      if (lab === null && request.name === "start" && request.device === id) {
        begin()
        return { device: id, status: "starting" }
      }
      if (lab === null) throw new Error(`${id} is still starting; ask again`)
      if (request.name === "expect") {
        const expectation = scenario.steps[request.step]?.expect[request.index]
        if (expectation === undefined) throw new Error(`the lab file of ${id} has no expectation ${request.index + 1} in step ${request.step + 1}; start the lab and its nodes from the same file`)
        return check(lab, expectation)
      }
      return Effect.runPromise(commandEffect(nodeTarget(lab), request))
    }
    const uplink = new Uplink({
      address: options.lab,
      device: id,
      status: () => {
        const device = lab?.devices.get(id)
        const ha = lab?.haRoles().find((member) => member.device === id)
        return { status: device?.status() ?? "starting", ...(ha === undefined ? {} : { ha: { group: ha.group, role: ha.role } }) }
      },
      serve,
      onSnapshot: (snapshot: SnapshotMessage) => {
        for (const listener of snapshot.listeners) learn({ type: "listener-bound", at: 0, ...listener, port: listener.port as PortKey })
      },
      onEvent: learn,
      onLink: (state, detail) => options.onLink(`${id}: ${state === "connected" ? "" : "lost the lab: "}${detail}`),
      patient: byName
    })
    yield* Effect.acquireRelease(
      Effect.tryPromise({ try: (signal) => uplink.start(signal), catch: (error) => ({ message: error instanceof Error ? error.message : String(error) }) }),
      () => Effect.promise(() => uplink.close(5000))
    )
    if (options.hold) yield* Effect.promise(() => begun)
    const netns = options.placement === "netns" ? netnsPlan(scenario) : null
    const addresses = byName ? dnsAddresses(scenario, id) : netns?.addresses
    const remote: RemoteDevices = {
      // Before the device starts: where the others listen, as learnt so far.
      prepare: (built) =>
        Effect.sync(() => {
          lab = built
          for (const event of early.splice(0)) learn(event)
        }),
      perform: () => null,
      check: () => null,
      senderFacts: (device, analyzers) => uplink.command({ name: "sent", device, analyzers: [...analyzers] }).then((facts) => facts, () => null),
      haRoles: () => []
    }
    const made = yield* Lab.make({
      scenario,
      dataDir: options.dataDir,
      portBase: options.portBase,
      // By name: the operating system picks the source address, as in any container.
      addressing: options.addressing === "dns" ? "shared" : options.addressing,
      clock: new RealLabClock(options.speed),
      onEvent: (event) => {
        if (event.type === "listener-bound") own.add(`${event.device} ${event.port}`)
        if (event.type === "listener-closed") own.delete(`${event.device} ${event.port}`)
        uplink.push(event)
      },
      placement: {
        local: new Set([id]),
        remote,
        ...(addresses === undefined ? {} : { addresses }),
        ...(netns === null ? {} : {
          // The lab says who holds an address: its holder, or null when it is this device's now.
          host: {
            takeAddress: takeAddress(id, async (address, take) => {
              const answer = await uplink.command({ name: "address", device: id, address, take })
              return answer.granted ? null : answer.holder ?? "another device"
            })
          }
        })
      }
    })
    // A device that does not start with the lab sends no event yet: its status tells the lab it is built.
    uplink.report()
    return made
  })
