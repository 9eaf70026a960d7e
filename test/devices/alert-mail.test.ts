/**
 * Alert email: an analyzer's event handler (`config system alert-event`) mails a device-offline
 * alert through `config system mail` (STARTTLS when offered, as by default) to the lab's SMTP
 * relay, which keeps it; `swaks` (a real SMTP client) sends to the relay with and without
 * STARTTLS; a mail over the relay's size limit is refused with 552 and said.
 */
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import type { SmtpRelay } from "../../src/devices/smtp-relay/relay.ts"
import { sharedLab, waitForEvent } from "../support/lab.ts"

const run = promisify(execFile)

const started = sharedLab(`
name: mail-test
devices:
  relay-1:
    kind: smtp-relay
    max-message-bytes: 4096
  faz-1:
    kind: fortianalyzer
    serial: FAZ-VM0000000301
    oftp: { auto-authorize: true }
    mail:
      - { id: relay, server: relay-1, from: faz-1@fazlab.example }
    alert-event:
      - name: Local Device Event
        alerts: [device-offline]
        alert-destination: [{ type: mail, smtp-name: relay, to: [noc@fazlab.example, ops@fazlab.example] }]
  fgt-1:
    kind: fortigate
    serial: FGT60F0000000301
    fortianalyzer: { server: faz-1, certificate-verification: disable, rate: 10/s }
`)

const relay = () => started().lab.device("relay-1") as SmtpRelay

const swaks = (args: ReadonlyArray<string>) => {
  const at = started().lab.plan.resolve("relay-1", "tcp/25")
  return run("swaks", ["--server", at.address, "--port", String(at.actualPort), "--from", "tester@fazlab.example", "--to", "noc@fazlab.example", ...args])
}

describe("alert email → SMTP relay", () => {
  it("mails a FortiGate going offline to both recipients through the relay, over STARTTLS", async () => {
    const { lab } = started()
    await waitForEvent(started(), "oftp-session", (event) => event.state === "online")
    await Effect.runPromise(lab.device("fgt-1")!.stop())
    const sent = await waitForEvent(started(), "mail-sent")
    expect(sent.error).toBeNull()
    expect(sent.response).toMatch(/^250 /u)
    const received = relay().mails().find((mail) => mail.subject.startsWith("[faz-1] Local Device Event: Device FGT60F0000000301 is offline"))
    expect(received).toBeDefined()
    expect(received!.from).toBe("faz-1@fazlab.example")
    expect(received!.to).toEqual(["noc@fazlab.example", "ops@fazlab.example"])
    expect(received!.peer.startsWith(`${lab.plan.addressOf("faz-1")}:`)).toBe(true)
    expect(received!.raw).toContain("Alert: device-offline")
    expect(received!.raw).toContain("Device: FGT60F0000000301")
    expect(received!.tls).toBe(true)
  })

  it("takes swaks' mail with STARTTLS and without, and refuses one over max-message-bytes with 552", async () => {
    const before = relay().mails().length
    const tls = await swaks(["--header", "Subject: over tls", "--body", "hello", "-tls"])
    expect(tls.stdout).toContain("<~  250 ")
    await swaks(["--header", "Subject: in clear", "--body", "hello"])
    const mails = relay().mails().slice(before)
    expect(mails.map((mail) => [mail.subject, mail.tls])).toEqual([["over tls", true], ["in clear", false]])
    const big = await swaks(["--header", "Subject: too big", "--body", "x".repeat(8000)]).then(
      () => "accepted",
      (error: { stdout?: string }) => error.stdout ?? ""
    )
    expect(big).toMatch(/^<\*\* 552 Message exceeds max-message-bytes 4096$/mu)
    const refused = await waitForEvent(started(), "mail-refused")
    expect(refused.reason).toBe("a mail from tester@fazlab.example is over max-message-bytes 4096; refused with 552")
    expect(relay().mails().length).toBe(before + 2)
  })
})
