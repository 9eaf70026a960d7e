/**
 * `fazlab ctl` against a real lab's control channel, through an in-memory CliIo: it finds the
 * lab started from its folder, prints each result in one line (a table for `devices`, JSON
 * lines with --json), exits 1 with the lab's sentence when the lab refuses, and rejects bad
 * input (and an unreachable lab) with a UsageError.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ctl, parseControlBindFlag } from "../../src/cli/ctl.ts"
import { type CliIo, UsageError } from "../../src/cli/io.ts"
import { sharedLab } from "../support/lab.ts"
import { fakeAnalyzer, labTarget, registered, type Served, serve } from "./support.ts"

const yaml = `
name: ctl-test
devices:
  faz-1:
    kind: fortianalyzer
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, mode: udp, rate: 2/s }
`

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const memoryIo = (cwd: string) => {
  const out = { stdout: "", stderr: "" }
  const io: CliIo = {
    stdout: (text) => (out.stdout += text),
    stderr: (text) => (out.stderr += text),
    cwd,
    env: {},
    isTTY: false,
    signal: new AbortController().signal
  }
  return { io, out }
}

describe("fazlab ctl", () => {
  let cwd = ""
  let served: Served
  const started = sharedLab(yaml)

  const run = async (...args: ReadonlyArray<string>): Promise<Run> => {
    const { io, out } = memoryIo(cwd)
    const code = await ctl(args, io)
    return { code, ...out }
  }

  beforeAll(async () => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-ctl-"))
    const analyzer = fakeAnalyzer("faz-1", [
      registered("FGVM010000000001", { name: "branch-1", ip: "127.0.1.2" }),
      registered("FGVM010000000002", { name: "branch-2", ip: "127.0.1.3", state: "authorized", adom: "root", heldLogs: 0 })
    ])
    served = await serve(labTarget(started().lab, [analyzer]), { dataDir: path.join(cwd, ".fazlab", "ctl-test") })
  })

  afterAll(async () => {
    await served.close()
    fs.rmSync(cwd, { recursive: true, force: true })
  })

  it("stops and starts a device of the lab started here", async () => {
    expect(await run("stop", "fgt-1")).toEqual({ code: 0, stdout: "stopped fgt-1 (now stopped)\n", stderr: "" })
    expect(started().lab.device("fgt-1")?.status()).toBe("stopped")
    expect(await run("start", "fgt-1")).toEqual({ code: 0, stdout: "started fgt-1 (now running)\n", stderr: "" })
    expect(await run("pause", "fgt-1")).toEqual({ code: 0, stdout: "paused fgt-1's logging\n", stderr: "" })
    expect(await run("resume", "fgt-1", "--json")).toEqual({ code: 0, stdout: '{"device":"fgt-1","status":"running"}\n', stderr: "" })
    expect(await run("burst", "fgt-1", "25")).toEqual({ code: 0, stdout: "fgt-1 sends a burst of 25 logs\n", stderr: "" })
  })

  it("kills and restarts a device, and says which faults need an HA member", async () => {
    expect(await run("kill", "fgt-1")).toEqual({ code: 0, stdout: "killed fgt-1 (now stopped)\n", stderr: "" })
    expect(started().lab.device("fgt-1")?.status()).toBe("stopped")
    expect(await run("restart", "fgt-1")).toEqual({ code: 0, stdout: "restarted fgt-1 (now running)\n", stderr: "" })
    expect(started().lab.device("fgt-1")?.status()).toBe("running")
    expect(started().events.filter((event) => event.type === "fault").map((event) => event.type === "fault" && event.reason)).toEqual([
      "fgt-1 is killed: no goodbye, its connections are cut and what it had not stored is lost",
      "fgt-1 restarts: a clean stop, then a start"
    ])
    expect(await run("freeze", "faz-1")).toEqual({ code: 1, stdout: "", stderr: "fazlab ctl: freeze faz-1: faz-1 is in no HA group; HA members: none\n" })
    expect(await run("partition", "faz-1", "fgt-1")).toEqual({
      code: 1,
      stdout: "",
      stderr: "fazlab ctl: partition faz-1: faz-1 is in no HA group; HA members: none\n"
    })
  })

  it("lists the registry as a table or JSON lines", async () => {
    expect(await run("devices")).toEqual({
      code: 0,
      stdout: [
        "SERIAL            NAME      PLATFORM        IP         STATE         ADOM  HELD  FIRST-SEEN",
        "FGVM010000000001  branch-1  FortiGate-VM64  127.0.1.2  unauthorized  -     7     2025-01-02T03:04:05Z",
        "FGVM010000000002  branch-2  FortiGate-VM64  127.0.1.3  authorized    root  0     2025-01-02T03:04:05Z",
        ""
      ].join("\n"),
      stderr: ""
    })
    const json = await run("devices", "--json")
    expect(json.code).toBe(0)
    expect(json.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ serial: "FGVM010000000001", analyzer: "faz-1", heldLogs: 7 }),
      expect.objectContaining({ serial: "FGVM010000000002", analyzer: "faz-1", adom: "root" })
    ])
  })

  it("authorizes and deletes by serial", async () => {
    expect(await run("authorize", "FGVM010000000001", "--adom", "branches")).toEqual({
      code: 0,
      stdout: "authorized FGVM010000000001 on faz-1 in ADOM branches; released 7 held logs\n",
      stderr: ""
    })
    expect(await run("delete", "FGVM010000000002", "--analyzer", "faz-1")).toEqual({
      code: 0,
      stdout: "deleted FGVM010000000002 from faz-1; dropped 0 held logs\n",
      stderr: ""
    })
  })

  it("exits 1 with the lab's sentence when the lab refuses", async () => {
    expect(await run("stop", "ghost")).toEqual({
      code: 1,
      stdout: "",
      stderr: 'fazlab ctl: no device "ghost" in lab ctl-test; its devices: faz-1, fgt-1\n'
    })
    expect(await run("step")).toEqual({
      code: 1,
      stdout: "",
      stderr: "fazlab ctl: step: no scenario is running in lab ctl-test, so no step waits; steps belong to fazlab run SCENARIO.yaml\n"
    })
    expect(await run("delete", "FGVM019999999999")).toEqual({
      code: 1,
      stdout: "",
      stderr: "fazlab ctl: delete FGVM019999999999: no device with serial FGVM019999999999 has registered with faz-1\n"
    })
  })

  it("reaches a lab by --control and --token from anywhere", async () => {
    const { io, out } = memoryIo(os.tmpdir())
    expect(await ctl(["resume", "fgt-1", "--control", served.server.url, "--token", served.server.token], io)).toBe(0)
    expect(out.stdout).toBe("resumed fgt-1's logging\n")
  })

  it("rejects bad input with one sentence", async () => {
    const usage = async (args: ReadonlyArray<string>, message: string) => {
      await expect(ctl(args, memoryIo(cwd).io)).rejects.toThrow(new UsageError(message))
    }
    const commands =
      "devices, authorize SERIAL [--adom A], delete SERIAL, stop|start|pause|resume DEVICE, burst DEVICE COUNT, kill|restart|freeze|thaw DEVICE, partition|heal MEMBER MEMBER, degrade MEMBER MEMBER [--hb-delay MS] [--hb-loss PCT], step"
    await usage([], `give a command: ${commands}`)
    await usage(["reboot", "fgt-1"], `unknown ctl command "reboot"; commands: ${commands}`)
    await usage(["stop"], "ctl stop takes DEVICE, got none")
    await usage(["stop", "a", "b"], "ctl stop takes DEVICE, got a b")
    await usage(["devices", "x"], "ctl devices takes no arguments, got x")
    await usage(["burst", "fgt-1", "lots"], 'ctl burst COUNT must be a whole number from 1 to 1000000, got "lots"')
    await usage(["burst", "fgt-1", "0"], 'ctl burst COUNT must be a whole number from 1 to 1000000, got "0"')
    await usage(["stop", "fgt-1", "--adom", "x"], "--adom does not apply to ctl stop")
    await usage(["partition", "faz-a"], "ctl partition takes MEMBER MEMBER, got faz-a")
    await usage(["freeze"], "ctl freeze takes DEVICE, got none")
    await usage(["step", "2"], "ctl step takes no arguments, got 2")
    await usage(["stop", "fgt-1", "--control", served.server.url], "--control URL and --token T go together; give both, or neither to find the lab started here")
    await usage(
      ["stop", "fgt-1", "--lab", cwd, "--control", served.server.url, "--token", "t"],
      "give either --lab DIR or --control URL --token T, not both"
    )
  })

  it("says when there is no lab to reach, or the token is wrong", async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-ctl-none-"))
    try {
      await expect(ctl(["devices"], memoryIo(elsewhere).io)).rejects.toThrow(
        new UsageError(`no running lab found under ${path.join(elsewhere, ".fazlab")}; start one here with fazlab up, or pass --lab DIR or --control URL --token T`)
      )
      await expect(ctl(["devices", "--lab", "nowhere"], memoryIo(elsewhere).io)).rejects.toThrow(
        new UsageError("no running lab in nowhere (no control.json of a live lab there); start it with fazlab up --data-dir nowhere, or pass --control URL --token T")
      )
      await expect(ctl(["devices", "--control", served.server.url, "--token", "wrong"], memoryIo(elsewhere).io)).rejects.toThrow(
        new UsageError("the lab refused the control connection: wrong control token: use the one in the lab's control.token (each lab start makes a new one)")
      )
      await expect(ctl(["devices", "--control", "ws://127.0.0.1:1/", "--token", "t"], memoryIo(elsewhere).io)).rejects.toThrow(
        new UsageError("cannot reach the lab's control channel at ws://127.0.0.1:1/ (ECONNREFUSED); is the lab still running?")
      )
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true })
    }
  })
})

describe("parseControlBindFlag", () => {
  it("reads HOST:PORT and turns a bad value into a UsageError", () => {
    expect(parseControlBindFlag(undefined)).toBeUndefined()
    expect(parseControlBindFlag("0.0.0.0:7400")).toEqual({ host: "0.0.0.0", port: 7400 })
    expect(() => parseControlBindFlag("7400")).toThrow(new UsageError('--control-bind must be HOST:PORT such as 127.0.0.1:7400 or [::1]:7400, got "7400"'))
  })
})
