/**
 * The analyzer's reports (`report.output`, `report.schedule`), checked with real clients:
 *
 * - On the simulated clock, an `every-n-hours` schedule runs its Traffic Summary at the next
 *   quarter past the hour and uploads the PDF and the CSV over FTP to the lab's file server:
 *   `curl ftp://` lists them and `pdftotext` reads back the figures of the logs the FortiGates
 *   sent (50 of fgt-1, 20 of fgt-2).
 * - On demand through the JSON-RPC API with `curl -k` (`add /report/adom/root/run`, `get
 *   .../run/<tid>`, `get .../reports/data/<tid>`): the download is a base64 zip whose PDF
 *   (`unzip`) is the very file the output profile uploaded over SFTP (OpenSSH `sftp` lists it) and
 *   mailed to the lab's SMTP relay as an attachment.
 * - In the SSH CLI (OpenSSH): `execute sql-report run|list`, `execute backup reports` and
 *   `execute backup logs` (a name with no logs is said), an unknown schedule refused in a sentence.
 * - `rolling-regular` with `upload-trigger on-schedule`: a file rolled at 01:00 goes at
 *   `upload-hour` 3, on the simulated clock.
 * - `ldap-query enable`: the report asks the lab's LDAP server over TCP/389 for the groups of its
 *   top users (`ldap-search` events), and the CSV that `curl ftp://` fetches lists them: groups,
 *   `none`, or why the directory knows nothing of a user.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import type { FileServer } from "../../src/devices/file-server/file-server.ts"
import type { SmtpRelay } from "../../src/devices/smtp-relay/relay.ts"
import type { Lab } from "../../src/lab/lab.ts"
import { VirtualLabClock } from "../../src/machines/virtual-clock.ts"
import { analyzer, startLab, useLab, waitForEvent, waitForStored } from "../support/lab.ts"

const run = (command: string, args: ReadonlyArray<string>): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(command, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr })
    })
  })

/** One JSON-RPC call with `curl -k` and the analyzer's API key; its first result. */
const rpc = async (lab: Lab, method: string, params: Record<string, unknown>): Promise<{ status: { code: number }; data?: Record<string, unknown>; detail?: string }> => {
  const at = lab.plan.resolve("faz-1", "tcp/443")
  const body = JSON.stringify({ id: 1, method, params: [params] })
  const answer = await run("curl", ["-sS", "-k", "-H", "Authorization: Bearer lab0123456789abcdef", "-H", "Content-Type: application/json", "--data-binary", body, `https://${at.address}:${at.actualPort}/jsonrpc`])
  const reply = JSON.parse(answer.stdout) as { result: ReadonlyArray<{ status: { code: number }; data?: Record<string, unknown>; detail?: string }> }
  const first = reply.result[0]
  if (first === undefined) throw new Error(`no result in ${answer.stdout}`)
  return first
}

/** The bytes of the attachment `name` of a raw MIME message (base64, as nodemailer sends files). */
const attachment = (raw: string, name: string): Buffer => {
  const at = raw.indexOf(`filename=${name}`)
  const start = raw.indexOf("\r\n\r\n", at)
  const end = raw.indexOf("\r\n--", start)
  return Buffer.from(raw.slice(start + 4, end).replace(/\s+/gu, ""), "base64")
}

const FILES = `
  files-1:
    kind: file-server
    user: { backup: { password: s3cret } }`

describe("analyzer reports", () => {
  it("runs an hourly Traffic Summary on the simulated clock and uploads its PDF and CSV over FTP; pdftotext reads the counts", async () => {
    // Closed after the lab: a simulated clock left running would keep the next one from moving.
    const clock = new VirtualLabClock()
    const started = await startLab(`
name: report-hourly
devices:${FILES}
  faz-1:
    kind: fortianalyzer
    report:
      output:
        - { name: to-files, output-format: [pdf, csv], upload: enable, upload-server-type: ftp, upload-server: files-1, upload-user: backup, upload-pass: s3cret, upload-dir: /reports }
      schedule:
        - { name: hourly-traffic, layout: traffic-summary, schedule-type: every-n-hours, schedule-valid-start: "00:15", time-period: last-n-hours, period-last-n: 2, output-profile: to-files }
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, rate: 100/s, count: 50, logs: [traffic-forward] }
  fgt-2:
    kind: fortigate
    syslog: { server: faz-1, rate: 100/s, count: 20, logs: [traffic-forward] }
`, { clock })
    try {
      const pdf = await waitForEvent(started, "report-generated", (e) => e.format === "pdf", { timeoutMs: 30_000 })
      expect(pdf).toMatchObject({ device: "faz-1", schedule: "hourly-traffic", layout: "traffic-summary", logs: 70 })
      expect(pdf.name).toMatch(/^hourly-traffic-\d{4}-\d{2}-\d{2}-\d{2}15\.pdf$/u)
      const uploaded = await waitForEvent(started, "file-uploaded", (e) => e.what === "report" && e.path.endsWith(".pdf"), { timeoutMs: 30_000 })
      expect(uploaded).toMatchObject({ to: "files-1", via: "ftp", path: `/reports/${pdf.name}`, bytes: pdf.bytes })
      const csv = await waitForEvent(started, "file-uploaded", (e) => e.what === "report" && e.path.endsWith(".csv"), { timeoutMs: 30_000 })

      const at = started.lab.plan.resolve("files-1", "tcp/21")
      const listing = await run("curl", ["-sS", "--user", "backup:s3cret", `ftp://${at.address}:${at.actualPort}/reports/`])
      expect(listing.stdout).toContain(pdf.name)
      expect(listing.stdout).toContain(path.posix.basename(csv.path))

      const files = started.lab.device("files-1") as FileServer
      const text = await run("pdftotext", ["-layout", path.join(files.folder ?? "", uploaded.path), "-"])
      expect(text.code).toBe(0)
      expect(text.stdout).toContain("Traffic Summary")
      expect(text.stdout).toMatch(/fgt-1\s+50\b/u)
      expect(text.stdout).toMatch(/fgt-2\s+20\b/u)
      expect(text.stdout).toMatch(/traffic\s+forward\s+70\b/u)
      const table = await fs.readFile(path.join(files.folder ?? "", csv.path), "utf8")
      expect(table).toContain("fgt-1,50\r\n")
    } finally {
      await started.close()
      clock.close()
    }
  })

  it("runs on demand over JSON-RPC; the zip it downloads holds the PDF it uploaded over SFTP and mailed", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fazlab-report-"))
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "id")])
    const publicKey = (await fs.readFile(path.join(dir, "id.pub"), "utf8")).trim()
    const started = await useLab(`
name: report-jsonrpc
devices:
  files-1:
    kind: file-server
    user: { backup: { password: s3cret, ssh-public-key: ["${publicKey}"] } }
  relay-1:
    kind: smtp-relay
  faz-1:
    kind: fortianalyzer
    admin: { user: { admin: {}, lab-api: { user-type: api, api-key: lab0123456789abcdef, rpc-permit: read-write } } }
    mail:
      - { id: relay, server: relay-1, from: faz-1@fazlab.example }
    report:
      output:
        - name: deliver
          upload: enable
          upload-server-type: sftp
          upload-server: files-1
          upload-user: backup
          upload-pass: s3cret
          upload-dir: /reports/daily
          email: enable
          email-recipients: [{ address: soc@fazlab.example, email-server: relay }]
          email-subject: Daily events
      schedule:
        - { name: daily-events, layout: event-summary, time-period: today, output-profile: deliver }
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, rate: 500/s, count: 30, logs: [event-system] }
`)
    const { lab } = started
    await waitForStored(started, "fgt-1", 30)
    const added = await rpc(lab, "add", { url: "/report/adom/root/run", schedule: "daily-events" })
    expect(added.status.code).toBe(0)
    const tid = String(added.data?.["tid"])
    expect(tid).toMatch(/^[0-9a-f-]{36}$/u)
    const generated = await waitForEvent(started, "report-generated", (e) => e.schedule === "daily-events")
    expect(generated).toMatchObject({ layout: "event-summary", format: "pdf", logs: 30 })
    const state = await rpc(lab, "get", { url: `/report/adom/root/run/${tid}` })
    expect(state.data).toMatchObject({ tid, schedule: "daily-events", state: "generated", "progress-percent": 100 })

    const uploaded = await waitForEvent(started, "file-uploaded", (e) => e.what === "report")
    expect(uploaded).toMatchObject({ via: "sftp", path: `/reports/daily/${generated.name}` })
    const files = started.lab.device("files-1") as FileServer
    const onServer = await fs.readFile(path.join(files.folder ?? "", uploaded.path))
    const sftpAt = lab.plan.resolve("files-1", "tcp/22")
    await fs.writeFile(path.join(dir, "batch"), "ls -l /reports/daily\n")
    const listing = await run("sftp", ["-i", path.join(dir, "id"), "-b", path.join(dir, "batch"), "-P", String(sftpAt.actualPort), "-o", "StrictHostKeyChecking=no", "-o", `UserKnownHostsFile=${path.join(dir, "known_hosts")}`, "-o", "LogLevel=ERROR", `backup@${sftpAt.address}`])
    expect(listing.stdout).toContain(generated.name)

    const data = await rpc(lab, "get", { url: `/report/adom/root/reports/data/${tid}`, format: "PDF", "data-type": "string" })
    expect(data.data).toMatchObject({ name: generated.name.replace(/\.pdf$/u, ".zip"), "data-type": "zip/base64" })
    await fs.writeFile(path.join(dir, "report.zip"), Buffer.from(String(data.data?.["data"]), "base64"))
    const unzipped = await new Promise<Buffer>((resolve) => execFile("unzip", ["-p", path.join(dir, "report.zip"), generated.name], { encoding: "buffer" }, (_, stdout) => resolve(stdout)))
    expect(unzipped.equals(onServer)).toBe(true)
    const missing = await rpc(lab, "get", { url: "/report/adom/root/reports/data/00000000-0000-0000-0000-000000000000" })
    expect(missing.status.code).toBe(-3)

    const sent = await waitForEvent(started, "mail-sent", (e) => e.handler === "report daily-events")
    expect(sent).toMatchObject({ error: null, to: ["soc@fazlab.example"], subject: "Daily events", attachments: [generated.name] })
    const relay = lab.device("relay-1") as SmtpRelay
    const mail = relay.mails().find((received) => received.subject === "Daily events")
    expect(mail === undefined ? null : attachment(mail.raw, generated.name).equals(onServer)).toBe(true)
    await fs.rm(dir, { recursive: true, force: true })
  })

  it("runs a report and backs up reports and logs from the SSH CLI", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fazlab-report-cli-"))
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "id")])
    const publicKey = (await fs.readFile(path.join(dir, "id.pub"), "utf8")).trim()
    const started = await useLab(`
name: report-cli
devices:${FILES}
  faz-1:
    kind: fortianalyzer
    admin: { user: { admin: { password: fortinet, ssh-public-key: ["${publicKey}"] } } }
    report:
      output:
        - { name: keep, output-format: html }
      schedule:
        - { name: fgt-1-traffic, devices: [{ devices-name: fgt-1 }], time-period: today, output-profile: keep }
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, rate: 500/s, count: 40, logs: [traffic-forward] }
`)
    const ssh = (command: string) => {
      const at = started.lab.plan.resolve("faz-1", "tcp/22")
      return run("ssh", ["-i", path.join(dir, "id"), "-o", "BatchMode=yes", "-p", String(at.actualPort), "-o", "StrictHostKeyChecking=no", "-o", `UserKnownHostsFile=${path.join(dir, "known_hosts")}`, "-o", "LogLevel=ERROR", `admin@${at.address}`, command])
    }
    await waitForStored(started, "fgt-1", 40)
    const ran = await ssh("execute sql-report run root fgt-1-traffic 2")
    expect(ran.stdout).toContain("Starting report fgt-1-traffic (Traffic Summary) in the background...")
    const tid = /Task id: ([0-9a-f-]{36})/u.exec(ran.stdout)?.[1]
    const generated = await waitForEvent(started, "report-generated", (e) => e.schedule === "fgt-1-traffic")
    expect(generated).toMatchObject({ format: "html", logs: 40 })
    expect((await ssh("execute sql-report list root")).stdout).toMatch(new RegExp(`${tid ?? "no tid"}\\s+fgt-1-traffic\\s+generated`, "u"))
    const unknown = await ssh("execute sql-report run root nightly")
    expect(unknown.stdout).toContain("report schedule nightly is not in ADOM root; add it to the scenario file's report.schedule")
    expect(unknown.code).toBe(1)

    const reports = await ssh("execute backup reports fgt-1-traffic,weekly ftp files-1 backup s3cret /again")
    expect(reports.stdout).toContain("weekly has no generated report; skipped")
    const again = await waitForEvent(started, "file-uploaded", (e) => e.what === "report")
    expect(again).toMatchObject({ via: "ftp", path: `/again/${generated.name}` })

    const logs = await ssh("execute backup logs fgt-1,fgt-9 scp files-1 backup s3cret /logs-backup")
    expect(logs.stdout).toContain("fgt-9 has no logs stored; skipped")
    expect(logs.stdout).toContain("Starting backup logs to scp://backup@files-1/logs-backup in the background...")
    const backedUp = await waitForEvent(started, "file-uploaded", (e) => e.what === "logs")
    expect(backedUp.path).toMatch(/^\/logs-backup\/fgt-1\.tlog\.\d{8}-\d{4}-\d{8}-\d{4}\.log$/u)
    const files = started.lab.device("files-1") as FileServer
    const lines = (await fs.readFile(path.join(files.folder ?? "", backedUp.path), "utf8")).trimEnd().split("\n")
    expect(lines).toHaveLength(40)
    await fs.rm(dir, { recursive: true, force: true })
  })

  it("holds a rolled log file until upload-hour with upload-trigger on-schedule (simulated clock)", async () => {
    const clock = new VirtualLabClock()
    const started = await startLab(`
name: upload-on-schedule
devices:${FILES}
  faz-1:
    kind: fortianalyzer
    log-settings:
      rolling-regular: { when: daily, hour: 1, min: 0, upload: enable, upload-trigger: on-schedule, upload-hour: 3, server-type: ftp, ip: files-1, username: backup, password: s3cret, directory: /held }
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, rate: 100/s, count: 10, logs: [event-system] }
`, { clock })
    try {
      const epoch = analyzer(started.lab, "faz-1").uploads.date() - started.lab.clock.now()
      const uploaded = await waitForEvent(started, "file-uploaded", (e) => e.what === "logs", { timeoutMs: 30_000 })
      expect(uploaded.path).toMatch(/^\/held\/fgt-1\.elog\.\d{8}-\d{4}-\d{8}-\d{4}\.log$/u)
      // Rolled at 01:00, sent at 03:00 of the lab's date.
      expect(new Date(epoch + uploaded.at).getUTCHours()).toBe(3)
    } finally {
      await started.close()
      clock.close()
    }
  })

  it("asks the lab's directory over TCP/389 for the groups of the report's users (ldap-query), and curl fetches the CSV that lists them", async () => {
    const started = await useLab(`
name: report-ldap-query
devices:${FILES}
  ldap-1:
    kind: ldap-server
    user:
      alice: { password: alice-pw, group: [sales] }
      bob: { password: bob-pw, group: [sales, vpn-users] }
      carol: { password: carol-pw }
  faz-1:
    kind: fortianalyzer
    admin:
      ldap:
        - { name: LAB-LDAP, server: ldap-1, cnid: uid, dn: "ou=people,dc=fazlab,dc=lab" }
    report:
      output:
        - { name: to-files, output-format: csv, upload: enable, upload-server-type: ftp, upload-server: files-1, upload-user: backup, upload-pass: s3cret, upload-dir: /reports }
      schedule:
        - { name: user-events, layout: event-summary, time-period: today, output-profile: to-files, ldap-query: enable, ldap-server: LAB-LDAP, ldap-user-case-change: lower }
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, rate: 500/s, count: 40, logs: [event-user] }
`)
    const { lab } = started
    await waitForStored(started, "fgt-1", 40)
    const reports = analyzer(lab, "faz-1").reports
    const schedule = reports.schedule("user-events")
    if (schedule === undefined) throw new Error("no schedule user-events")
    const from = started.events.length
    reports.runNow(schedule)
    const generated = await waitForEvent(started, "report-generated", (e) => e.schedule === "user-events", { from })
    // The directory was asked for alice over TCP/389 (the user's entry, below the entry's dn).
    const search = await waitForEvent(started, "ldap-search", (e) => e.filter === "(uid=alice)", { from })
    expect(search).toMatchObject({ device: "ldap-1", transport: "tcp", base: "ou=people,dc=fazlab,dc=lab", entries: 1 })
    const uploaded = await waitForEvent(started, "file-uploaded", (e) => e.what === "report" && e.path === `/reports/${generated.name}`, { from })
    const at = lab.plan.resolve("files-1", "tcp/21")
    const fetched = await run("curl", ["-sS", "--user", "backup:s3cret", `ftp://${at.address}:${at.actualPort}${uploaded.path}`])
    expect(fetched.code).toBe(0)
    const lines = fetched.stdout.split("\r\n")
    expect(lines).toContain("LDAP query,groups of the top users from admin.ldap entry LAB-LDAP")
    const users = lines.slice(lines.indexOf("User,Logs,LDAP groups") + 1, lines.indexOf("", lines.indexOf("User,Logs,LDAP groups")))
    const byUser = new Map(users.map((line) => [line.split(",")[0], line] as const))
    // The FortiGate's user events name alice, bob, carol and dave; dave is not in the directory.
    expect(byUser.get("alice")).toMatch(/^alice,\d+,sales$/u)
    expect(byUser.get("bob")).toMatch(/^bob,\d+,"sales, vpn-users"$/u)
    expect(byUser.get("carol")).toMatch(/^carol,\d+,none$/u)
    expect(byUser.get("dave")).toMatch(/^dave,\d+,"not known: LDAP server ldap-1 has no entry \(uid=dave\) below ou=people,dc=fazlab,dc=lab"$/u)
    expect(users.reduce((sum, line) => sum + Number(line.split(",")[1]), 0)).toBe(40)
  })
})
