/**
 * The exact words of the CLI's answers to user mistakes: exit code and stderr, compared with
 * golden files in test/golden/cli/<case>.txt ("exit N\n" then stderr). The repo root and the
 * temp cwd are written as <repo> and <cwd> so the files do not depend on where the checkout is.
 *
 * After a deliberate change of a message: UPDATE_GOLDEN=1 vitest run test/cli/golden.test.ts,
 * then review the diff of test/golden/cli/.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { REPO_ROOT, removeTempDirs, runFazlab, tempDir } from "../support/cli.ts"

const goldenDir = path.join(REPO_ROOT, "test", "golden", "cli")
const update = process.env["UPDATE_GOLDEN"] === "1"

interface Case {
  readonly name: string
  readonly args: ReadonlyArray<string>
  /** Run in a fresh temp folder instead of the repo root. */
  readonly inTempDir?: boolean
  /** How many lines stderr has; a user mistake is one sentence on one line unless it lists several problems. */
  readonly lines?: number
}

const cases: ReadonlyArray<Case> = [
  { name: "unknown-command", args: ["bogus"] },
  { name: "run-without-file", args: ["run"] },
  { name: "run-missing-file", args: ["run", "test/golden/cli/no-such-scenario.yaml"] },
  { name: "run-scenario-errors", args: ["run", "test/golden/scenario-errors/many-problems.yaml"], lines: 8 },
  { name: "run-report-xml", args: ["run", "scenarios/syslog-basics.yaml", "--report", "xml"] },
  { name: "run-port-base-negative", args: ["run", "scenarios/syslog-basics.yaml", "--port-base", "-5"] },
  { name: "run-speed-out-of-range", args: ["run", "scenarios/syslog-basics.yaml", "--speed", "5000"] },
  { name: "run-clock-sideways", args: ["run", "scenarios/syslog-basics.yaml", "--clock", "sideways"] },
  { name: "run-speed-on-simulated-clock", args: ["run", "scenarios/ha-simulated-clock.yaml", "--speed", "10"] },
  { name: "up-clock-simulated", args: ["up", "--clock", "simulated"] },
  { name: "run-addressing-weird", args: ["run", "scenarios/syslog-basics.yaml", "--addressing", "weird"] },
  { name: "run-unknown-flag", args: ["run", "--bogus", "x.yaml"] },
  { name: "run-hold-without-terminal", args: ["run", "scenarios/syslog-basics.yaml", "--hold"] },
  { name: "ports-direction-sideways", args: ["ports", "--direction", "sideways"] },
  { name: "send-syslog-without-to", args: ["send", "syslog"] },
  { name: "send-syslog-to-without-port", args: ["send", "syslog", "--to", "nohostport"] },
  { name: "send-syslog-octet-count-udp", args: ["send", "syslog", "--octet-count", "--to", "127.0.0.1:9"] },
  { name: "logs-without-lab", args: ["logs"], inTempDir: true }
]

const outcome = async (testCase: Case) => {
  const temp = testCase.inTempDir === true ? tempDir() : null
  const result = await runFazlab(testCase.args, { cwd: temp ?? REPO_ROOT })
  const stderr = temp === null ? result.stderr.replaceAll(REPO_ROOT, "<repo>")
    : result.stderr.replaceAll(fs.realpathSync(temp), "<cwd>").replaceAll(temp, "<cwd>")
  return { result, text: `exit ${result.code}\n${stderr}` }
}

describe("fazlab answers user mistakes with exit 2 and a golden message", () => {
  afterAll(removeTempDirs)

  it.concurrent.each(cases)("$name", async (testCase) => {
    const { result, text } = await outcome(testCase)
    const file = path.join(goldenDir, `${testCase.name}.txt`)
    if (update) {
      fs.mkdirSync(goldenDir, { recursive: true })
      fs.writeFileSync(file, text)
    }
    expect(fs.existsSync(file), `${file} is missing; create it with UPDATE_GOLDEN=1`).toBe(true)
    expect(text).toBe(fs.readFileSync(file, "utf8"))

    expect(result.code).toBe(2)
    expect(result.stdout).toBe("")
    expect(result.stderr).toMatch(/\n$/)
    expect(result.stderr).not.toMatch(/^\s+at /m)
    expect(result.stderr).not.toContain("internal error")
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(testCase.lines ?? 1)
  })

})
