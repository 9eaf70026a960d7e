/**
 * The lab's side of a lab whose devices run in processes of their own (`placement: process` or
 * `netns`, docs/placement.md). The lab keeps the bus, the UI, the scenario runner and its
 * expectations, `attach`, `ctl` and `logs`; each device is a `fazlab node` it spawns (in the
 * device's network namespace for `netns`) and a stand-in (`NodeDevice`) in its device list.
 *
 * `NodeSet` is three things at once:
 * - the lab's `RemoteDevices`: actions and expectations about a device go to its node, which
 *   performs or checks them on its own lab of one device (the node publishes the `fault` event);
 * - the control channel's `NodeHub`: nodes dial the channel's Unix socket, say `node-hello`, and
 *   send their events in numbered batches, which are published on the lab's bus once each (a
 *   listener bound by a node is recorded in the lab's port plan too, for the snapshot);
 * - the maker of the control target that forwards `logs`, `devices`, `authorize`,
 *   `delete-device` and `sent` to the node of the analyzer (or sender) they are about.
 *
 * Every node is spawned with `--exit-with-lab`: a node whose lab process is gone (even after a
 * SIGKILL) exits on its own, so no process outlives its lab.
 *
 * With `placement: external` (containers) the lab spawns nothing: each node is started elsewhere
 * (`fazlab node ... --hold`, src/export/), dials the channel's TCP listener and says hello, and
 * the lab begins them in start order as they come, however long they take. A node that dials
 * in with its device already running (after the lab's process restarted) is taken as it is. When
 * the lab stops in order it asks each connected node to stop with it (`lab-stopping`), in the
 * order it would stop them; a lab killed outright asks nothing, and its nodes dial again.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { ActionError, type Device, type DeviceStatus } from "../devices/device.ts"
import { fortianalyzer } from "../devices/fortianalyzer/kind.ts"
import type { DeviceSpec } from "../devices/kind.ts"
import type { LabEventBody } from "../events/events.ts"
import type { BindError } from "../net/errors.ts"
import type { PortPlan } from "../net/port-plan.ts"
import { type Check, subjectOf } from "../lab/expectations.ts"
import { type Lab, PlanError, type RemoteDevices, type SenderFacts } from "../lab/lab.ts"
import type { Action, Expectation, Scenario } from "../lab/scenario/schema.ts"
import type { ControlCommand, NodeEventsCommand, NodeRequest } from "../control/protocol.ts"
import { type ControlServer, serveControl, unixSocketUrl } from "../control/server.ts"
import type { ControlBind } from "../control/access.ts"
import type { ControlTarget, Explained, NodeHub, NodeLink } from "../control/target.ts"
import type { NetnsPlan } from "./netns-plan.ts"
import { buildNetns, teardownNetns } from "./netns.ts"

/** How long a node has to say hello and start its device. */
const NODE_START_MS = 30_000
/** How long a node has to stop cleanly before it is killed. */
const NODE_STOP_MS = 10_000

/** The fazlab command's entry, two folders up from this module wherever it runs from (src/placement/, dist/placement/, dist/bundle/). */
export const FAZLAB_ENTRY = fileURLToPath(new URL("../../bin/fazlab.js", import.meta.url))

export interface NodeSetOptions {
  readonly scenario: Scenario
  /** The lab file, absolute: every node loads it. */
  readonly file: string | null
  readonly dataDir: string
  readonly placement: "process" | "netns" | "external"
  /** The netns lab's network (and its nftables file), or null for `process`. */
  readonly netns: { readonly plan: NetnsPlan; readonly nftables: string | null } | null
  readonly speed: number
  readonly bind: ControlBind | undefined
  /** The token the nodes present (external: theirs, from the environment); null: a new one. */
  readonly token: string | null
}

/** One device's node as the lab knows it. */
interface NodeState {
  child: ChildProcess | null
  link: NodeLink | null
  status: DeviceStatus
  ha: { readonly group: string; readonly role: string } | null
  /** Events of the node published so far (its own numbering). */
  received: number
  /** The node has reported its device's status at least once since it was spawned (or begun). */
  reported: boolean
  /** The lab let the node build its device. */
  begun: boolean
  /** Called when the node said hello or reported its status. */
  readonly waiters: Set<() => void>
  /** The node's last lines on stderr, for the sentence when it exits. */
  lastWords: string
  /** The lab is stopping it: its exit is no news. */
  stopping: boolean
}

const toStatus = (status: string): DeviceStatus =>
  status === "running" || status === "starting" || status === "failed" ? status : "stopped"

const explained = (error: unknown): Explained => ({ message: error instanceof Error ? error.message : String(error) })

export class NodeSet implements RemoteDevices, NodeHub {
  readonly #options: NodeSetOptions
  readonly #nodes = new Map<string, NodeState>()
  /** Which device holds each address taken by a node (an HA group's virtual IP in a netns lab). */
  readonly #holders = new Map<string, string>()
  #lab: Lab | null = null
  #server: ControlServer | null = null

  constructor(options: NodeSetOptions) {
    this.#options = options
  }

  /** The control channel served for the lab (before its devices started: the nodes dial it). */
  get server(): ControlServer | null {
    return this.#server
  }

  // -------------------------------------------------------------------------------------------
  // RemoteDevices
  // -------------------------------------------------------------------------------------------

  readonly device = (id: string, spec: DeviceSpec, _plan: PortPlan): Device => {
    const state: NodeState = { child: null, link: null, status: "stopped", ha: null, received: 0, reported: false, begun: false, waiters: new Set(), lastWords: "", stopping: false }
    this.#nodes.set(id, state)
    return new NodeDevice(id, spec, state, this)
  }

  /** Serves the control channel and, for netns, builds the network, in the lab's scope, before any node starts. */
  readonly prepare = (lab: Lab): Effect.Effect<void, PlanError, Scope.Scope> => {
    const self = this
    return Effect.gen(function*() {
      self.#lab = lab
      const netns = self.#options.netns
      if (netns !== null) {
        yield* Effect.acquireRelease(
          Effect.tryPromise({ try: () => buildNetns(netns.plan, netns.nftables), catch: (error) => new PlanError({ reason: explained(error).message }) }),
          () => Effect.promise(() => teardownNetns(netns.plan.lab))
        )
      }
      const { bind, token } = self.#options
      self.#server = yield* serveControl(self.target(lab), { dataDir: self.#options.dataDir, ...(bind === undefined ? {} : { bind }), ...(token === null ? {} : { token }) }).pipe(
        Effect.mapError((error) => new PlanError({ reason: error.message }))
      )
      // Runs before the channel and the network go: the nodes stop while they can still report.
      yield* Effect.addFinalizer(() => Effect.promise(() => self.#stopAll()))
      yield* Effect.tryPromise({ try: () => self.#spawnAll(), catch: (error) => new PlanError({ reason: explained(error).message }) })
    })
  }

  /** Stops every node, in reverse start order, HA primaries last. */
  async #stopAll(): Promise<void> {
    const states = [...this.#nodes.values()].reverse()
    const primary = (state: NodeState) => Number(state.ha?.role === "primary")
    for (const state of states.toSorted((a, b) => primary(a) - primary(b))) await this.stop(state)
  }

  perform(action: Action): Effect.Effect<void, ActionError> | null {
    const lifecycle = (["start", "stop", "kill", "restart", "pause", "resume", "freeze", "thaw"] as const).find((name) => name in action)
    if (lifecycle !== undefined) {
      const device = (action as Readonly<Record<string, string>>)[lifecycle] as string
      // A device of no node: the lab's own sentence ("no device ... in this lab").
      return this.#nodes.has(device) ? this.#ask(device, { name: lifecycle, device }, lifecycle) : null
    }
    if ("burst" in action && !this.#nodes.has(action.burst.device)) return null
    if ("burst" in action) return this.#ask(action.burst.device, { name: "burst", device: action.burst.device, count: action.burst.count }, "burst")
    if ("authorize" in action || "deleteDevice" in action) {
      const target = "authorize" in action ? action.authorize : action.deleteDevice
      const analyzer = this.#analyzerNode(target.analyzer)
      const verb = "authorize" in action ? "authorize" : "delete-device"
      if (analyzer === null) return Effect.fail(new ActionError({ action: verb, reason: "name the analyzer: this lab has more than one" }))
      const serial = this.#options.scenario.devices.get(target.device)?.serial ?? target.device
      const command: ControlCommand = "authorize" in action
        ? { name: "authorize", serial, analyzer, ...(action.authorize.adom === null ? {} : { adom: action.authorize.adom }) }
        : { name: "delete-device", serial, analyzer }
      return this.#ask(analyzer, command, verb)
    }
    const [verb] = Object.keys(action)
    if (verb === "sendRaw" && this.#options.placement === "process") return null
    return Effect.fail(new ActionError({
      action: verb ?? "action",
      reason: `${verb} is not done across device processes yet; run this scenario with placement in-process (docs/placement.md lists what each placement does)`
    }))
  }

  check(expectation: Expectation): Promise<Check> {
    const steps = this.#options.scenario.steps
    const step = steps.findIndex((s) => s.expect.includes(expectation))
    const index = steps[step]?.expect.indexOf(expectation) ?? -1
    const device = this.#subjectNode(subjectOf(expectation))
    if (step < 0 || index < 0) return Promise.resolve({ passed: false, detail: "bug: the expectation is not one of the lab file's" })
    if (device === null) return Promise.resolve({ passed: false, detail: "name the analyzer: this lab has more than one" })
    return this.#request(device, { name: "expect", step, index }).then(
      (result) => result as Check,
      (error: unknown) => ({ passed: false, detail: explained(error).message })
    )
  }

  senderFacts(device: string, analyzers: ReadonlyArray<string>): Promise<SenderFacts | null> {
    if (!this.#nodes.has(device)) return Promise.resolve(null)
    return this.#request(device, { name: "sent", device, analyzers: [...analyzers] }).then(
      (result) => result as SenderFacts,
      () => null
    )
  }

  haRoles(): ReadonlyArray<{ readonly device: string; readonly group: string; readonly role: string }> {
    return [...this.#nodes].flatMap(([device, state]) => (state.ha === null ? [] : [{ device, ...state.ha }]))
  }

  // -------------------------------------------------------------------------------------------
  // NodeHub
  // -------------------------------------------------------------------------------------------

  hello(device: string, _pid: number, link: NodeLink): Effect.Effect<{ readonly lab: string; readonly received: number }, Explained> {
    const state = this.#nodes.get(device)
    if (state === undefined) return Effect.fail({ message: `no device ${device} in lab ${this.#options.scenario.name}; start the node with one of its device ids` })
    state.link = link
    for (const waiter of [...state.waiters]) waiter()
    return Effect.succeed({ lab: this.#options.scenario.name, received: state.received })
  }

  events(command: typeof NodeEventsCommand.Type, link: NodeLink): Effect.Effect<{ readonly received: number }, Explained> {
    return Effect.sync(() => {
      const state = this.#nodes.get(command.device)
      const lab = this.#lab
      if (state === undefined || lab === null) return { received: 0 }
      if (state.link !== link) return { received: state.received }
      command.events.forEach((event, i) => {
        if (command.first + i <= state.received) return
        const { at: _at, ...body } = event
        const published = body as unknown as LabEventBody
        if (published.type === "listener-bound") {
          const { device, port, address, actualPort } = published
          lab.plan.recordBound({ device, port, address, actualPort })
        }
        // An HA group's virtual IP changes hands between nodes: the new holder's listener-bound may come first.
        if (published.type === "listener-closed" && this.#nodes.has(published.device)) lab.plan.forget(published.device, published.port)
        lab.bus.publish(published)
      })
      state.received = Math.max(state.received, command.first + command.events.length - 1)
      state.status = toStatus(command.status)
      state.reported = true
      state.ha = command.ha ?? null
      for (const waiter of [...state.waiters]) waiter()
      return { received: state.received }
    })
  }

  address(device: string, address: string, take: boolean): Effect.Effect<{ readonly address: string; readonly holder: string | null; readonly granted: boolean }, Explained> {
    return Effect.sync(() => {
      const holder = this.#holders.get(address) ?? null
      if (take && (holder === null || holder === device)) this.#holders.set(address, device)
      if (!take && holder === device) this.#holders.delete(address)
      return { address, holder: this.#holders.get(address) ?? null, granted: take ? holder === null || holder === device : true }
    })
  }

  gone(link: NodeLink): void {
    for (const state of this.#nodes.values()) {
      if (state.link !== link) continue
      state.link = null
      for (const waiter of [...state.waiters]) waiter()
    }
  }

  /** A node that is gone holds no address any more. */
  #release(device: string): void {
    for (const [address, holder] of this.#holders) if (holder === device) this.#holders.delete(address)
  }

  // -------------------------------------------------------------------------------------------
  // The control target
  // -------------------------------------------------------------------------------------------

  /** The lab as the control channel serves it: commands about analyzers and senders go to their nodes. */
  target(lab: Lab): ControlTarget {
    return {
      name: lab.name,
      bus: lab.bus,
      devices: lab.devices,
      plan: lab.plan,
      perform: (action) => lab.perform(action),
      analyzers: () => [],
      haRoles: () => lab.haRoles(),
      stepNow: () => lab.stepNow(),
      placementOf: (device) => this.placementOf(device),
      forward: (command) => this.#forward(command),
      senderFacts: (device, analyzers) =>
        Effect.tryPromise({ try: () => this.#request(device, { name: "sent", device, analyzers: [...analyzers] }), catch: explained }).pipe(
          Effect.map((result) => result as { readonly device: string; readonly hostname: string; readonly sent: number })
        ),
      nodes: this
    }
  }

  placementOf(device: string): { readonly address?: string; readonly netns?: string } {
    const netns = this.#options.netns?.plan.devices.get(device)
    if (netns !== undefined) return { address: netns.address, netns: netns.namespace }
    // An external node is reached by its name on its own network, not by an address of this host.
    return this.#lab === null || this.#options.placement === "external" ? {} : { address: this.#lab.plan.addressOf(device) }
  }

  #forward(command: ControlCommand): Effect.Effect<unknown, Explained> | null {
    switch (command.name) {
      case "logs":
      case "devices":
      case "authorize":
      case "delete-device": {
        const device = this.#analyzerNode(command.analyzer ?? null)
        if (device === null) return Effect.fail({ message: `lab ${this.#options.scenario.name} has more than one analyzer; name one with analyzer` })
        return Effect.tryPromise({ try: () => this.#request(device, command), catch: explained })
      }
      case "sent":
        return Effect.tryPromise({ try: () => this.#request(command.device, command), catch: explained })
      default:
        return null
    }
  }

  // -------------------------------------------------------------------------------------------
  // Nodes
  // -------------------------------------------------------------------------------------------

  /** The node an analyzer's question goes to: the one named (an HA group: its acting primary), else the only analyzer or HA group. */
  #analyzerNode(id: string | null): string | null {
    return this.#subjectNode(id)
  }

  #subjectNode(subject: string | null): string | null {
    const { scenario } = this.#options
    if (subject !== null && this.#nodes.has(subject)) return subject
    const groupPrimary = (group: string): string | null => {
      const members = scenario.ha[group]?.members ?? []
      return members.find((member) => this.#nodes.get(member)?.ha?.role === "primary") ??
        members.find((member) => this.#nodes.get(member)?.status === "running") ?? members[0] ?? null
    }
    if (subject !== null) return scenario.ha[subject] !== undefined ? groupPrimary(subject) : null
    const grouped = new Set(Object.values(scenario.ha).flatMap((group) => group.members))
    const candidates = [
      ...[...scenario.devices].filter(([id, spec]) => fortianalyzer.is(spec) && !grouped.has(id)).map(([id]) => id),
      ...Object.keys(scenario.ha).flatMap((group) => groupPrimary(group) ?? [])
    ]
    return candidates.length === 1 ? candidates[0] ?? null : null
  }

  #request(device: string, request: NodeRequest): Promise<unknown> {
    const link = this.#nodes.get(device)?.link
    if (link === undefined || link === null) return Promise.reject(new Error(`the process of ${device} is not connected to the lab right now`))
    return link.request(request)
  }

  #ask(device: string, command: ControlCommand, verb: string): Effect.Effect<void, ActionError> {
    return Effect.tryPromise({
      try: () => this.#request(device, command),
      catch: (error) => new ActionError({ action: `${verb} ${device}`, reason: explained(error).message })
    }).pipe(Effect.asVoid)
  }

  /**
   * Spawns the node of `id` with `--hold`: it dials the lab and says hello, and builds its device
   * only when `begin` asks. The lab spawns every node at once (a process takes a while to load)
   * and begins them one by one in start order.
   */
  #spawn(id: string, state: NodeState): Promise<void> {
    const { file, dataDir, speed, placement } = this.#options
    const lab = this.#lab
    const server = this.#server
    if (lab === null || server === null || file === null || placement === "external") return Promise.reject(new Error("bug: a node is spawned before the lab's control channel, or in an external lab"))
    const spec = this.#options.scenario.devices.get(id)
    const args = [
      FAZLAB_ENTRY, "node",
      "--kind", spec?.kind ?? "",
      "--id", id,
      "--config", file,
      "--lab", unixSocketUrl(server.unixSocket),
      "--data-dir", dataDir,
      "--port-base", String(lab.plan.base),
      "--addressing", lab.plan.addressing,
      "--speed", String(speed),
      "--placement", placement,
      "--exit-with-lab",
      "--hold"
    ]
    const namespace = this.#options.netns?.plan.devices.get(id)?.namespace
    const [command, argv] = namespace === undefined ? [process.execPath, args] : ["ip", ["netns", "exec", namespace, process.execPath, ...args]]
    const child = spawn(command, argv, {
      cwd: path.dirname(file),
      env: { ...process.env, FAZLAB_CONTROL_TOKEN: server.token },
      stdio: ["ignore", "ignore", "pipe"]
    })
    state.child = child
    state.stopping = false
    state.reported = false
    state.begun = false
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      state.lastWords = `${state.lastWords}${chunk}`.split("\n").filter((line) => line.trim() !== "").slice(-3).join("\n")
    })
    child.once("exit", (code, signal) => {
      this.#release(id)
      state.child = null
      state.link = null
      state.status = state.stopping ? "stopped" : "failed"
      for (const waiter of [...state.waiters]) waiter()
      if (!state.stopping) lab.bus.publish({ type: "node-exited", device: id, code, signal, reason: state.lastWords || "the node process ended" })
    })
    return this.#until(id, state, () => state.link !== null, "say hello to the lab")
  }

  /**
   * Resolves when `ready` holds (checked at each hello and report); rejects when the node exits or
   * NODE_START_MS pass. An external node has no process here, and none to wait for is no limit.
   */
  #until(id: string, state: NodeState, ready: () => boolean, what: string, limited = true): Promise<void> {
    const external = this.#options.placement === "external"
    return new Promise<void>((resolve, reject) => {
      const done = (error: Error | null) => {
        if (timer !== null) clearTimeout(timer)
        state.waiters.delete(check)
        if (error === null) resolve()
        else reject(error)
      }
      const check = () => {
        if (ready()) done(null)
        else if (state.child === null && !external) done(new Error(`the process of ${id} exited before it could ${what}: ${state.lastWords || "it said nothing"}`))
      }
      const timer = limited ? setTimeout(() => done(new Error(`the ${external ? "node" : "process"} of ${id} did not ${what} within ${NODE_START_MS / 1000} s`)), NODE_START_MS) : null
      state.waiters.add(check)
      check()
    })
  }

  /** Spawns every node at once, each waiting for `begin` (an external lab's nodes are started elsewhere). */
  #spawnAll(): Promise<void> {
    if (this.#options.placement === "external") return Promise.resolve()
    return Promise.all([...this.#nodes].map(([id, state]) => this.#spawn(id, state))).then(() => undefined)
  }

  /** Lets the node of `id` build its device (and start it, when the lab file says so), and waits until it has. */
  async begin(id: string, state: NodeState): Promise<void> {
    if (this.#options.placement === "external") {
      // However long a container takes to come up; then its first report says whether it is held.
      await this.#until(id, state, () => state.link !== null && state.reported, "dial the lab", false)
      if (state.status === "running") {
        state.begun = true
        return
      }
    } else if (state.child === null) await this.#spawn(id, state)
    state.begun = true
    state.reported = false
    await this.#request(id, { name: "start", device: id })
    await this.#until(id, state, () => state.reported && state.status !== "starting", "start its device")
  }

  /** A node that is up but did not start its device: reported, and stopped (an external one is left to its container). */
  gaveUp(id: string, reason: string): void {
    const state = this.#nodes.get(id)
    this.#lab?.bus.publish({ type: "node-exited", device: id, code: null, signal: null, reason })
    if (state !== undefined && state.child !== null) void this.stop(state)
  }

  /** An external node asked to stop with the lab: resolves when its link has closed, or after NODE_STOP_MS. */
  async #leave(state: NodeState): Promise<void> {
    const link = state.link
    if (this.#options.placement !== "external" || link === null) return
    state.stopping = true
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        state.waiters.delete(check)
        resolve()
      }
      const check = () => {
        if (state.link !== link) done()
      }
      const timer = setTimeout(done, NODE_STOP_MS)
      state.waiters.add(check)
      // A node that refuses (or cannot answer) is not waited for.
      link.request({ name: "lab-stopping" }).catch(done)
    })
  }

  /**
   * Stops the node of `id`: SIGTERM (it stops its device cleanly and sends its last events), SIGKILL
   * after NODE_STOP_MS. An external node, which is no child of the lab, is asked over its link
   * (`lab-stopping`) to do the same and exit; the lab waits until its link closes, at most
   * NODE_STOP_MS. An external node that is not connected right now is not told: it dials again
   * until its container stops.
   */
  stop(state: NodeState): Promise<void> {
    const child = state.child
    if (child === null) return this.#leave(state)
    state.stopping = true
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), NODE_STOP_MS)
      child.once("exit", () => {
        clearTimeout(timer)
        resolve()
      })
      child.kill("SIGTERM")
    })
  }
}

/** A device that runs as its own node, as the lab's device list holds it. */
class NodeDevice implements Device {
  readonly id: string
  readonly kind: string
  readonly serial: string
  /** The name its logs are filed under, when its kind has one (the lab names `logs-stored` senders by it). */
  readonly senderName: string | null
  readonly #state: NodeState
  readonly #nodes: NodeSet

  constructor(id: string, spec: DeviceSpec, state: NodeState, nodes: NodeSet) {
    this.id = id
    this.kind = spec.kind
    this.serial = spec.serial
    this.senderName = spec.hostname ?? null
    this.#state = state
    this.#nodes = nodes
  }

  status(): DeviceStatus {
    return this.#state.status
  }

  /** Lets its node build the device (it starts it when the lab file says so); a node that cannot is reported as `node-exited`. */
  start(): Effect.Effect<void, BindError> {
    const state = this.#state
    if (state.begun && (state.child !== null || state.link !== null)) return Effect.void
    return Effect.promise(() =>
      this.#nodes.begin(this.id, state).catch((error: unknown) => {
        if (state.child !== null || state.link !== null) this.#nodes.gaveUp(this.id, explained(error).message)
      })
    )
  }

  stop(): Effect.Effect<void> {
    return Effect.promise(() => this.#nodes.stop(this.#state))
  }

  kill(): Effect.Effect<void> {
    return Effect.sync(() => this.#state.child?.kill("SIGKILL"))
  }

  dispose(): Effect.Effect<void> {
    return this.stop()
  }
}
