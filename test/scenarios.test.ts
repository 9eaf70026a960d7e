/**
 * Every shipped scenario (scenarios/*.yaml, found by listing the folder so a new file is covered
 * without touching this test) passes when run by the CLI, and its JUnit report is valid against
 * the Ant/Jenkins schema as libxml2's xmllint checks it (test/support/junit-schema.ts). Each one
 * also passes on the simulated clock
 * (`--clock simulated`), where its waits cost nothing.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { REPO_ROOT, removeTempDirs, runFazlab, tempDir } from "./support/cli.ts"
import { validateJunit } from "./support/junit-schema.ts"

const scenariosDir = path.join(REPO_ROOT, "scenarios")
const scenarioFiles = fs.readdirSync(scenariosDir).filter((name) => name.endsWith(".yaml")).sort()

describe("shipped scenarios", () => {
  afterAll(removeTempDirs)

  it("the folder has scenarios to run", () => {
    expect(scenarioFiles.length).toBeGreaterThan(0)
  })

  it.concurrent.each(scenarioFiles)("%s passes and writes a valid JUnit report", async (name) => {
    const cwd = tempDir()
    const out = path.join(cwd, "report.xml")
    const result = await runFazlab(
      // In the lab's process whatever the file's placement (a netns lab needs root): the same devices and expectations.
      ["run", path.join(scenariosDir, name), "--placement", "in-process", "--port-base", "ephemeral", "--memory", "--report", "junit", "--out", out],
      { cwd, timeoutMs: 60_000 }
    )
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toBe("")
    const xml = fs.readFileSync(out, "utf8")
    expect(xml).toContain("<testsuite")
    expect(xml).not.toContain("<failure")
    expect(await validateJunit(xml)).toEqual({ valid: true, errors: [] })
  }, 60_000)

  it.concurrent.each(scenarioFiles)("%s passes on the simulated clock too", async (name) => {
    const cwd = tempDir()
    const result = await runFazlab(["run", path.join(scenariosDir, name), "--placement", "in-process", "--port-base", "ephemeral", "--memory", "--clock", "simulated", "--report", "json"], { cwd, timeoutMs: 60_000 })
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ summary: { ok: true, failed: 0 } })
  }, 60_000)
})
