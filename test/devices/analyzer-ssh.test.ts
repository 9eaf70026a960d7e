/**
 * The analyzer's admin CLI over SSH (TCP/22), driven by the real OpenSSH client:
 *
 * - `ssh -i key admin@faz 'get system status'` (public key, one command): the lab's serial,
 *   hostname and HA role; a bad command fails with FortiOS's words and exit status 1.
 * - an interactive session with a pseudo-terminal, driven by `expect`: password login, the
 *   `FAZ-VM # ` prompt, `config system ha` → `(ha) # `, `Unknown action 0`, `exit`; the login
 *   and the end of the session are events.
 * - a wrong password and an API user are refused (and reported); the host key (`ssh-keyscan`)
 *   is the same after the lab restarts on the same data folder.
 * - on the simulated clock, a session whose client waits while minutes of lab time pass is not
 *   idle for it: idle-timeout counts the client's (wall-clock) time.
 */
import { execFile, spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest"
import type { Lab } from "../../src/lab/lab.ts"
import { VirtualLabClock } from "../../src/machines/virtual-clock.ts"
import { expectScript } from "../support/expect.ts"
import { useLab, waitForEvent, waitForRole } from "../support/lab.ts"

let dir = ""
let publicKey = ""

const run = (command: string, args: ReadonlyArray<string>, input = ""): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = execFile(command, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr })
    })
    child.stdin?.end(input)
  })

const sshOptions = (lab: Lab, device: string): ReadonlyArray<string> => {
  const where = lab.plan.resolve(device, "tcp/22")
  return ["-p", String(where.actualPort), "-o", "StrictHostKeyChecking=no", "-o", `UserKnownHostsFile=${path.join(dir, "known_hosts")}`, "-o", "LogLevel=ERROR", where.address]
}

/** Runs one command over SSH with the test's key, as a script would. */
const sshCommand = (lab: Lab, device: string, user: string, command: string) => {
  const options = sshOptions(lab, device)
  const host = options.at(-1) ?? ""
  return run("ssh", ["-i", path.join(dir, "id"), "-o", "BatchMode=yes", ...options.slice(0, -1), `${user}@${host}`, command])
}

const interactive = (lab: Lab, device: string, user: string, password: string, steps: ReadonlyArray<readonly [send: string, expect: string]>): string => {
  const options = sshOptions(lab, device)
  const host = options.at(-1) ?? ""
  const args = [...options.slice(0, -1), "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1", `${user}@${host}`].map((a) => `{${a}}`).join(" ")
  return [
    "set timeout 15",
    `spawn ssh -tt ${args}`,
    // A braced pattern list must span lines: on one line expect takes it for one pattern.
    `expect {\n "password:" {}\n timeout { exit 2 }\n}`,
    `send "${password}\\r"`,
    ...steps.flatMap(([send, wait]) => [
      `expect {\n -exact {${wait}} {}\n timeout { exit 3 }\n eof { exit 4 }\n}`,
      send === "" ? "" : `send "${send}\\r"`
    ]),
    `expect {\n eof {}\n timeout { exit 5 }\n}`
  ].join("\n")
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "fazlab-ssh-"))
  const made = await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "tester@lab", "-f", path.join(dir, "id")])
  if (made.code !== 0) throw new Error(`ssh-keygen failed: ${made.stderr}`)
  publicKey = (await fs.readFile(path.join(dir, "id.pub"), "utf8")).trim()
})

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

const labYaml = () => `name: ssh-test
devices:
  faz-a:
    kind: fortianalyzer
    serial: FAZ-VM0000000011
    hostname: FAZ-VM
    ha: { priority: 120 }
    admin:
      setting: { idle-timeout: 60s }
      user:
        admin: { password: fortinet, ssh-public-key: ["${publicKey}"] }
        robot: { user-type: api, api-key: abcdefghijklmnop0123 }
  faz-b:
    kind: fortianalyzer
    serial: FAZ-VM0000000012
    admin:
      user:
        admin: { ssh-public-key: ["${publicKey}"], password: other }
ha:
  pair:
    members: [faz-a, faz-b]
    group-id: 7
    hb-interval: 200ms
`

describe("analyzer SSH CLI (OpenSSH client)", () => {
  it("answers one command per ssh call with the lab's serial, hostname and HA role", async () => {
    const started = await useLab(labYaml())
    await waitForRole(started, "faz-a", "primary")
    await waitForRole(started, "faz-b", "secondary")
    const status = await sshCommand(started.lab, "faz-a", "admin", "get system status")
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(/^Serial Number\s+: FAZ-VM0000000011$/mu)
    expect(status.stdout).toMatch(/^Hostname\s+: FAZ-VM$/mu)
    expect(status.stdout).toMatch(/^HA Mode\s+: Primary$/mu)
    expect(status.stdout).toMatch(/^Version\s+: v7\.4\.3-build2487 240514 \(GA\)$/mu)

    // The secondary is reached on its own address: its management plane is not on the VIP.
    const secondary = await sshCommand(started.lab, "faz-b", "admin", "get system status")
    expect(secondary.stdout).toMatch(/^HA Mode\s+: Secondary$/mu)
    expect(secondary.stdout).toMatch(/^Hostname\s+: faz-b$/mu)

    const ha = await sshCommand(started.lab, "faz-a", "admin", "diagnose ha status")
    expect(ha.stdout).toMatch(/^HA-Status: Primary$/mu)
    expect(ha.stdout).toMatch(/^HA-Secondary faz-b FAZ-VM0000000012$/mu)
    expect(ha.stdout).toMatch(/^conn-st: up$/mu)

    const bad = await sshCommand(started.lab, "faz-a", "admin", "get system nonsense")
    expect(bad.code).toBe(1)
    expect(bad.stdout).toBe("command parse error before 'nonsense'\nCommand fail. Return code -61\n")
    const unknown = await sshCommand(started.lab, "faz-a", "admin", "reboot-please")
    expect(unknown.stdout).toBe("Unknown action 0\n")

    const login = await waitForEvent(started, "admin-login", (e) => e.device === "faz-a" && e.ok, { timeoutMs: 5000 })
    expect(login.reason).toBe("public key ssh-ed25519")
  })

  it("serves an interactive CLI on a pseudo-terminal: prompt, config mode, errors, exit", async () => {
    const started = await useLab(labYaml())
    await waitForRole(started, "faz-a", "primary")
    const script = interactive(started.lab, "faz-a", "admin", "fortinet", [
      ["get system status", "FAZ-VM # "],
      ["config system ha", "Serial Number               : FAZ-VM0000000011"],
      ["show", "FAZ-VM (ha) # "],
      ["end", "set group-id 7"],
      ["frobnicate", "FAZ-VM # "],
      ["exit", "Unknown action 0"]
    ])
    const { code, output } = await expectScript(script)
    expect(output).toContain("FAZ-VM (ha) # ")
    expect(code).toBe(0)
    const logout = await waitForEvent(started, "admin-logout", undefined, { timeoutMs: 5000 })
    expect(logout).toMatchObject({ device: "faz-a", via: "ssh", user: "admin", reason: "exit" })
  })

  it("refuses a wrong password and an API user, and says so", async () => {
    const started = await useLab(labYaml())
    const wrong = interactive(started.lab, "faz-a", "admin", "not-it", [["", "Permission denied"]])
    await expectScript(wrong)
    const refused = await waitForEvent(started, "admin-login", (e) => !e.ok, { timeoutMs: 5000 })
    expect(refused).toMatchObject({ user: "admin", via: "ssh", reason: "wrong password for admin" })
    const api = await sshCommand(started.lab, "faz-a", "robot", "get system status")
    expect(api.code).toBe(255)
    expect(api.stderr).toContain("Permission denied")
  })

  it("on the simulated clock, keeps a session open while more than idle-timeout of lab time passes between the client's login and its command", async () => {
    const clock = new VirtualLabClock()
    onTestFinished(() => clock.close())
    const started = await useLab(`name: ssh-idle
devices:
  faz-a:
    kind: fortianalyzer
    serial: FAZ-VM0000000011
    hostname: FAZ-VM
    admin:
      setting: { idle-timeout: 60s }
      user:
        admin: { ssh-public-key: ["${publicKey}"] }
  fgt-1:
    kind: fortigate
    syslog: { server: faz-a, mode: udp, rate: 1/s }
`, { clock })
    const { lab } = started
    const options = sshOptions(lab, "faz-a")
    const ssh = spawn("ssh", ["-tt", "-i", path.join(dir, "id"), "-o", "BatchMode=yes", ...options.slice(0, -1), `admin@${options.at(-1) ?? ""}`], { stdio: ["pipe", "pipe", "pipe"] })
    let output = ""
    const shown = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const look = () => {
          if (!output.includes(text)) return
          ssh.stdout.off("data", look)
          ssh.off("close", closed)
          resolve()
        }
        const closed = () => reject(new Error(`ssh ended before it showed "${text}"; it showed: ${output}`))
        ssh.stdout.on("data", look)
        ssh.once("close", closed)
        look()
      })
    ssh.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    onTestFinished(() => void ssh.kill())
    await shown("FAZ-VM # ")
    const login = await waitForEvent(started, "admin-login", (e) => e.ok)
    // The client thinks while the lab's clock jumps on (its FortiGate logs every second of lab time).
    await waitForEvent(started, (e) => e.at > login.at + 90_000, { timeoutMs: 30_000 })
    expect(started.events.filter((e) => e.type === "admin-logout")).toEqual([])
    ssh.stdin.write("get system status\r")
    await shown("Serial Number               : FAZ-VM0000000011")
    ssh.stdin.write("exit\r")
    const logout = await waitForEvent(started, "admin-logout")
    expect(logout.reason).toBe("exit")
  })

  it("keeps its host key across restarts of the lab", async () => {
    const dataDir = path.join(dir, "data")
    const scan = async (lab: Lab) => {
      const where = lab.plan.resolve("faz-a", "tcp/22")
      const result = await run("ssh-keyscan", ["-p", String(where.actualPort), "-t", "ecdsa", where.address])
      return result.stdout.split("\n").find((line) => line.includes("ecdsa-sha2-nistp256"))?.split(" ").slice(1).join(" ")
    }
    const before = await useLab(labYaml(), { dataDir })
    const first = await scan(before.lab)
    await before.close()
    const after = await useLab(labYaml(), { dataDir })
    const second = await scan(after.lab)
    expect(first).toMatch(/^ecdsa-sha2-nistp256 AAAA/u)
    expect(second).toBe(first)
  })
})
