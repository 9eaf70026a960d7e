/**
 * A running lab: the topology of a scenario turned into devices on one port plan, one clock
 * and one event bus, with the actions a scenario step (or, later, the control channel) can
 * take on it.
 *
 * `Lab.make` is scoped: when its scope closes every device stops and every store closes, so a
 * lab never outlives the command that started it. Analyzers start before senders, so senders
 * find their receivers listening.
 *
 * HA groups (`ha:` in the scenario) become the members' `HaGroupConfig`; a group with a virtual IP
 * gets its own address in the port plan, under the group's name, which senders may name. Each
 * group has one `LabHaNetwork` (`ha-network.ts`): the faults `partition` / `heal` cut and restore HA traffic between
 * two of its members there; `freeze` / `thaw` make a member silent and bring it back. Every fault
 * (those two, and `kill` / `restart` of any device) is published as a `fault` event first.
 *
 * The lab's bus knows its devices: a `logs-stored` event whose `from` (the name the analyzer
 * files logs under: a FortiClient's hostname, a FortiGate's devname) is the name of one lab
 * device also carries that device's id as `sender`, so consumers keyed by lab id (the UI) find it.
 *
 * Devices may run elsewhere (`placement`, docs/placement.md): a device node (`fazlab node`) builds
 * a lab of its one device (`local`) on the same port plan; the lab that spawned the nodes holds a
 * stand-in for each (`RemoteDevices.device`) and sends actions, expectations and questions about
 * them to their nodes (`RemoteDevices`, implemented in src/placement/).
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as net from "node:net"
import * as dgram from "node:dgram"
import { EventBus, type Subscriber } from "../events/bus.ts"
import type { FaultKind, LabEvent, LabEventBody, PortKey } from "../events/events.ts"
import { FortiAnalyzer } from "../devices/fortianalyzer/analyzer.ts"
import { fortianalyzer as fortianalyzerKind } from "../devices/fortianalyzer/kind.ts"
import { ActionError, type Device, type DeviceContext, type LogSource } from "../devices/device.ts"
import { type KindRegistry, registry as shippedRegistry } from "../devices/registry.ts"
import type { LabClock } from "../machines/clock.ts"
import type { BindError } from "../net/errors.ts"
import { type Addressing, chooseBase, placementProblem, type PortBase, PortPlan, transportOf } from "../net/port-plan.ts"
import type { AnalyzerHa } from "../devices/fortianalyzer/ha-member.ts"
import type { LabHaNetwork } from "./ha-network.ts"
import { LabPki } from "../net/pki.ts"
import { dialTcp } from "../net/tcp.ts"
import { openUdpSender } from "../net/udp.ts"
import type { Action, Expectation, Scenario } from "./scenario/schema.ts"
import type { DeviceSpec } from "../devices/kind.ts"
import type { Check } from "./expectations.ts"
import { aliasesOf, groupOfMember, haGroups, type LabHaGroup, type Lifecycle, lifecycleOrder, peerOfRow, plannedPorts } from "./topology.ts"

/** The bus of a lab: `logs-stored` events name their sender's lab id where the lab has one. */
class LabBus extends EventBus {
  /** Lab id by the name its logs are filed under (only names that belong to one device). */
  senders: ReadonlyMap<string, string> = new Map()

  override publish(body: LabEventBody): LabEvent {
    if (body.type !== "logs-stored" || body.sender !== undefined) return super.publish(body)
    const sender = this.senders.get(body.from)
    return super.publish(sender === undefined ? body : { ...body, sender })
  }
}

/** Each log source's lab id by its hostname (a device in another process: its `senderName`); a hostname two devices share names neither. */
const sendersByName = (devices: ReadonlyMap<string, Device>): ReadonlyMap<string, string> => {
  const ids = new Map<string, string | null>()
  for (const [id, device] of devices) {
    const name = "sentTo" in device ? (device as LogSource).hostname : "senderName" in device && typeof device.senderName === "string" ? device.senderName : null
    if (name === null) continue
    ids.set(name, ids.has(name) ? null : id)
  }
  return new Map([...ids].flatMap(([name, id]) => (id === null ? [] : [[name, id] as const])))
}

/** The step `stepNow` started: its number (from 1) and title. */
export interface StepStarted {
  readonly step: number
  readonly title: string
}

export class PlanError extends Schema.TaggedError<PlanError>()("PlanError", { reason: Schema.String }) {
  override get message(): string {
    return this.reason
  }
}

/** A log sender as an expectation reads it: the name its logs are filed under, and the highest sequence it generated. */
export interface SenderFacts {
  readonly hostname: string
  readonly sent: number
}

/** The devices of the lab that run in other processes, and how the lab reaches them. */
export interface RemoteDevices {
  /** The stand-in of a device that runs elsewhere (the lab that spawns nodes); absent in a node, which knows only its own device. */
  readonly device?: (id: string, spec: DeviceSpec, plan: PortPlan) => Device
  /** Runs in the lab's scope once the lab is built, before any device starts (the lab that spawns nodes serves its control channel there). */
  readonly prepare?: (lab: Lab) => Effect.Effect<void, PlanError, Scope.Scope>
  /** Performs an action about a device that runs elsewhere; null when it is about this process's devices. */
  perform(action: Action): Effect.Effect<void, ActionError> | null
  /** Checks an expectation about a device that runs elsewhere; null when this process checks it. */
  check(expectation: Expectation): Promise<Check> | null
  /** A log sender that runs elsewhere, or null when none is known by that id. */
  senderFacts(device: string, analyzers: ReadonlyArray<string>): Promise<SenderFacts | null>
  /** HA members that run elsewhere: their groups and roles as last reported. */
  haRoles(): ReadonlyArray<{ readonly device: string; readonly group: string; readonly role: string }>
}

/** Where a lab's devices run when not all in its own process. */
export interface LabPlacement {
  /** The devices built in this process (a node: its own); the others are `remote`. */
  readonly local: ReadonlySet<string>
  readonly remote: RemoteDevices
  /** Each device's and HA group's address (a netns lab's subnet), instead of loopback. */
  readonly addresses?: ReadonlyMap<string, string>
  /** The addresses the host takes and gives back (a netns node: the VIP on its interface). */
  readonly host?: DeviceContext["host"]
}

export interface LabOptions {
  readonly scenario: Scenario
  /** The lab's data folder; null keeps stores in memory. */
  readonly dataDir: string | null
  /** A port base, "ephemeral" (kernel-chosen ports, for tests) or "auto" (documented ports if possible, else a free base). */
  readonly portBase: PortBase | "auto"
  readonly addressing: Addressing
  readonly clock: LabClock
  /** Subscribed before the first event, so it sees the whole lab from start to stop. */
  readonly onEvent?: Subscriber
  /** The device kinds the scenario was loaded with; default: the kinds fazlab ships. */
  readonly registry?: KindRegistry
  /** Devices that run in other processes; default: every device runs here. */
  readonly placement?: LabPlacement
}

export class Lab {
  readonly name: string
  readonly bus: EventBus
  readonly plan: PortPlan
  readonly clock: LabClock
  readonly dataDir: string | null
  readonly devices: ReadonlyMap<string, Device>
  readonly pki: LabPki
  /** HA groups by name (the scenario's `ha:` keys). */
  readonly groups: ReadonlyMap<string, LabHaGroup>
  readonly #autostart: ReadonlySet<string>
  /** Each HA member's group. */
  readonly #groupOf: ReadonlyMap<string, LabHaGroup>
  /** Device ids in start order (each after the devices it dials) and stop order. */
  readonly #order: Lifecycle
  /** The scenario runner's "start the waiting step now", while a scenario runs (see `runSteps`). */
  #stepNow: (() => Effect.Effect<StepStarted, ActionError>) | null = null
  readonly #remote: RemoteDevices | null
  /** Every device of the lab file, here or elsewhere. */
  readonly #specs: ReadonlyMap<string, DeviceSpec>

  private constructor(options: LabOptions, plan: PortPlan, pki: LabPki) {
    this.name = options.scenario.name
    this.clock = options.clock
    this.dataDir = options.dataDir
    this.plan = plan
    this.pki = pki
    const bus = new LabBus(() => options.clock.now())
    this.bus = bus
    if (options.onEvent !== undefined) this.bus.subscribe(options.onEvent)
    const placement = options.placement
    this.#remote = placement?.remote ?? null
    this.#specs = options.scenario.devices
    const host = placement?.host
    const context: DeviceContext = { bus: this.bus, plan, clock: options.clock, dataDir: options.dataDir, pki, ...(host === undefined ? {} : { host }) }
    const registry = options.registry ?? shippedRegistry
    const devices = new Map<string, Device>()
    const autostart = new Set<string>()
    this.groups = haGroups(options.scenario)
    const groupOf = groupOfMember(this.groups)
    this.#groupOf = groupOf
    for (const [id, spec] of options.scenario.devices) {
      const kind = registry.of(spec)
      if (placement !== undefined && !placement.local.has(id)) {
        const standIn = placement.remote.device?.(id, spec, plan)
        if (standIn === undefined) continue
        devices.set(id, standIn)
        // Its node is started with the lab, and starts the device itself when the lab file says so.
        autostart.add(id)
        continue
      }
      devices.set(id, kind.build({ id, spec, context, group: groupOf.get(id) ?? null, aliases: (name) => aliasesOf(options.scenario, name), peerOfRow: (row) => peerOfRow(options.scenario, registry, row) }))
      if (kind.autostart(spec)) autostart.add(id)
    }
    this.#order = lifecycleOrder(options.scenario, registry)
    this.devices = devices
    this.#autostart = autostart
    bus.senders = sendersByName(devices)
  }

  /** Builds the lab and starts its devices; the scope's end stops them and closes the stores. */
  static make(options: LabOptions): Effect.Effect<Lab, BindError | PlanError, Scope.Scope> {
    return Effect.gen(function*() {
      const ids = [...options.scenario.devices.keys()]
      const addressing = options.addressing
      const groups = haGroups(options.scenario)
      const vips = [...groups.values()].filter((group) => group.vip).map((group) => group.group)
      const addresses = options.placement?.addresses
      // Before anything binds or starts: every device and virtual IP must get its address.
      const unplaceable = addresses !== undefined ? null : yield* Effect.promise(() => placementProblem(options.scenario.name, ids.length + vips.length, addressing))
      if (unplaceable !== null) return yield* new PlanError({ reason: unplaceable })
      const plan = (base: PortBase) => new PortPlan({ base, addressing, devices: ids, groups: vips, ...(addresses === undefined ? {} : { addresses }) })
      const provisional = plan(0)
      let base: PortBase
      // A netns lab's devices each have their network namespace: the documented ports are theirs.
      if (addresses !== undefined) base = 0
      else if (options.portBase === "auto") {
        const wanted = plannedPorts(options.scenario, options.registry ?? shippedRegistry, groupOfMember(groups))
          .map(({ at, port }) => ({ address: provisional.addressOf(at), port }))
        const chosen = yield* Effect.promise(() => chooseBase(wanted))
        if (chosen === null) {
          return yield* new PlanError({
            reason: "no free port base found for the lab's listeners (tried the documented ports and bases 20000-50000); pass --port-base N with a free range"
          })
        }
        base = chosen
      } else {
        base = options.portBase
      }
      const pki = yield* Effect.promise(() => LabPki.load({ dir: options.dataDir, labName: options.scenario.name }))
      const lab = yield* Effect.acquireRelease(
        Effect.sync(() => new Lab(options, plan(base), pki)),
        (lab) => lab.dispose()
      )
      lab.bus.publish({ type: "lab-started", lab: lab.name, dataDir: lab.dataDir })
      const prepare = options.placement?.remote.prepare
      if (prepare !== undefined) yield* prepare(lab)
      yield* lab.startAll()
      return lab
    })
  }

  /** Every analyzer's id, wherever it runs. */
  analyzerIds(): ReadonlyArray<string> {
    return [...this.devices.values()].filter((device) => device.kind === fortianalyzerKind.name).map((device) => device.id)
  }

  analyzers(): ReadonlyArray<FortiAnalyzer> {
    return [...this.devices.values()].filter((device): device is FortiAnalyzer => device instanceof FortiAnalyzer)
  }

  /** Every HA member's group and role right now (for the control channel's snapshot); members elsewhere as last reported. */
  haRoles(): ReadonlyArray<{ readonly device: string; readonly group: string; readonly role: string }> {
    const here = this.analyzers().flatMap((analyzer) => (analyzer.ha === null ? [] : [{ device: analyzer.id, group: analyzer.ha.group, role: analyzer.ha.role() }]))
    return this.#remote === null ? here : [...here, ...this.#remote.haRoles()]
  }

  /** The result of an expectation about a device in another process (checked there); null when it is checked here. */
  checkElsewhere(expectation: Expectation): Promise<Check> | null {
    return this.#remote?.check(expectation) ?? null
  }

  /** A log sender's name and the highest sequence it generated for any of `analyzers`, wherever it runs; null when no sender has that id. */
  sentBy(device: string, analyzers: ReadonlyArray<string>): Promise<SenderFacts | null> {
    const sender = this.sender(device)
    if (sender !== undefined) return Promise.resolve({ hostname: sender.hostname, sent: Math.max(0, ...analyzers.map((a) => sender.sentTo(a))) })
    return this.#remote?.senderFacts(device, analyzers) ?? Promise.resolve(null)
  }

  /**
   * While a scenario runs, `stepNow` starts its waiting step through `start`; the returned
   * function ends that (the runner calls it when the scenario is over).
   */
  runSteps(start: () => Effect.Effect<StepStarted, ActionError>): () => void {
    this.#stepNow = start
    return () => {
      if (this.#stepNow === start) this.#stepNow = null
    }
  }

  /** Starts the scenario step that waits for its `at` / `after` time now (the control channel's `step`). */
  stepNow(): Effect.Effect<StepStarted, ActionError> {
    return this.#stepNow?.() ?? Effect.fail(new ActionError({
      action: "step",
      reason: `no scenario is running in lab ${this.name}, so no step waits; steps belong to fazlab run SCENARIO.yaml`
    }))
  }

  device(id: string): Device | undefined {
    return this.devices.get(id)
  }

  /** The log source with this id (a FortiGate or FortiClient), if it is one. */
  sender(id: string): LogSource | undefined {
    const device = this.devices.get(id)
    return device !== undefined && "sentTo" in device ? device as LogSource : undefined
  }

  /** Starts every autostart device, each after the devices it dials (analyzers before their senders). */
  startAll(): Effect.Effect<void, BindError> {
    const ordered = this.#order.start.filter((id) => this.#autostart.has(id)).flatMap((id) => this.devices.get(id) ?? [])
    return Effect.forEach(ordered, (device) => device.start(), { discard: true })
  }

  /**
   * Stops the devices that dial others first (so their last logs arrive), then the devices they
   * dial (analyzers), HA primaries last (a secondary that outlived its primary would take over
   * for a moment); closes the stores.
   */
  dispose(): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      const isPrimary = (device: Device): boolean => device instanceof FortiAnalyzer && device.ha?.role() === "primary"
      const ordered = self.#order.stop.flatMap((id) => self.devices.get(id) ?? [])
      for (const device of ordered.toSorted((a, b) => Number(isPrimary(a)) - Number(isPrimary(b)))) yield* device.dispose()
      self.bus.publish({ type: "lab-stopped", lab: self.name })
    })
  }

  perform(action: Action): Effect.Effect<void, ActionError | BindError> {
    const self = this
    const elsewhere = this.#remote?.perform(action) ?? null
    if (elsewhere !== null) return elsewhere
    return Effect.gen(function*() {
      if ("start" in action) return yield* (yield* self.#need(action.start, "start")).start()
      if ("stop" in action) return yield* (yield* self.#need(action.stop, "stop")).stop()
      if ("kill" in action) {
        const device = yield* self.#need(action.kill, "kill")
        self.#fault("kill", [device.id], `${device.id} is killed: no goodbye, its connections are cut and what it had not stored is lost`)
        return yield* device.kill()
      }
      if ("restart" in action) {
        const device = yield* self.#need(action.restart, "restart")
        self.#fault("restart", [device.id], `${device.id} restarts: a clean stop, then a start`)
        yield* device.stop()
        return yield* device.start()
      }
      if ("partition" in action || "heal" in action) {
        const cut = "partition" in action
        const [a = "", b = ""] = cut ? action.partition : action.heal
        const verb = cut ? "partition" : "heal"
        const network = yield* self.#needPair(a, b, verb)
        if (cut) {
          if (network.isCut(a, b)) return yield* new ActionError({ action: `partition ${a} ${b}`, reason: `${a} and ${b} are already partitioned` })
          self.#fault("partition", [a, b], `${a} and ${b} are partitioned: HA traffic between them is cut both ways; both stay up`)
          network.partition(a, b)
        } else {
          if (!network.isCut(a, b) && !network.isDegraded(a, b)) {
            return yield* new ActionError({ action: `heal ${a} ${b}`, reason: `${a} and ${b} are neither partitioned nor degraded; nothing to heal` })
          }
          self.#fault("heal", [a, b], `the network between ${a} and ${b} is healed: HA traffic flows normally again`)
          network.heal(a, b)
          network.restore(a, b)
        }
        return
      }
      if ("degrade" in action) {
        const [a = "", b = ""] = action.degrade.members
        const network = yield* self.#needPair(a, b, "degrade")
        const { hbDelay, hbLoss } = action.degrade
        self.#fault("degrade", [a, b], `heartbeats between ${a} and ${b} now arrive ${hbDelay} ms late and ${hbLoss}% of them are lost; heal restores them`)
        network.degrade(a, b, { delayMs: hbDelay, lossPercent: hbLoss })
        return
      }
      if ("freeze" in action) {
        const { ha } = yield* self.#needMember(action.freeze, "freeze")
        const id = action.freeze
        if (ha.phase() === "stopped") return yield* new ActionError({ action: `freeze ${id}`, reason: `${id} is stopped; start it before freezing it` })
        if (ha.phase() === "frozen") return yield* new ActionError({ action: `freeze ${id}`, reason: `${id} is already frozen; thaw it first` })
        self.#fault("freeze", [id], `${id} is frozen: alive but silent (no heartbeats, no answers) until thawed`)
        return ha.freeze()
      }
      if ("thaw" in action) {
        const { ha } = yield* self.#needMember(action.thaw, "thaw")
        const id = action.thaw
        if (ha.phase() !== "frozen") return yield* new ActionError({ action: `thaw ${id}`, reason: `${id} is not frozen; freeze it first` })
        self.#fault("thaw", [id], `${id} is thawed: it starts over and looks for a primary`)
        return ha.thaw()
      }
      if ("authorize" in action || "deleteDevice" in action) {
        const target = "authorize" in action ? action.authorize : action.deleteDevice
        const verb = "authorize" in action ? "authorize" : "delete-device"
        const analyzer = yield* self.#needAnalyzer(target.analyzer, verb)
        const serial = self.serialOf(target.device)
        if ("authorize" in action) yield* analyzer.authorizeDevice(serial, action.authorize.adom)
        else yield* analyzer.deleteDevice(serial)
        return
      }
      if ("load" in action) {
        const { device, ...load } = action.load
        return (yield* self.#needAnalyzer(device, "load")).alerts.setLoad(load)
      }
      if ("pause" in action) return (yield* self.#needSender(action.pause, "pause")).pause()
      if ("resume" in action) return (yield* self.#needSender(action.resume, "resume")).resume()
      if ("burst" in action) return (yield* self.#needSender(action.burst.device, "burst")).burst(action.burst.count)
      const { to, port, payload, repeat } = action.sendRaw
      const target = self.plan.resolve(to, port)
      yield* Effect.tryPromise({
        try: () => sendRaw(target.address, target.actualPort, port, payload, repeat),
        catch: (cause) => new ActionError({ action: `send-raw to ${to} ${port}`, reason: String(cause) })
      })
    })
  }

  #fault(fault: FaultKind, devices: ReadonlyArray<string>, reason: string): void {
    this.bus.publish({ type: "fault", fault, devices, reason })
  }

  /** The HA side of an analyzer that is a member of a group. */
  #needMember(id: string, verb: string): Effect.Effect<{ readonly ha: AnalyzerHa; readonly group: LabHaGroup }, ActionError> {
    const device = this.devices.get(id)
    const ha = device instanceof FortiAnalyzer ? device.ha : null
    const group = this.#groupOf.get(id)
    if (ha !== null && group !== undefined) return Effect.succeed({ ha, group })
    const members = [...this.groups.values()].flatMap((group) => group.members.map((member) => member.name))
    return Effect.fail(new ActionError({
      action: `${verb} ${id}`,
      reason: device === undefined ? `no device ${id} in this lab` : `${id} is in no HA group; HA members: ${members.length === 0 ? "none" : members.join(", ")}`
    }))
  }

  /** The network of the HA group that `a` and `b` (two different members) are both in. */
  #needPair(a: string, b: string, verb: string): Effect.Effect<LabHaNetwork, ActionError> {
    const self = this
    return Effect.gen(function*() {
      const first = yield* self.#needMember(a, verb)
      const second = yield* self.#needMember(b, verb)
      if (a === b) return yield* new ActionError({ action: `${verb} ${a} ${b}`, reason: `name two different members, got ${a} twice` })
      if (first.group !== second.group) {
        return yield* new ActionError({ action: `${verb} ${a} ${b}`, reason: `${a} is in HA group ${first.group.group} and ${b} in ${second.group.group}; name two members of one group` })
      }
      return first.group.network
    })
  }

  #need(id: string, verb: string): Effect.Effect<Device, ActionError> {
    const device = this.devices.get(id)
    return device === undefined
      ? Effect.fail(new ActionError({ action: `${verb} ${id}`, reason: `no device ${id} in this lab` }))
      : Effect.succeed(device)
  }

  /** A lab device id to its serial; anything else is taken as a serial already. */
  serialOf(idOrSerial: string): string {
    // A device in another process is in the lab file, if not in this process's device list.
    return this.devices.get(idOrSerial)?.serial ?? this.#specs.get(idOrSerial)?.serial ?? idOrSerial
  }

  /** An analyzer by id; an HA group's name means its acting primary; null means the only analyzer. */
  analyzer(id: string | null): FortiAnalyzer | undefined {
    const analyzers = this.analyzers()
    if (id === null) return analyzers.length === 1 ? analyzers[0] : undefined
    if (this.groups.has(id)) return analyzers.find((a) => a.ha?.config.group === id && a.ha.role() === "primary")
    return analyzers.find((a) => a.id === id)
  }

  #needAnalyzer(id: string | null, verb: string): Effect.Effect<FortiAnalyzer, ActionError> {
    const analyzer = this.analyzer(id)
    return analyzer === undefined
      ? Effect.fail(new ActionError({ action: verb, reason: id === null ? "name the analyzer: this lab has more than one" : `${id} is not an analyzer of this lab` }))
      : Effect.succeed(analyzer)
  }

  #needSender(id: string, verb: string): Effect.Effect<LogSource, ActionError> {
    const sender = this.sender(id)
    return sender === undefined
      ? Effect.fail(new ActionError({ action: `${verb} ${id}`, reason: `${id} is not a log sender` }))
      : Effect.succeed(sender)
  }

  /** Whether something accepts on a device's documented port, seen from outside as a client would. */
  probe(device: string, port: PortKey): Promise<boolean> {
    const target = this.plan.resolve(device, port)
    if (target.actualPort === 0) return Promise.resolve(false)
    return transportOf(port) === "tcp" ? probeTcp(target.address, target.actualPort) : probeUdpBound(target.address, target.actualPort)
  }
}

const probeTcp = (host: string, port: number): Promise<boolean> =>
  dialTcp({ host, port, timeoutMs: 1000 }).then(
    (socket) => {
      socket.destroy()
      return true
    },
    () => false
  )

/** UDP has no handshake: a UDP port is taken when binding it exclusively fails with EADDRINUSE. */
const probeUdpBound = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = dgram.createSocket({ type: net.isIPv6(host) ? "udp6" : "udp4" })
    socket.once("error", (cause: NodeJS.ErrnoException) => {
      socket.close()
      resolve(cause.code === "EADDRINUSE")
    })
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve(false)))
  })

const sendRaw = async (host: string, port: number, documented: PortKey, payload: Uint8Array, repeat: number): Promise<void> => {
  if (transportOf(documented) === "udp") {
    const socket = await openUdpSender({ host })
    try {
      for (let i = 0; i < repeat; i++) await socket.send(payload, 0, payload.length, port, host)
    } finally {
      await socket.close()
    }
    return
  }
  const socket = await dialTcp({ host, port, timeoutMs: 5000 })
  await new Promise<void>((resolve) => {
    for (let i = 0; i < repeat; i++) socket.write(payload)
    socket.end(() => resolve())
    socket.on("error", () => resolve())
  })
  await new Promise<void>((resolve) => {
    if (socket.destroyed) return resolve()
    socket.once("close", () => resolve())
    setTimeout(() => socket.destroy(), 2000).unref()
  })
}
