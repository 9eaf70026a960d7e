/**
 * The analyzer as an upload client, against the lab's file server:
 *
 * - `rolling-regular` with `file-size 1` (MB) and `upload enable` over FTP: FortiGate traffic logs
 *   fill the file, it rolls and goes up from the analyzer's own address; `curl ftp://` lists it
 *   and every log line is in it.
 * - `execute backup all-settings` in the SSH CLI (the OpenSSH client) sends the configuration over
 *   SFTP; a wrong password fails with the server's reason, as a `file-upload-failed` event.
 * - On the simulated clock: `backup all-settings` at 02:30 over SCP and a daily roll at 01:00 over
 *   SFTP (gzip) happen when lab time reaches them, without waiting a day.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import * as zlib from "node:zlib"
import { describe, expect, it } from "vitest"
import type { FileServer } from "../../src/devices/file-server/file-server.ts"
import { VirtualLabClock } from "../../src/machines/virtual-clock.ts"
import { startLab, useLab, waitForEvent } from "../support/lab.ts"

const run = (command: string, args: ReadonlyArray<string>): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(command, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr })
    })
  })

const FILES = `
  files-1:
    kind: file-server
    user: { backup: { password: s3cret } }`

describe("analyzer uploads to a file server", () => {
  it("rolls a full log file and uploads it over FTP; curl lists it with every log in it", async () => {
    const started = await useLab(`
name: upload-roll
devices:${FILES}
  faz-1:
    kind: fortianalyzer
    log-settings:
      rolling-regular: { file-size: 1, upload: enable, server-type: ftp, ip: files-1, username: backup, password: s3cret, directory: /logs }
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, rate: 5000/s, count: 6000, logs: [traffic-forward] }
`)
    const uploaded = await waitForEvent(started, "file-uploaded", (e) => e.what === "logs", { timeoutMs: 30_000 })
    expect(uploaded).toMatchObject({ device: "faz-1", to: "files-1", via: "ftp" })
    expect(uploaded.path).toMatch(/^\/logs\/fgt-1\.tlog\.\d{8}-\d{4}-\d{8}-\d{4}\.log$/u)
    expect(uploaded.bytes).toBeGreaterThanOrEqual(1_048_576)
    const received = await waitForEvent(started, "file-received", (e) => e.path === uploaded.path)
    expect(received).toMatchObject({ via: "ftp", user: "backup", bytes: uploaded.bytes })
    // The upload leaves from the analyzer's own lab address, as its SFTP and SCP uploads do.
    expect(received.peer.replace(/:\d+$/u, "")).toBe(started.lab.plan.addressOf("faz-1"))
    const files = started.lab.device("files-1") as FileServer
    const content = await fs.readFile(path.join(files.folder ?? "", uploaded.path), "utf8")
    const lines = content.trimEnd().split("\n")
    expect(lines.every((line) => line.includes("type=\"traffic\""))).toBe(true)
    expect(new Set(lines).size).toBe(lines.length)
    const at = started.lab.plan.resolve("files-1", "tcp/21")
    const listing = await run("curl", ["-sS", "--user", "backup:s3cret", `ftp://${at.address}:${at.actualPort}/logs/`])
    expect(listing.stdout).toContain(path.posix.basename(uploaded.path))
  })

  it("sends its configuration over SFTP on execute backup all-settings, and says why a wrong password fails", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fazlab-backup-"))
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "id")])
    const publicKey = (await fs.readFile(path.join(dir, "id.pub"), "utf8")).trim()
    const started = await useLab(`
name: upload-backup-cli
devices:${FILES}
  faz-1:
    kind: fortianalyzer
    hostname: FAZ-LAB
    admin: { user: { admin: { password: fortinet, ssh-public-key: ["${publicKey}"] } } }
`)
    const ssh = (command: string) => {
      const at = started.lab.plan.resolve("faz-1", "tcp/22")
      return run("ssh", ["-i", path.join(dir, "id"), "-o", "BatchMode=yes", "-p", String(at.actualPort), "-o", "StrictHostKeyChecking=no", "-o", `UserKnownHostsFile=${path.join(dir, "known_hosts")}`, "-o", "LogLevel=ERROR", `admin@${at.address}`, command])
    }
    const answer = await ssh("execute backup all-settings sftp files-1 /backups backup s3cret")
    expect(answer.stdout).toContain("Starting backup all settings to sftp://backup@files-1/backups")
    const uploaded = await waitForEvent(started, "file-uploaded", (e) => e.what === "backup")
    expect(uploaded).toMatchObject({ via: "sftp", to: "files-1" })
    expect(uploaded.path).toMatch(/^\/backups\/faz-1-all-settings-\d{8}-\d{4}\.conf$/u)
    const files = started.lab.device("files-1") as FileServer
    const content = await fs.readFile(path.join(files.folder ?? "", uploaded.path), "utf8")
    expect(content.split("\n")[0]).toBe("#config-version=FAZVM64-7.4.3-FW-build2487-240514:opmode=0:vdom=0")
    expect(content).toContain("config system global\n    set hostname \"FAZ-LAB\"")
    await ssh("execute backup all-settings ftp files-1 /backups backup wrong")
    const failed = await waitForEvent(started, "file-upload-failed", (e) => e.what === "backup")
    expect(failed.reason).toMatch(/^FTP upload of faz-1-all-settings-.*\.conf to backup@[\d.]+:\d+ failed: 530 .*; the next scheduled backup tries again$/u)
    await fs.rm(dir, { recursive: true, force: true })
  })

  it("backs up at 02:30 over SCP and rolls daily at 01:00 over SFTP on the simulated clock", async () => {
    const started = await startLab(`
name: upload-schedule
devices:${FILES}
  faz-1:
    kind: fortianalyzer
    log-settings:
      rolling-regular: { when: daily, hour: 1, min: 0, upload: enable, server-type: sftp, ip: files-1, username: backup, password: s3cret, directory: /daily, gzip-format: enable }
    backup:
      all-settings: { status: enable, server: files-1, protocol: scp, user: backup, passwd: s3cret, directory: /conf/faz-1, time: "02:30" }
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, rate: 100/s, count: 20, logs: [event-system] }
`, { clock: new VirtualLabClock() })
    try {
      const rolled = await waitForEvent(started, "file-uploaded", (e) => e.what === "logs", { timeoutMs: 30_000 })
      expect(rolled.via).toBe("sftp")
      expect(rolled.path).toMatch(/^\/daily\/fgt-1\.elog\..*\.log\.gz$/u)
      const files = started.lab.device("files-1") as FileServer
      const lines = zlib.gunzipSync(await fs.readFile(path.join(files.folder ?? "", rolled.path))).toString("utf8").trimEnd().split("\n")
      expect(lines).toHaveLength(20)
      const backup = await waitForEvent(started, "file-uploaded", (e) => e.what === "backup", { timeoutMs: 30_000 })
      expect(backup.via).toBe("scp")
      expect(backup.path).toMatch(/^\/conf\/faz-1\/faz-1-all-settings-\d{8}-0230\.conf$/u)
      await waitForEvent(started, "file-received", (e) => e.path === backup.path && e.via === "scp")
    } finally {
      await started.close()
    }
  })
})
