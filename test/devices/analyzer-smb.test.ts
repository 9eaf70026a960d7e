/**
 * The analyzer's TCP/445 (DC polling) answers SMB2 as far as a real client can tell: Samba's
 * `smbclient -L -N` negotiates and is refused at session setup; nmap's `smb-protocols` lists the
 * dialects it negotiates; a stream that is not SMB2 is closed with a sentence and counted.
 */
import { execFile } from "node:child_process"
import * as net from "node:net"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import type { FortiAnalyzer } from "../../src/devices/fortianalyzer/analyzer.ts"
import { sharedLab, waitForEvent } from "../support/lab.ts"

const run = promisify(execFile)

const started = sharedLab("name: smb\ndevices:\n  faz-1: { kind: fortianalyzer }\n")

const port445 = () => started().lab.plan.resolve("faz-1", "tcp/445")

describe("SMB2 on the analyzer's TCP/445", () => {
  it("negotiates with smbclient and refuses its anonymous session setup", async () => {
    const { address, actualPort } = port445()
    const from = started().events.length
    const result = await run("smbclient", ["-L", `//${address}`, "-N", "-p", String(actualPort)], { timeout: 60_000 }).then(
      () => ({ code: 0, output: "" }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, output: `${error.stdout ?? ""}${error.stderr ?? ""}` })
    )
    expect(result.code).toBe(1)
    expect(result.output).toMatch(/session setup failed: NT_STATUS_ACCESS_DENIED/u)
    const negotiated = await waitForEvent(started(), "smb-session", (e) => e.state === "negotiated", { from })
    expect(negotiated.dialect).toBe("3.0.2")
    await waitForEvent(started(), "smb-session", (e) => e.state === "refused" && e.reason.startsWith("session setup refused"), { from })
  }, 90_000)

  it("lists the SMB2 dialects it negotiates to nmap's smb-protocols", async () => {
    const { address, actualPort } = port445()
    const { stdout } = await run("nmap", ["-Pn", "-p", String(actualPort), "--script", "smb-protocols", "--script-args", `smbport=${actualPort}`, address], { timeout: 100_000 })
    // "|   dialects: \n|     202\n|     210\n|     300\n|_    302": no SMBv1, no 3.1.1.
    const dialects = stdout.slice(stdout.indexOf("dialects:")).split("\n").slice(1).map((line) => /^\|_? +(\S+)$/u.exec(line)?.[1]).filter((d) => d !== undefined)
    expect(dialects).toEqual(["202", "210", "300", "302"])
  }, 120_000)

  it("closes a stream that is not SMB2 with a sentence and counts it", async () => {
    const { address, actualPort } = port445()
    const from = started().events.length
    const socket = net.connect({ host: address, port: actualPort })
    socket.on("error", () => undefined)
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()))
    socket.write("GET / HTTP/1.0\r\n\r\n")
    const closed = await waitForEvent(started(), "connection-closed", (e) => e.port === "tcp/445", { from })
    expect(closed.reason).toMatch(/^not SMB2 \(bad-session-header\): first byte 0x47 is not a direct-TCP session message \(0x00\); closed$/u)
    await new Promise<void>((resolve) => socket.once("close", () => resolve()))
    const analyzer = started().lab.device("faz-1") as FortiAnalyzer
    expect(analyzer.dcPolling.refused.get("bad-session-header")).toBe(1)
  })
})
