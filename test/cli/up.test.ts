/**
 * `fazlab up` with the embedded default lab: headless it prints the lab's events as JSON lines
 * (listeners bound, logs stored), and Ctrl-C stops it cleanly (listeners closed, lab stopped,
 * exit 0); interactive it prints where each documented port actually listens.
 */
import * as net from "node:net"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { jsonLine, removeTempDirs, type RunningFazlab, startFazlab, tempDir } from "../support/cli.ts"

const running: RunningFazlab[] = []
const start = (args: ReadonlyArray<string>): RunningFazlab => {
  const child = startFazlab(args, { cwd: tempDir() })
  running.push(child)
  return child
}

const isEvent = (type: string, fields: Record<string, unknown> = {}) => (line: string): boolean => {
  const event = jsonLine(line)
  return event !== null && event["type"] === type && Object.entries(fields).every(([key, value]) => event[key] === value)
}

describe("fazlab up", () => {
  afterEach(async () => {
    await Promise.all(running.splice(0).map((child) => child.kill()))
  })
  afterAll(removeTempDirs)

  it("--headless prints JSON-lines events and stops cleanly on SIGINT", async () => {
    const up = start(["up", "--headless", "--memory", "--port-base", "ephemeral"])
    // The default lab is an HA pair: the primary (faz-a) binds the cluster's virtual IP, "lab".
    await up.waitForLine(isEvent("listener-bound", { device: "lab", port: "udp/514" }))
    await up.waitForLine(isEvent("listener-bound", { device: "lab", port: "tcp/514" }))
    await up.waitForLine(isEvent("listener-bound", { device: "faz-a", port: "tcp/5199" }))
    await up.waitForLine(isEvent("logs-stored", { device: "faz-a" }))

    const result = await up.interrupt()
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toBe("")
    const events = up.lines.map(jsonLine)
    expect(events.every((event) => event !== null), "every stdout line is a JSON object").toBe(true)
    const types = events.map((event) => event?.["type"])
    expect(types[0]).toBe("lab-started")
    const stopped = types.lastIndexOf("lab-stopped")
    expect(stopped).toBeGreaterThan(0)
    const closed = events.filter((event) => event?.["type"] === "listener-closed").map((event) => `${String(event?.["device"])} ${String(event?.["port"])}`)
    expect(closed.filter((name) => name.startsWith("lab ") || name.startsWith("faz-a ")).sort()).toEqual(["faz-a tcp/21", "faz-a tcp/22", "faz-a tcp/3000", "faz-a tcp/3010", "faz-a tcp/3011", "faz-a tcp/445", "faz-a tcp/5199", "faz-a tcp/541", "faz-a tcp/80", "faz-a tcp/8080", "faz-a udp/554", "lab tcp/443", "lab tcp/514", "lab tcp/8443", "lab udp/514"])
    expect(types.lastIndexOf("listener-closed")).toBeLessThan(stopped)
  })

  it("prints the port mapping block, a logger hint for the mapped UDP/514, and the mapped TCP port accepts connections", async () => {
    const up = start(["up", "--memory", "--port-base", "ephemeral"])
    await up.waitForLine((line) => line.startsWith("lab default-lab is up"))
    const tcp = await up.waitForLine((line) => /^\s+lab\s+tcp\/514\s+-> /.test(line))
    const udp = await up.waitForLine((line) => /^\s+lab\s+udp\/514\s+-> 127\.\d+\.\d+\.\d+:\d+$/.test(line))
    const hint = await up.waitForLine((line) => line.startsWith("try: logger "))
    await up.waitForLine((line) => line.includes("Ctrl-C stops the lab"))
    const [, udpHost, udpPort] = /-> (127\.\d+\.\d+\.\d+):(\d+)$/.exec(udp) ?? []
    expect(hint).toBe(`try: logger -n ${udpHost} -P ${udpPort} -d "hello from logger"`)

    const [, host, port] = /-> (127\.\d+\.\d+\.\d+):(\d+)$/.exec(tcp) ?? []
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: host ?? "", port: Number(port) }, () => socket.end(resolve))
      socket.once("error", reject)
    })

    const result = await up.interrupt()
    expect(result.code, result.stderr).toBe(0)
  })
})
