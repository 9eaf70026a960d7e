/**
 * One port, two protocols, seen by real third-party clients: `openssl s_client` completes a TLS
 * handshake on the analyzer's TCP/514 and sees the lab CA chain with the analyzer's serial as
 * CN, while util-linux `logger` sends plain syslog to the same listener at the same time.
 */
import { execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { sharedLab, waitForStored } from "../support/lab.ts"

const run = promisify(execFile)

let dir: string
const started = sharedLab("name: one-port\ndevices:\n  faz-1: { kind: fortianalyzer, serial: FAZ-VM0000000042 }\n")
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-one-port-"))
})
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Runs openssl s_client to the end of its handshake; resolves with everything it printed. */
const sClient = (args: ReadonlyArray<string>): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn("openssl", ["s_client", ...args], { stdio: ["pipe", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.stdin.end()
    child.on("close", (code) => resolve({ code, output }))
  })

describe("TCP/514: OFTP's TLS and plain syslog on one listener", () => {
  it("openssl completes a handshake with the lab CA chain while logger's syslog is stored", async () => {
    const caFile = path.join(dir, "ca.pem")
    fs.writeFileSync(caFile, started().lab.pki.caPem)
    const { address, actualPort } = started().lab.plan.resolve("faz-1", "tcp/514")
    const message = 'date=2026-11-27 time=07:00:00 devname="same-port" devid="FGT60FTK20000077" type="event" subtype="system" level="notice" msg="syslog beside TLS"'

    const [tlsResult] = await Promise.all([
      sClient(["-connect", `${address}:${actualPort}`, "-CAfile", caFile, "-showcerts", "-verify_return_error"]),
      run("logger", ["-n", address, "-P", String(actualPort), "-T", "--octet-count", "--rfc5424", "-t", "fgt", message])
    ])
    expect(tlsResult.output).toContain("Verify return code: 0 (ok)")
    expect(tlsResult.output).toMatch(/s:CN\s*=\s*FAZ-VM0000000042/)
    expect(tlsResult.output).toMatch(/i:CN\s*=\s*fazlab one-port CA/)
    expect(tlsResult.output).toMatch(/New, TLSv1\.[23], Cipher is /)

    await waitForStored(started(), "same-port", 1)
    const [row] = started().lab.analyzers()[0]!.store.query({ device: "same-port", limit: 1 })
    expect(row?.fields?.["msg"]).toBe("syslog beside TLS")
    expect(started().lab.analyzers()[0]!.intake.malformedTotal).toBe(0)
  })
})
