/**
 * The control channel of a real lab (an analyzer and a FortiGate sending syslog, on
 * kernel-chosen ports), driven by raw WebSocket clients and by the client module: the token
 * gate, the snapshot, the event stream, every command's reply, clear errors that keep the
 * connection open, and the files a lab with a data folder gets.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connectControl, ControlClientError, findControl } from "../../src/control/client.ts"
import type { EventOf, LabEvent } from "../../src/events/events.ts"
import { sharedLab, useLab } from "../support/lab.ts"
import { fakeAnalyzer, labTarget, rawClient, refusedUpgrade, registered, type Served, serve } from "./support.ts"

const yaml = `
name: control-test
devices:
  faz-1:
    kind: fortianalyzer
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, mode: udp, rate: 2/s }
`

const isReply = (id: unknown) => (message: Record<string, unknown>) => message["type"] === "reply" && message["id"] === id

describe("control channel of a running lab", () => {
  let served: Served
  const faz = fakeAnalyzer("faz-1", [registered("FGVM010000000001"), registered("FGVM010000000002", { heldLogs: 3 })])

  const started = sharedLab(yaml)
  beforeAll(async () => {
    served = await serve(labTarget(started().lab, [faz]))
  })

  afterAll(async () => {
    await served.close()
  })

  it("serves on 127.0.0.1 with a 32-byte base64url token", () => {
    expect(served.server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/)
    expect(served.server.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(served.server.token, "base64url")).toHaveLength(32)
  })

  it("refuses a connection without the token, or with a wrong one, with 401 and a reason", async () => {
    expect(await refusedUpgrade(served.server.url)).toEqual({
      status: 401,
      body: `no control token: send the header "Authorization: Bearer <token>" or add ?token=<token> to the URL; the token is in the lab's control.token`
    })
    expect(await refusedUpgrade(served.server.url, { Authorization: "Bearer nope" })).toEqual({
      status: 401,
      body: "wrong control token: use the one in the lab's control.token (each lab start makes a new one)"
    })
    const wrongQuery = await refusedUpgrade(`${served.server.url}?token=${served.server.token.slice(1)}`)
    expect(wrongQuery.status).toBe(401)
    await expect(connectControl({ url: served.server.url, token: "nope" })).rejects.toThrow(
      new ControlClientError("unauthorized", "the lab refused the control connection: wrong control token: use the one in the lab's control.token (each lab start makes a new one)")
    )
  })

  it("answers plain HTTP with 426 and what the port is", async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      http.get(served.server.url.replace("ws:", "http:"), (response) => {
        let text = ""
        response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk)).on("end", () => resolve({ status: response.statusCode ?? 0, body: text }))
      }).on("error", reject)
    })
    expect(status).toBe(426)
    expect(body).toContain("control channel")
  })

  it("accepts the token in the header or the query and sends the snapshot first", async () => {
    for (const auth of ["header", "query"] as const) {
      const client = await rawClient(served.server.url, served.server.token, auth)
      const first = await client.next(() => true)
      expect(first).toEqual({
        v: 1,
        type: "snapshot",
        lab: "control-test",
        devices: [{ id: "faz-1", kind: "fortianalyzer", status: "running" }, { id: "fgt-1", kind: "fortigate", status: "running" }],
        listeners: expect.arrayContaining([
          { device: "faz-1", port: "udp/514", address: expect.any(String), actualPort: started().lab.plan.resolve("faz-1", "udp/514").actualPort },
          { device: "faz-1", port: "tcp/514", address: expect.any(String), actualPort: started().lab.plan.resolve("faz-1", "tcp/514").actualPort }
        ])
      })
      client.socket.close()
      await client.closed
    }
  })

  it("streams the lab's events", async () => {
    const client = await rawClient(served.server.url, served.server.token)
    const stored = await client.next((message) => message["type"] === "event" && (message["event"] as LabEvent).type === "logs-stored")
    expect(stored).toEqual({ v: 1, type: "event", event: expect.objectContaining({ type: "logs-stored", device: "faz-1", from: "fgt-1", at: expect.any(Number) }) })
    client.socket.close()
  })

  it("stops and starts a sender, and says so in its events", async () => {
    const client = await connectControl(served.server)
    const events: LabEvent[] = []
    client.onEvent((event) => events.push(event))
    expect(await client.command({ name: "stop", device: "fgt-1" })).toEqual({ device: "fgt-1", status: "stopped" })
    expect(started().lab.device("fgt-1")?.status()).toBe("stopped")
    expect(await client.command({ name: "start", device: "fgt-1" })).toEqual({ device: "fgt-1", status: "running" })
    // Replies follow the events the command caused: both are in already.
    expect(events.filter((event) => event.type === "device-stopped" || event.type === "device-started")).toEqual([
      expect.objectContaining({ type: "device-stopped", device: "fgt-1" }),
      expect.objectContaining({ type: "device-started", device: "fgt-1" })
    ])
    await client.close()
  })

  it("pauses, resumes and bursts a sender", async () => {
    const client = await connectControl(served.server)
    expect(await client.command({ name: "pause", device: "fgt-1" })).toEqual({ device: "fgt-1", status: "running" })
    expect(await client.command({ name: "resume", device: "fgt-1" })).toEqual({ device: "fgt-1", status: "running" })
    const stored = started().events.filter((event) => event.type === "logs-stored" && event.from === "fgt-1")
    const before = stored.length === 0 ? 0 : (stored.at(-1) as EventOf<"logs-stored">).total
    const arrived = new Promise<void>((resolve) =>
      client.onEvent((event) => {
        if (event.type === "logs-stored" && event.from === "fgt-1" && event.total >= before + 200) resolve()
      })
    )
    expect(await client.command({ name: "burst", device: "fgt-1", count: 200 })).toEqual({ device: "fgt-1", count: 200 })
    await arrived
    await client.close()
  })

  it("answers the registry commands from the analyzer", async () => {
    const client = await connectControl(served.server)
    const { devices } = await client.command({ name: "devices" })
    expect(devices.map((device) => [device.serial, device.state, device.analyzer])).toEqual([
      ["FGVM010000000001", "unauthorized", "faz-1"],
      ["FGVM010000000002", "unauthorized", "faz-1"]
    ])
    expect(await client.command({ name: "authorize", serial: "FGVM010000000002", adom: "lab" })).toEqual({
      analyzer: "faz-1",
      serial: "FGVM010000000002",
      adom: "lab",
      released: 3
    })
    expect(faz.registry.get("FGVM010000000002")?.state).toBe("authorized")
    expect(await client.command({ name: "delete-device", serial: "FGVM010000000001", analyzer: "faz-1" })).toEqual({
      analyzer: "faz-1",
      serial: "FGVM010000000001",
      dropped: 7
    })
    await expect(client.command({ name: "delete-device", serial: "FGVM010000000001" })).rejects.toThrow(
      "delete FGVM010000000001: no device with serial FGVM010000000001 has registered with faz-1"
    )
    await expect(client.command({ name: "devices", analyzer: "faz-9" })).rejects.toThrow('no analyzer "faz-9" in lab control-test; its analyzers: faz-1')
    await client.close()
  })

  it("replies with a clear error and keeps the connection open", async () => {
    const client = await rawClient(served.server.url, served.server.token)
    client.send({ v: 1, type: "command", id: "a", command: { name: "stop", device: "ghost" } })
    expect(await client.next(isReply("a"))).toEqual({
      v: 1,
      type: "reply",
      id: "a",
      ok: false,
      error: 'no device "ghost" in lab control-test; its devices: faz-1, fgt-1'
    })
    client.send({ v: 1, type: "command", id: "b", command: { name: "pause", device: "faz-1" } })
    expect((await client.next(isReply("b")))["error"]).toMatch(/^pause faz-1: faz-1 is not a log sender/)
    client.send({ v: 1, type: "command", id: "c", command: { name: "reboot", device: "faz-1" } })
    expect((await client.next(isReply("c")))["error"]).toBe(
      'unknown command "reboot"; commands: stop, start, pause, resume, kill, restart, freeze, thaw, partition, heal, degrade, burst, devices, authorize, delete-device, logs, step, sent, address, node-hello, node-events'
    )
    client.send("{ not json")
    expect(await client.next((message) => message["type"] === "reply" && message["id"] === null)).toEqual({
      v: 1,
      type: "reply",
      id: null,
      ok: false,
      error: expect.stringMatching(/^the message is not JSON/)
    })
    client.send({ v: 1, type: "command", id: "d", command: { name: "burst", device: "fgt-1", count: 0 } })
    expect((await client.next(isReply("d")))["error"]).toBe("command burst: count must be a whole number from 1 to 1000000, got 0")
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true })
    expect((await client.next((message) => message["type"] === "reply" && String(message["error"]).startsWith("binary")))["ok"]).toBe(false)
    // Still open, still answering.
    client.send({ v: 1, type: "command", id: "e", command: { name: "devices" } })
    expect(await client.next(isReply("e"))).toMatchObject({ ok: true, result: { devices: expect.any(Array) } })
    client.socket.close()
  })
})

describe("a lab with a data folder", () => {
  let dir = ""

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-control-"))
  })

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  it("writes control.token (0600) and control.json, and removes both when it stops", async () => {
    const dataDir = path.join(dir, ".fazlab", "control-test")
    fs.mkdirSync(dataDir, { recursive: true })
    const started = await useLab(yaml)
    const served = await serve(labTarget(started.lab, []), { dataDir })
    try {
      const tokenFile = path.join(dataDir, "control.token")
      expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600)
      expect(fs.readFileSync(tokenFile, "utf8")).toBe(`${served.server.token}\n`)
      expect(JSON.parse(fs.readFileSync(path.join(dataDir, "control.json"), "utf8"))).toEqual({ url: served.server.url, pid: process.pid, version: 1, unixSocket: served.server.unixSocket })
      const address = { url: served.server.url, token: served.server.token, unixSocket: path.join(dataDir, "control.sock") }
      expect(findControl(dir)).toEqual(address)
      expect(findControl("/", dataDir)).toEqual(address)

      const client = await connectControl(findControl(dir))
      await served.close()
      expect(await client.closed).toEqual({ code: 1001, reason: "the lab stopped", dropped: null })
      await expect(client.command({ name: "devices" })).rejects.toThrow("the control connection is closed; connect again")
      expect(fs.readdirSync(dataDir)).toEqual([])
      expect(() => findControl(dir)).toThrow(`no running lab found under ${path.join(dir, ".fazlab")}; start one here with fazlab up, or pass --lab DIR or --control URL --token T`)
    } finally {
      await served.close()
    }
  })

  it("tightens a token file left with a wider mode", async () => {
    const dataDir = path.join(dir, "loose")
    fs.mkdirSync(dataDir)
    fs.writeFileSync(path.join(dataDir, "control.token"), "old\n", { mode: 0o644 })
    const started = await useLab(yaml)
    const served = await serve(labTarget(started.lab, []), { dataDir })
    try {
      expect(fs.statSync(path.join(dataDir, "control.token")).mode & 0o777).toBe(0o600)
    } finally {
      await served.close()
    }
  })

  it("says which address it cannot bind", async () => {
    const started = await useLab(yaml)
    const first = await serve(labTarget(started.lab, []))
    const port = Number(new URL(first.server.url).port)
    let subscribed = 0
    const counted = {
      ...labTarget(started.lab, []),
      bus: {
        subscribe: (subscriber: (event: LabEvent) => void) => {
          subscribed++
          const unsubscribe = started.lab.bus.subscribe(subscriber)
          return () => {
            subscribed--
            unsubscribe()
          }
        }
      }
    }
    try {
      await expect(serve(counted, { dataDir: null, bind: { host: "127.0.0.1", port } })).rejects.toThrow(
        `the control channel cannot listen on 127.0.0.1:${port}: the port is in use by another program; pick another with --control-bind HOST:PORT (port 0 lets the system choose)`
      )
      // The failed server let go of the lab's events.
      expect(subscribed).toBe(0)
    } finally {
      await first.close()
    }
  })
})
