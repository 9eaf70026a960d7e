/**
 * End to end in a real terminal: `fazlab run scenarios/ha-failover.yaml --hold` under tmux (a
 * detached 120×40 session on a private tmux server), the screen read with `capture-pane`. Before
 * the kill the ports panel shows faz-a listening on TCP/5199; after it the HA panel shows faz-b
 * primary with the reason, and the ports panel shows TCP/5199 closed on faz-a and listening on
 * faz-b. Held after the end, the timeline shows the verdict; q prints the report. The screen is
 * polled every 100 ms up to a deadline. Runs the built CLI (npm run build).
 */
import { execFile, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { FAZLAB_BIN, REPO_ROOT } from "../support/cli.ts"

const COLUMNS = 120
const ROWS = 40
const POLL_MS = 100

/**
 * The environment of the tmux server (and so of the lab under it): never one of the user's tmux
 * sessions, and CI set as on a CI machine (where ink would otherwise draw only the last frame).
 */
const tmuxEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "true" }
  delete env["TMUX"]
  delete env["TMUX_PANE"]
  return env
}

const tmuxMissing = (): boolean => spawnSync("tmux", ["-V"], { env: tmuxEnv() }).error !== undefined

/** Runs `tmux -L socket ...args`; resolves with its stdout, rejects with its stderr. */
const tmux = (socket: string, args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile("tmux", ["-L", socket, ...args], { env: tmuxEnv(), timeout: 5000 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout)
      else reject(new Error(`tmux ${args[0] ?? ""} failed: ${stderr.trim() || error.message}`))
    })
  })

const quote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`

/**
 * The inner lines of the bordered panel whose title starts with `title` (either column): the
 * text between its side borders, trimmed, from the title line down to the bottom border.
 */
const panelLines = (screen: string, title: string): ReadonlyArray<string> | null => {
  const rows = screen.split("\n")
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r] as string
    for (let c = row.indexOf("│"); c >= 0; c = row.indexOf("│", c + 1)) {
      const text = row.slice(c + 1).trimStart().replace(/^▸ /u, "")
      const top = rows[r - 1] ?? ""
      if (!text.startsWith(title) || top[c] !== "╭") continue
      const right = top.indexOf("╮", c)
      const lines: string[] = []
      for (let i = r; i < rows.length && (rows[i] ?? "")[c] === "│"; i++) lines.push((rows[i] as string).slice(c + 1, right).trim())
      return lines
    }
  }
  return null
}

const listening = (lines: ReadonlyArray<string>, device: string, state: "listening" | "closed"): boolean =>
  lines.some((line) => new RegExp(`^${device}\\s+tcp/5199\\s+→\\s+\\S+:\\d+\\s+${state}\\b`, "u").test(line))

describe("the terminal UI in a real terminal (tmux)", () => {
  let socket: string | null = null
  let configDir: string | null = null

  afterEach(async () => {
    if (socket !== null) await tmux(socket, ["kill-server"]).catch(() => undefined)
    if (configDir !== null) fs.rmSync(configDir, { recursive: true, force: true })
    socket = null
    configDir = null
  })

  it("shows the HA failover: faz-b becomes primary in the HA panel, TCP/5199 moves from faz-a to faz-b in the ports panel", async () => {
    if (tmuxMissing()) {
      throw new Error("tmux is not installed, and this end-to-end test runs the UI in it: install the Debian package tmux (apt-get install tmux)")
    }
    const name = `fazlab-test-${process.pid}-${Date.now()}`
    socket = name
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-tmux-"))
    // No status line (the pane is the whole 120×40 window); the pane stays after the run ends, so a failure can show it.
    const config = path.join(configDir, "tmux.conf")
    fs.writeFileSync(config, "set -g status off\nset -g remain-on-exit on\n")
    const command = [process.execPath, FAZLAB_BIN, "run", "scenarios/ha-failover.yaml", "--hold", "--port-base", "ephemeral", "--memory"].map(quote).join(" ")
    await tmux(name, ["-f", config, "new-session", "-d", "-s", name, "-x", String(COLUMNS), "-y", String(ROWS), "-c", REPO_ROOT, command])

    let screen = ""
    const waitForScreen = async (what: string, holds: (screen: string) => boolean, timeoutMs: number): Promise<void> => {
      const deadline = performance.now() + timeoutMs
      for (;;) {
        screen = await tmux(name, ["capture-pane", "-p", "-t", name])
        if (holds(screen)) return
        if (performance.now() > deadline) throw new Error(`the screen did not show ${what} within ${timeoutMs / 1000} s; last screen:\n${screen}`)
        await new Promise((resolve) => setTimeout(resolve, POLL_MS))
      }
    }
    const ports = () => panelLines(screen, "ports") ?? []
    const ha = () => panelLines(screen, "HA") ?? []

    await waitForScreen(
      "faz-a listening on tcp/5199 in the ports panel before the kill",
      () => listening(ports(), "faz-a", "listening") && !listening(ports(), "faz-b", "listening"),
      15_000
    )
    // After the kill, not merely faz-b primary: on a loaded machine faz-b may miss heartbeats and
    // take over before it (hb-interval 200 ms), which the HA panel shows as it happens.
    await waitForScreen(
      "faz-a killed, faz-b primary in the HA panel and tcp/5199 moved to faz-b in the ports panel",
      () =>
        ha().some((line) => /^\d+\.\ds faz-a was killed$/u.test(line)) &&
        ha().some((line) => /^lab: faz-a (none|secondary), faz-b primary$/u.test(line)) &&
        listening(ports(), "faz-b", "listening"),
      15_000
    )

    expect(screen).toContain(`fazlab ha-failover`)
    const haLines = ha()
    expect(haLines.find((line) => line.startsWith("lab: "))).toMatch(/^lab: faz-a (none|secondary), faz-b primary$/u)
    expect(haLines.some((line) => /^\d+\.\ds faz-b became primary: 3 heartbeats missed/u.test(line)), haLines.join("\n")).toBe(true)
    expect(haLines.some((line) => /^\d+\.\ds faz-a was killed$/u.test(line)), haLines.join("\n")).toBe(true)
    const portLines = ports()
    expect(listening(portLines, "faz-a", "closed"), portLines.join("\n")).toBe(true)
    expect(listening(portLines, "faz-a", "listening"), portLines.join("\n")).toBe(false)
    expect(listening(portLines, "faz-b", "listening"), portLines.join("\n")).toBe(true)

    // --hold: once the scenario ended the UI stays, with the verdict in the timeline; q prints the report.
    await waitForScreen("the timeline's verdict, the UI still up", () => (panelLines(screen, "timeline") ?? []).some((line) => /^finished: \d+ passed, 0 failed$/u.test(line)), 20_000)
    await tmux(name, ["send-keys", "-t", name, "q"])
    await waitForScreen("the report after q", (s) => /^PASSED: \d+ passed, 0 failed, 0 step errors$/mu.test(s), 15_000)
  }, 60_000)
})
