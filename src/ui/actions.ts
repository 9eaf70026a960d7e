/**
 * What the UI's lab keys do over the control channel: stop, kill, restart, authorize and
 * pause/resume the selected device; partition the selected HA member from its group or degrade
 * its heartbeats, and heal every HA fault; start the scenario's waiting step now. Each action resolves with the one
 * sentence the explain line shows: what the lab did, or its refusal. Never rejects.
 */
import { type ControlClient, ControlClientError } from "../control/client.ts"
import type { DeviceView, HaGroupView, Tone } from "./state.ts"

/** The part of the control client the UI uses (tests pass a fake). */
export type UiClient = Pick<ControlClient, "snapshot" | "onEvent" | "command" | "closed">

export type LabAction = "stop" | "kill" | "restart" | "authorize" | "pause"

export interface ActionOutcome {
  readonly text: string
  readonly tone: Tone
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const authorize = async (client: UiClient, device: DeviceView): Promise<ActionOutcome> => {
  const { devices } = await client.command({ name: "devices" })
  const waiting = devices.filter((d) => d.state === "unauthorized")
  const match = waiting.find((d) => d.name === device.id || d.serial === device.pending) ??
    // On an analyzer, its only waiting device is the obvious one.
    (waiting.length === 1 && waiting[0]?.analyzer === device.id ? waiting[0] : undefined)
  if (match === undefined) {
    return {
      text: waiting.length === 0
        ? "no device is waiting for authorization"
        : `${device.id} is not waiting for authorization; waiting: ${waiting.map((d) => `${d.name} (${d.serial})`).join(", ")}`,
      tone: "warn"
    }
  }
  const result = await client.command({ name: "authorize", serial: match.serial, analyzer: match.analyzer })
  return {
    text: `authorized ${result.serial} (${match.name}) on ${result.analyzer}${result.adom === null ? "" : ` in ADOM ${result.adom}`}; released ${result.released} held logs`,
    tone: "ok"
  }
}

const perform = async (client: UiClient, action: LabAction, device: DeviceView): Promise<ActionOutcome> => {
  switch (action) {
    case "stop": {
      const result = await client.command({ name: "stop", device: device.id })
      return { text: `stopped ${result.device} (now ${result.status})`, tone: "warn" }
    }
    case "kill": {
      const result = await client.command({ name: "kill", device: device.id })
      return { text: `killed ${result.device} (now ${result.status}): connections cut with no goodbye`, tone: "warn" }
    }
    case "restart": {
      const result = await client.command({ name: "restart", device: device.id })
      return { text: `restarted ${result.device} (now ${result.status})`, tone: "ok" }
    }
    case "pause": {
      const name = device.paused ? "resume" : "pause"
      await client.command({ name, device: device.id })
      return { text: `${name === "pause" ? "paused" : "resumed"} ${device.id}'s logs`, tone: "info" }
    }
    case "authorize":
      return authorize(client, device)
  }
}

/** Runs a lab key on the selected device; the sentence for the explain line, success or not. */
export const runAction = async (client: UiClient, action: LabAction, device: DeviceView | undefined): Promise<ActionOutcome> => {
  if (device === undefined) return { text: "no device selected; use the arrow keys to pick one", tone: "warn" }
  try {
    return await perform(client, action, device)
  } catch (error) {
    return { text: `${action} ${device.id}: ${message(error)}`, tone: "bad" }
  }
}

/** What `d` does to the heartbeats between the selected member and the rest of its group. */
export const DEGRADE_LOSS_PERCENT = 50

/** An HA fault the UI puts between the selected member and every other member of its group. */
type MemberFault = "partition" | "degrade"

const FAULT_WORDS: Readonly<Record<MemberFault, { readonly key: string; readonly done: (member: string, others: string) => string }>> = {
  partition: { key: "x", done: (member, others) => `partitioned ${member} from ${others}: HA traffic between them is cut both ways; h heals` },
  degrade: { key: "d", done: (member, others) => `degraded ${member}–${others} heartbeats: ${DEGRADE_LOSS_PERCENT}% lost each way; h heals` }
}

/** `x` (partition) and `d` (degrade): the fault between the selected member and every other member of its group. */
export const faultMember = async (client: UiClient, fault: MemberFault, device: DeviceView | undefined, groups: ReadonlyArray<HaGroupView>): Promise<ActionOutcome> => {
  const members = groups.flatMap((g) => g.members.map((m) => m.device))
  const group = groups.find((g) => g.members.some((m) => m.device === device?.id))
  const words = FAULT_WORDS[fault]
  if (device === undefined || group === undefined) {
    return {
      text: members.length === 0 ? `this lab has no HA group to ${fault}` : `${words.key} ${fault}s an HA member from its group; select one of ${members.join(", ")}`,
      tone: "warn"
    }
  }
  const others = group.members.map((m) => m.device).filter((id) => id !== device.id)
  try {
    for (const other of others) {
      const pair = [device.id, other] as const
      await client.command(fault === "partition" ? { name: "partition", members: pair } : { name: "degrade", members: pair, hbDelayMs: 0, hbLoss: DEGRADE_LOSS_PERCENT })
    }
    return { text: words.done(device.id, others.join(", ")), tone: "warn" }
  } catch (error) {
    return { text: `${fault} ${device.id}: ${message(error)}`, tone: "bad" }
  }
}

/** `h`: heals every pair of HA members the lab has partitioned or degraded; the others refuse and are left alone. */
export const healAll = async (client: UiClient, groups: ReadonlyArray<HaGroupView>): Promise<ActionOutcome> => {
  const pairs = groups.flatMap((g) => g.members.flatMap((a, i) => g.members.slice(i + 1).map((b): readonly [string, string] => [a.device, b.device])))
  if (pairs.length === 0) return { text: "this lab has no HA group to heal", tone: "warn" }
  const healed: string[] = []
  try {
    for (const pair of pairs) {
      try {
        await client.command({ name: "heal", members: pair })
        healed.push(pair.join("–"))
      } catch (error) {
        // "neither partitioned nor degraded": nothing to do for this pair.
        if (!(error instanceof ControlClientError) || error.kind !== "refused") throw error
      }
    }
  } catch (error) {
    return { text: `heal: ${message(error)}`, tone: "bad" }
  }
  return healed.length === 0
    ? { text: "nothing to heal: no HA members are partitioned or degraded", tone: "info" }
    : { text: `healed ${healed.join(", ")}: HA traffic flows normally again`, tone: "ok" }
}

/** `n`: the scenario's waiting step starts now. */
export const stepNow = async (client: UiClient): Promise<ActionOutcome> => {
  try {
    const { step, title } = await client.command({ name: "step" })
    return { text: `started step ${step} now: ${title}`, tone: "info" }
  } catch (error) {
    return { text: message(error), tone: "warn" }
  }
}
