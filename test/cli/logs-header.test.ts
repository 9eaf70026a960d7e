/**
 * Every syslog header field end to end: util-linux `logger` sends RFC 5424 with structured data,
 * a MSGID, a PROCID and a tag (over UDP, and over TCP with octet counting) to a lab started with
 * `fazlab up`, and `fazlab logs --json` shows each field as sent, found by `--app`, `--host`,
 * `--msgid`, `--since` and `--until`, read from the store and over the control channel (`--follow`). A MSG that is not UTF-8 comes back as its exact bytes.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import { hostname } from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { jsonLine, removeTempDirs, runFazlab, type RunningFazlab, startFazlab, tempDir } from "../support/cli.ts"

const run = promisify(execFile)

const LAB = `
name: header-test
devices:
  faz-1: { kind: fortianalyzer }
`

/** What logger sends as the header (its own timeQuality element first), and the message. */
const SD_ARGS = ["--sd-id", "fazlab@32473", "--sd-param", 'ip="192.0.2.1"', "--sd-param", 'note="say \\"hi\\" [x\\] \\\\ y"', "--sd-id", "second@1", "--sd-param", 'k="v"']
const SENT_SD = [
  { id: "timeQuality", params: [{ name: "tzKnown", value: "1" }, { name: "isSynced", value: "0" }] },
  { id: "fazlab@32473", params: [{ name: "ip", value: "192.0.2.1" }, { name: "note", value: 'say "hi" [x] \\ y' }] },
  { id: "second@1", params: [{ name: "k", value: "v" }] }
]

describe("fazlab logs shows every syslog header field logger sent", () => {
  let cwd = ""
  let up: RunningFazlab | undefined
  const ports = new Map<string, { address: string; port: number }>()
  let before = 0

  const logs = async (args: ReadonlyArray<string>): Promise<Array<Record<string, unknown>>> => {
    const result = await runFazlab(["logs", "--json", ...args], { cwd })
    expect(result.code, result.stderr).toBe(0)
    return result.stdout.split("\n").filter((line) => line !== "").map((line) => jsonLine(line) ?? {})
  }

  /** Sends with logger (shell `input` piped to its stdin when given) and waits until the analyzer stored it. */
  const send = async (port: "udp/514" | "tcp/514", flags: ReadonlyArray<string>, input?: string) => {
    const target = ports.get(port)
    if (target === undefined || up === undefined) throw new Error(`faz-1 ${port} is not bound`)
    const stored = up.lines.length
    const args = ["-n", target.address, "-P", String(target.port), ...(port === "udp/514" ? ["-d"] : ["-T", "--octet-count"]), ...flags]
    if (input === undefined) await run("logger", args)
    else await run("sh", ["-c", `printf '${input}' | logger ${args.map((arg) => `'${arg.replace(/'/g, "'\\''")}'`).join(" ")}`])
    await up.waitForLine((line, index) => {
      const event = jsonLine(line)
      return index >= stored && event?.["type"] === "logs-stored" && event["from"] === hostname()
    })
  }

  beforeAll(async () => {
    cwd = tempDir()
    fs.writeFileSync(path.join(cwd, "lab.yaml"), LAB)
    up = startFazlab(["up", "lab.yaml", "--headless", "--port-base", "ephemeral"], { cwd })
    for (const port of ["udp/514", "tcp/514"]) {
      const line = await up.waitForLine((text) => {
        const event = jsonLine(text)
        return event?.["type"] === "listener-bound" && event["device"] === "faz-1" && event["port"] === port
      })
      const event = jsonLine(line) ?? {}
      ports.set(port, { address: String(event["address"]), port: Number(event["actualPort"]) })
    }
    before = Date.now() - 1000
    await send("udp/514", ["--rfc5424", ...SD_ARGS, "--msgid", "ID47", "-t", "mytag", "--id=4242", "-p", "local4.warning", "hello wörld"])
    await send("tcp/514", ["--rfc5424", "--msgid", "TCP1", "-t", "tcptag", "-p", "user.notice", "over tcp"])
    await send("udp/514", ["--rfc5424", "--msgid", "LATIN1", "-t", "bytes"], "caf\\351 cr\\350me")
  })

  afterAll(async () => {
    const result = await up?.interrupt()
    removeTempDirs()
    expect(result?.code, result?.stderr).toBe(0)
  })

  it("--json prints the timestamp, hostname, tag, procid, msgid, structured data and message as sent", async () => {
    const [log, ...others] = await logs(["--app", "mytag"])
    expect(others).toEqual([])
    expect(log).toMatchObject({
      format: "rfc5424",
      transport: "udp",
      facility: 20,
      severity: 4,
      device: hostname(),
      hostname: hostname(),
      appName: "mytag",
      procId: "4242",
      msgId: "ID47",
      structuredData: SENT_SD,
      message: "hello wörld",
      messageBytes: null,
      bom: false
    })
    // logger writes local time to the microsecond with its offset: the instant is the same moment in UTC.
    const timestamp = String(log?.["timestamp"])
    const [, fraction, offset] = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d{6})([+-]\d\d:\d\d)$/.exec(timestamp) ?? []
    expect(fraction, timestamp).toBeDefined()
    expect(log?.["offset"]).toBe(offset)
    expect(log?.["time"]).toBe(`${new Date(Date.parse(timestamp)).toISOString().slice(0, 20)}${fraction}Z`)
    expect(String(log?.["raw"])).toContain(" mytag 4242 ID47 [timeQuality")
  })

  it("reads the header over TCP with octet counting too", async () => {
    const [log] = await logs(["--msgid", "TCP1"])
    expect(log).toMatchObject({ transport: "tcp", facility: 1, severity: 5, appName: "tcptag", msgId: "TCP1", structuredData: [SENT_SD[0]], message: "over tcp" })
  })

  it("keeps a MSG that is not UTF-8 as its exact bytes", async () => {
    const [log] = await logs(["--msgid", "LATIN1"])
    const sent = Buffer.from("caf\u00e9 cr\u00e8me", "latin1")
    expect(log).toMatchObject({ appName: "bytes", message: sent.toString("utf8"), messageBytes: sent.toString("base64") })
    expect(Buffer.from(String(log?.["rawBytes"]), "base64").subarray(-sent.length).equals(sent)).toBe(true)
  })

  it("filters by --host, --app, --msgid, --since and --until", async () => {
    const msgIds = async (args: ReadonlyArray<string>) => (await logs(args)).map((log) => log["msgId"])
    expect(await msgIds(["--host", hostname()])).toEqual(["ID47", "TCP1", "LATIN1"])
    expect(await msgIds(["--host", "no-such-host"])).toEqual([])
    expect(await msgIds(["--app", "tcptag"])).toEqual(["TCP1"])
    expect(await msgIds(["--since", new Date(before).toISOString()])).toEqual(["ID47", "TCP1", "LATIN1"])
    expect(await msgIds(["--until", new Date(before).toISOString()])).toEqual([])
    expect(await msgIds(["--app", "mytag", "--since", new Date(Date.now() + 60_000).toISOString()])).toEqual([])
  })

  it("prints the raw message, header included, in text lines", async () => {
    const result = await runFazlab(["logs", "--msgid", "ID47"], { cwd })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^\\S+Z ${hostname()} -/- - <164>1 \\S+ ${hostname()} mytag 4242 ID47 \\[timeQuality.*\\] hello wörld\\n$`))
  })

  it("--follow over the control channel carries the same fields and filters alike", async () => {
    const [stored] = await logs(["--app", "mytag"])
    const follower = startFazlab(["logs", "--follow", "--json", "--app", "mytag", "--msgid", "ID47", "--since", new Date(before).toISOString()], { cwd })
    try {
      const line = jsonLine(await follower.waitForLine((text) => text.startsWith("{")))
      expect(line).toEqual(stored)
      await send("udp/514", ["--rfc5424", "--msgid", "ID47", "-t", "mytag", "second"])
      expect(jsonLine(await follower.waitForLine((text) => text.includes('"message":"second"')))).toMatchObject({ appName: "mytag", msgId: "ID47", message: "second" })
      // Another tag and another msgid were sent in between (by beforeAll): the follower printed neither.
      expect(follower.lines.filter((text) => text.startsWith("{")).map((text) => jsonLine(text)?.["msgId"])).toEqual(["ID47", "ID47"])
    } finally {
      await follower.kill()
    }
  })

  it("says what is wrong with a --since that is no time", async () => {
    const result = await runFazlab(["logs", "--since", "yesterday-ish"], { cwd })
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('fazlab logs: --since must be an ISO 8601 time such as 2026-12-05T06:00:00Z, got "yesterday-ish"\n')
  })
})
