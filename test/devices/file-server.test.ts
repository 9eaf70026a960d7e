/**
 * The file server kind against real clients:
 *
 * - `curl ftp://`: an upload in passive mode and one in active mode (`-P -`), then a listing
 *   (LIST) that names both; a wrong password is refused with 530 and said as `file-refused`.
 * - OpenSSH `sftp -b` with a key: `put`, `mkdir`, `ls -l`; OpenSSH `scp -O` (the classic `scp -t`
 *   sink, a file and a folder with `-r`) and `scp` (SFTP underneath, as OpenSSH 9 does).
 * - `curl sftp://` with the password: an upload and a listing.
 * - A shell is refused with one line and exit status 1.
 * Every file stored is a `file-received` event and is in `files()`.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { FileServer } from "../../src/devices/file-server/file-server.ts"
import { startLab, type StartedLab, waitForEvent } from "../support/lab.ts"

let dir = ""
let started: StartedLab | null = null

const run = (command: string, args: ReadonlyArray<string>, input = ""): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = execFile(command, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr })
    })
    child.stdin?.end(input)
  })

const lab = () => {
  if (started === null) throw new Error("the lab did not start")
  return started
}
const server = () => lab().lab.device("files-1") as FileServer
const at = (port: "tcp/21" | "tcp/22") => lab().lab.plan.resolve("files-1", port)
const ftpUrl = (where: string) => `ftp://${at("tcp/21").address}:${at("tcp/21").actualPort}${where}`
const sftpUrl = (where: string) => `sftp://${at("tcp/22").address}:${at("tcp/22").actualPort}${where}`
const sshOptions = () => ["-i", path.join(dir, "id"), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", `UserKnownHostsFile=${path.join(dir, "known_hosts")}`, "-o", "LogLevel=ERROR"]

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "fazlab-files-"))
  const made = await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "uploader@lab", "-f", path.join(dir, "id")])
  if (made.code !== 0) throw new Error(`ssh-keygen failed: ${made.stderr}`)
  const publicKey = (await fs.readFile(path.join(dir, "id.pub"), "utf8")).trim()
  await fs.writeFile(path.join(dir, "report.pdf"), "%PDF-1.4 a lab report\n")
  await fs.mkdir(path.join(dir, "tree"))
  await fs.writeFile(path.join(dir, "tree", "a.log"), "date=2026-01-01 type=traffic\n")
  started = await startLab(`
name: file-server-test
devices:
  files-1:
    kind: file-server
    user:
      backup: { password: s3cret, ssh-public-key: ["${publicKey}"] }
`)
})

afterAll(async () => {
  await started?.close()
  await fs.rm(dir, { recursive: true, force: true })
})

describe("file server (curl, sftp, scp)", () => {
  it("takes uploads over FTP in passive and active mode and lists them", async () => {
    const passive = await run("curl", ["-sS", "--user", "backup:s3cret", "--ftp-create-dirs", "-T", path.join(dir, "report.pdf"), ftpUrl("/reports/passive.pdf")])
    expect(passive.stderr).toBe("")
    expect(passive.code).toBe(0)
    const stored = await waitForEvent(lab(), "file-received", (e) => e.path === "/reports/passive.pdf")
    expect(stored).toMatchObject({ device: "files-1", via: "ftp", user: "backup", bytes: 22 })
    const active = await run("curl", ["-sS", "--user", "backup:s3cret", "-P", "-", "-T", path.join(dir, "report.pdf"), ftpUrl("/reports/active.pdf")])
    expect(active.code).toBe(0)
    await waitForEvent(lab(), "file-received", (e) => e.path === "/reports/active.pdf")
    const listing = await run("curl", ["-sS", "--user", "backup:s3cret", ftpUrl("/reports/")])
    expect(listing.code).toBe(0)
    expect(listing.stdout).toMatch(/ 22 .*active\.pdf/u)
    expect(listing.stdout).toMatch(/ 22 .*passive\.pdf/u)
    expect(server().files()).toEqual(expect.arrayContaining([{ path: "/reports/active.pdf", bytes: 22 }, { path: "/reports/passive.pdf", bytes: 22 }]))
  })

  it("refuses a wrong FTP password with 530 and says so", async () => {
    const from = lab().events.length
    const refused = await run("curl", ["-sS", "--user", "backup:wrong", ftpUrl("/")])
    expect(refused.code).toBe(67)
    expect(refused.stderr).toContain("530")
    const said = await waitForEvent(lab(), "file-refused", undefined, { from })
    expect(said).toMatchObject({ via: "ftp", user: "backup", reason: "wrong password for backup" })
  })

  it("takes files over OpenSSH sftp with a key and lists them", async () => {
    const batch = path.join(dir, "batch")
    await fs.writeFile(batch, `mkdir /sftp\nput ${path.join(dir, "report.pdf")} /sftp/report.pdf\nls -l /sftp\n`)
    const sftp = await run("sftp", [...sshOptions(), "-P", String(at("tcp/22").actualPort), "-b", batch, `backup@${at("tcp/22").address}`])
    expect(sftp.stderr + sftp.stdout).not.toMatch(/error|failed|denied/iu)
    expect(sftp.code).toBe(0)
    expect(sftp.stdout).toMatch(/-rw-r--r-- .* 22 .*report\.pdf/u)
    const stored = await waitForEvent(lab(), "file-received", (e) => e.path === "/sftp/report.pdf")
    expect(stored).toMatchObject({ via: "sftp", user: "backup", bytes: 22 })
  })

  it("takes files and folders over scp -t (scp -O), and over scp's SFTP mode", async () => {
    const port = String(at("tcp/22").actualPort)
    const host = at("tcp/22").address
    const legacy = await run("scp", [...sshOptions(), "-O", "-P", port, "-r", path.join(dir, "tree"), path.join(dir, "report.pdf"), `backup@${host}:/`])
    expect(legacy.stderr).toBe("")
    expect(legacy.code).toBe(0)
    const file = await waitForEvent(lab(), "file-received", (e) => e.path === "/report.pdf")
    expect(file).toMatchObject({ via: "scp", bytes: 22 })
    await waitForEvent(lab(), "file-received", (e) => e.path === "/tree/a.log" && e.via === "scp")
    const modern = await run("scp", [...sshOptions(), "-P", port, path.join(dir, "report.pdf"), `backup@${host}:/renamed.pdf`])
    expect(modern.stderr).toBe("")
    expect(modern.code).toBe(0)
    await waitForEvent(lab(), "file-received", (e) => e.path === "/renamed.pdf" && e.via === "sftp")
    expect(server().files()).toEqual(expect.arrayContaining([{ path: "/tree/a.log", bytes: 29 }, { path: "/renamed.pdf", bytes: 22 }]))
  })

  it("takes an upload over curl sftp:// with the password and lists the folder", async () => {
    const upload = await run("curl", ["-sS", "-k", "--user", "backup:s3cret", "-T", path.join(dir, "report.pdf"), sftpUrl("/curl.pdf")])
    expect(upload.stderr).toBe("")
    expect(upload.code).toBe(0)
    await waitForEvent(lab(), "file-received", (e) => e.path === "/curl.pdf" && e.via === "sftp")
    const listing = await run("curl", ["-sS", "-k", "--user", "backup:s3cret", sftpUrl("/")])
    expect(listing.stdout).toMatch(/curl\.pdf/u)
  })

  it("refuses a shell in one sentence with exit status 1", async () => {
    const shell = await run("ssh", [...sshOptions(), "-p", String(at("tcp/22").actualPort), `backup@${at("tcp/22").address}`, "ls"])
    expect(shell.code).toBe(1)
    expect(shell.stderr.trim()).toBe(`the command "ls" is not offered: this file server takes files over SFTP or scp -t only`)
  })
})
