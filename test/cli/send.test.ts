/**
 * `fazlab send syslog` against an analyzer of an in-process lab: each transport, framing and
 * format delivers exactly the logs it reports, stored under the sending device's name; and a
 * TCP port nobody listens on is a clear failure (exit 1), not a hang or a stack trace.
 */
import * as net from "node:net"
import { afterAll, describe, expect, it } from "vitest"
import { removeTempDirs, runFazlab, tempDir } from "../support/cli.ts"
import { startLab, waitForStored } from "../support/lab.ts"

const analyzerOnly = `
name: send-target
description: One analyzer for fazlab send to log into.
devices:
  faz-1:
    kind: fortianalyzer
`

const variants = [
  { name: "UDP, FortiOS default format", flags: [], port: "udp/514", transport: "udp", format: "fortios", says: "over UDP, FortiOS default format" },
  { name: "TCP with LF framing", flags: ["--tcp"], port: "tcp/514", transport: "tcp", format: "fortios", says: "over TCP (LF framing), FortiOS default format" },
  { name: "TCP with octet counting", flags: ["--tcp", "--octet-count"], port: "tcp/514", transport: "tcp", format: "fortios", says: "over TCP (octet counting), FortiOS default format" },
  { name: "UDP, RFC 5424", flags: ["--rfc5424"], port: "udp/514", transport: "udp", format: "rfc5424", says: "over UDP, RFC 5424" }
] as const

/** A loopback TCP port that was free a moment ago and has no listener. */
const closedTcpPort = async (): Promise<number> => {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe("fazlab send syslog", () => {
  afterAll(removeTempDirs)

  it.concurrent.each(variants)("$name: 50 logs sent, 50 stored from fgt-send", async (variant) => {
    const started = await startLab(analyzerOnly)
    try {
      const { address, actualPort } = started.lab.plan.resolve("faz-1", variant.port)
      const to = `${address}:${actualPort}`
      const result = await runFazlab(["send", "syslog", "--to", to, "--count", "50", "--rate", "5000", ...variant.flags], { cwd: tempDir() })
      expect(result.code, result.stderr).toBe(0)
      expect(result.stderr).toBe("")
      expect(result.stdout).toMatch(new RegExp(`^sent 50 logs to ${to.replaceAll(".", "\\.")} ${variant.says.replace(/[()]/g, "\\$&")}, in `))

      const stored = await waitForStored(started, "fgt-send", 50)
      expect(stored.total).toBe(50)
      const store = started.lab.analyzers()[0]?.store
      const logs = store?.query({ device: "fgt-send", limit: 100 }) ?? []
      expect(logs).toHaveLength(50)
      expect(new Set(logs.map((log) => `${log.transport} ${log.format}`))).toEqual(new Set([`${variant.transport} ${variant.format}`]))
      expect(logs.map((log) => log.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    } finally {
      await started.close()
    }
  })

  it("a TCP port nobody listens on: exit 1 and one sentence naming the address", async () => {
    const port = await closedTcpPort()
    const result = await runFazlab(["send", "syslog", "--to", `127.0.0.1:${port}`, "--tcp", "--count", "5"], { cwd: tempDir() })
    expect(result.code).toBe(1)
    expect(result.stdout).toBe("")
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1)
    expect(result.stderr).toMatch(new RegExp(`^fazlab send: cannot reach 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*; sent 0 logs`))
    expect(result.stderr).not.toMatch(/^\s+at /m)
  })
})
