/**
 * HA faults on the real clock and real sockets (kernel-chosen ports), each step waited for by its
 * event, every wait bounded:
 *
 * - partition / heal, sent as `fazlab ctl` commands to the lab's control channel: the secondary
 *   misses the primary's heartbeats and becomes a second primary (split brain, reported once);
 *   both accept on their own TCP/5199, the VIP stays with the first, the second says it cannot
 *   bind it. Healed, the worse-ranked one steps down, joins and catches up.
 * - freeze / thaw, as the lab's actions: a frozen primary gives up TCP/5199 at once but says no
 *   goodbye, so the secondary takes over on missed heartbeats; thawed, the old primary rejoins as
 *   secondary (no preemption).
 */
import * as os from "node:os"
import * as Effect from "effect/Effect"
import { describe, expect, it, onTestFinished } from "vitest"
import { ctl } from "../../src/cli/ctl.ts"
import type { CliIo } from "../../src/cli/io.ts"
import { type Served, serve } from "../control/support.ts"
import { analyzer, isEvent, type StartedLab, useLab, waitForEvent, waitForRole } from "../support/lab.ts"

const HB_INTERVAL_MS = 200

const YAML = `name: ha-faults-test
devices:
  faz-a: { kind: fortianalyzer, serial: FAZ-VM0000000001, oftp: { auto-authorize: true }, ha: { priority: 120 } }
  faz-b: { kind: fortianalyzer, serial: FAZ-VM0000000002, oftp: { auto-authorize: true } }
  fgt-1: { kind: fortigate, fortianalyzer: { server: lab, serial: [FAZ-VM0000000001, FAZ-VM0000000002], rate: 200/s, monitor-failure-retry-period: 100ms } }
ha:
  lab: { members: [faz-a, faz-b], group-id: 3, hb-interval: ${HB_INTERVAL_MS}ms, hb-lost-threshold: 3 }
`

/** `fazlab ctl ARGS` against the served control channel: exit code and output. */
const runCtl = async (served: Served, ...args: ReadonlyArray<string>) => {
  const out = { stdout: "", stderr: "" }
  const io: CliIo = {
    stdout: (text) => (out.stdout += text),
    stderr: (text) => (out.stderr += text),
    cwd: os.tmpdir(),
    env: {},
    isTTY: false,
    signal: new AbortController().signal
  }
  const code = await ctl([...args, "--control", served.server.url, "--token", served.server.token], io)
  return { code, ...out }
}

/**
 * Once faz-b has rejoined (at `joinedAt`): a FortiGate batch acknowledged well after that waited
 * for faz-b's SYNC_ACK, which comes after the catch-up frames on the same link; then the
 * FortiGate is paused and drained, so every record it sent was acknowledged, hence synced.
 */
const drain = async (started: StartedLab, joinedAt: number): Promise<void> => {
  const { lab } = started
  await waitForEvent(started, "logs-acked", (event) => event.device === "fgt-1" && event.at >= joinedAt + 2 * HB_INTERVAL_MS, { timeoutMs: 5000 })
  const fortigate = lab.sender("fgt-1")
  fortigate?.pause()
  const sent = fortigate?.sentTo("lab") ?? 0
  await waitForEvent(started, "logs-acked", (event) => event.device === "fgt-1" && event.total >= sent && event.queued === 0)
}

describe("HA faults (real clock)", () => {
  it("partition: two primaries while it lasts, one after it heals; faz-b catches up", async () => {
    const started = await useLab(YAML)
    const { lab, events } = started
    const served = await serve(lab)
    onTestFinished(() => served.close())
    await waitForRole(started, "faz-a", "primary")
    await waitForRole(started, "faz-b", "secondary")
    await waitForEvent(started, "logs-acked", (event) => event.device === "fgt-1" && event.total >= 100)

    expect(await runCtl(served, "partition", "faz-a", "faz-b")).toEqual({
      code: 0,
      stdout: "partitioned faz-a from faz-b: HA traffic between them is cut both ways\n",
      stderr: ""
    })
    const fault = await waitForEvent(started, "fault", (event) => event.fault === "partition")
    expect(fault).toMatchObject({ devices: ["faz-a", "faz-b"], reason: "faz-a and faz-b are partitioned: HA traffic between them is cut both ways; both stay up" })
    expect(await runCtl(served, "partition", "faz-b", "faz-a")).toEqual({
      code: 1,
      stdout: "",
      stderr: "fazlab ctl: partition faz-b faz-a: faz-b and faz-a are already partitioned\n"
    })

    const second = await waitForRole(started, "faz-b", "primary", { timeoutMs: 5000 })
    expect(second.reason).toBe("faz-b became primary: 3 heartbeats missed from faz-a at hb-interval 0.2 s")
    const splitBrain = await waitForEvent(started, "ha-split-brain")
    expect(splitBrain).toMatchObject({ group: "lab", primaries: ["faz-a", "faz-b"], reason: "split brain: faz-a and faz-b are both primary" })
    // The VIP takes one listener: faz-a keeps it, faz-b says it cannot have it.
    const vip = await waitForEvent(started, "listener-failed", (event) => event.device === "faz-b", { timeoutMs: 5000 })
    expect(vip.reason).toBe("faz-b is primary but faz-a holds the virtual IP of lab (two primaries: split brain); faz-b listens on its own TCP/5199 only")
    expect(vip.ports).toEqual(["udp/514", "tcp/514", "tcp/8443", "tcp/443"])
    await waitForEvent(started, "listener-bound", (event) => event.device === "faz-b" && event.port === "tcp/5199")
    expect(await lab.probe("faz-a", "tcp/5199")).toBe(true)
    expect(await lab.probe("faz-b", "tcp/5199")).toBe(true)
    expect(await lab.probe("lab", "tcp/514")).toBe(true)
    // Both probe each other every hb-interval and cannot get through: still two primaries several
    // hb-intervals later (the FortiGate's ACKs through the VIP mark the time passing).
    await waitForEvent(started, "logs-acked", (event) => event.device === "fgt-1" && event.at >= second.at + 3 * HB_INTERVAL_MS, { timeoutMs: 5000 })
    expect(events.filter(isEvent("ha-role", (event) => event.at > second.at))).toEqual([])
    expect(analyzer(lab, "faz-a").ha?.role()).toBe("primary")
    expect(analyzer(lab, "faz-b").ha?.role()).toBe("primary")

    expect(await runCtl(served, "heal", "faz-a", "faz-b")).toEqual({ code: 0, stdout: "healed the network between faz-a and faz-b\n", stderr: "" })
    const healed = await waitForEvent(started, "ha-split-brain-healed", undefined, { timeoutMs: 5000 })
    expect(healed).toMatchObject({ stepsDown: "faz-b", stays: "faz-a", reason: "split brain healed: faz-b steps down, faz-a stays primary" })
    await waitForEvent(started, "listener-closed", (event) => event.device === "faz-b" && event.port === "tcp/5199", { timeoutMs: 5000 })
    expect(await lab.probe("faz-b", "tcp/5199")).toBe(false)
    expect(await lab.probe("faz-a", "tcp/5199")).toBe(true)
    expect(analyzer(lab, "faz-b").ha?.role()).toBe("secondary")
    expect(events.filter(isEvent("ha-split-brain"))).toHaveLength(1)
    expect(events.filter(isEvent("listener-failed"))).toEqual([vip])
    expect(await runCtl(served, "heal", "faz-a", "faz-b")).toEqual({
      code: 1,
      stdout: "",
      stderr: "fazlab ctl: heal faz-a faz-b: faz-a and faz-b are neither partitioned nor degraded; nothing to heal\n"
    })
    // Degraded heartbeats through ctl: announced as a fault, healed by heal.
    expect(await runCtl(served, "degrade", "faz-a", "faz-b", "--hb-delay", "50")).toEqual({
      code: 0,
      stdout: "degraded the heartbeats between faz-a and faz-b: 50 ms late, 0% lost, until ctl heal faz-a faz-b\n",
      stderr: ""
    })
    expect(await waitForEvent(started, "fault", (event) => event.fault === "degrade", { timeoutMs: 5000 })).toMatchObject({ devices: ["faz-a", "faz-b"] })
    expect(await runCtl(served, "heal", "faz-a", "faz-b")).toEqual({ code: 0, stdout: "healed the network between faz-a and faz-b\n", stderr: "" })

    // faz-b catches up on what faz-a stored during the partition: paused and drained, both hold
    // every record once.
    const rejoined = await waitForRole(started, "faz-b", "secondary")
    await drain(started, rejoined.at)
    const sent = lab.sender("fgt-1")?.sentTo("lab") ?? 0
    for (const id of ["faz-a", "faz-b"]) {
      expect(analyzer(lab, id).store.sequenceReport("fgt-1", sent), id).toMatchObject({ stored: sent, missing: 0, duplicated: 0 })
    }
  }, 30_000)

  it("freeze: the primary goes silent, the secondary takes over on missed heartbeats; thawed, it rejoins as secondary", async () => {
    const started = await useLab(YAML)
    const { lab, events } = started
    await waitForRole(started, "faz-a", "primary")
    await waitForRole(started, "faz-b", "secondary")

    await Effect.runPromise(lab.perform({ freeze: "faz-a" }))
    expect(events.find(isEvent("fault", (event) => event.fault === "freeze"))?.reason).toBe("faz-a is frozen: alive but silent (no heartbeats, no answers) until thawed")
    expect(analyzer(lab, "faz-a").ha?.phase()).toBe("frozen")
    expect(analyzer(lab, "faz-a").status()).toBe("running")
    await waitForEvent(started, "listener-closed", (event) => event.device === "faz-a" && event.port === "tcp/5199")
    expect(await Effect.runPromise(Effect.flip(lab.perform({ freeze: "faz-a" })))).toMatchObject({ message: "freeze faz-a: faz-a is already frozen; thaw it first" })

    // No goodbye from a hung process: faz-b counts the missed heartbeats.
    const takeover = await waitForRole(started, "faz-b", "primary", { timeoutMs: 5000 })
    expect(takeover.reason).toBe("faz-b became primary: 3 heartbeats missed from faz-a at hb-interval 0.2 s")
    await waitForEvent(started, "listener-bound", (event) => event.device === "lab" && event.port === "tcp/514" && event.at >= takeover.at, { timeoutMs: 5000 })
    expect(await lab.probe("faz-b", "tcp/5199")).toBe(true)
    expect(await lab.probe("faz-a", "tcp/5199")).toBe(false)

    await Effect.runPromise(lab.perform({ thaw: "faz-a" }))
    expect(events.find(isEvent("fault", (event) => event.fault === "thaw"))?.reason).toBe("faz-a is thawed: it starts over and looks for a primary")
    const back = await waitForRole(started, "faz-a", "secondary", { timeoutMs: 5000 })
    // faz-a ranks better (priority 120) but does not preempt.
    expect(back.reason).toBe("faz-a became secondary: faz-b is primary")
    expect(analyzer(lab, "faz-b").ha?.role()).toBe("primary")
    expect(await lab.probe("faz-a", "tcp/5199")).toBe(false)
    expect(await Effect.runPromise(Effect.flip(lab.perform({ thaw: "faz-a" })))).toMatchObject({ message: "thaw faz-a: faz-a is not frozen; freeze it first" })
  }, 30_000)

  it("a frozen secondary is dropped by the primary after one lost-window, and catches up when thawed", async () => {
    const started = await useLab(YAML)
    const { lab, events } = started
    await waitForRole(started, "faz-a", "primary")
    await waitForRole(started, "faz-b", "secondary")
    await Effect.runPromise(lab.perform({ freeze: "faz-b" }))
    expect(analyzer(lab, "faz-b").ha?.phase()).toBe("frozen")
    const frozenAt = lab.clock.now()
    const fromFreeze = events.length
    // OFTP ACKs wait for every secondary's SYNC_ACK; a silent one is dropped after one lost-window
    // (hb-interval × hb-lost-threshold), so the FortiGate's records are acknowledged again after it.
    const ackedBefore = events.filter(isEvent("logs-acked", (event) => event.device === "fgt-1")).at(-1)?.total ?? 0
    const acked = await waitForEvent(started, "logs-acked", (event) => event.device === "fgt-1" && event.at >= frozenAt + 4 * HB_INTERVAL_MS, { timeoutMs: 5000, from: fromFreeze })
    expect(acked.total).toBeGreaterThan(ackedBefore)
    expect(analyzer(lab, "faz-a").ha?.role()).toBe("primary")
    expect(events.slice(fromFreeze).filter(isEvent("ha-role"))).toEqual([])

    await Effect.runPromise(lab.perform({ thaw: "faz-b" }))
    const back = await waitForRole(started, "faz-b", "secondary", { timeoutMs: 5000, from: fromFreeze })
    expect(back.reason).toBe("faz-b became secondary: faz-a is primary")
    await drain(started, back.at)
    const sent = lab.sender("fgt-1")?.sentTo("lab") ?? 0
    expect(analyzer(lab, "faz-b").store.sequenceReport("fgt-1", sent)).toMatchObject({ stored: sent, missing: 0, duplicated: 0 })
  }, 30_000)
})
