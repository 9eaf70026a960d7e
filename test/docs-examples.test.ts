/**
 * The lab files docs/scenarios.md shows are real: every complete YAML example (one with a
 * `name:`) loads and, as the page says, passes `fazlab run` as it is (on the simulated clock).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { parseScenario } from "../src/lab/scenario/load.ts"
import { REPO_ROOT, removeTempDirs, runFazlab, tempDir } from "./support/cli.ts"

/** Every ```yaml block of docs/scenarios.md that is a whole lab file, with where it is. */
const examples = [...fs.readFileSync(path.join(REPO_ROOT, "docs", "scenarios.md"), "utf8").matchAll(/```yaml\n(.*?)```/gsu)]
  .map((match, i) => ({ name: `scenarios.md example ${i + 1}`, yaml: match[1] ?? "" }))
  .filter((example) => /^name: /mu.test(example.yaml))

describe("docs/scenarios.md's lab files", () => {
  afterAll(removeTempDirs)

  it("has examples to check", () => {
    expect(examples.map((example) => example.name)).toContain("scenarios.md example 1")
  })

  it.each(examples)("$name loads", ({ name, yaml }) => {
    expect(() => parseScenario(yaml, name)).not.toThrow()
  })

  it.each(examples)("$name passes fazlab run", async ({ yaml }) => {
    const cwd = tempDir()
    const file = path.join(cwd, "example.yaml")
    fs.writeFileSync(file, yaml)
    const result = await runFazlab(["run", file, "--port-base", "ephemeral", "--memory", "--clock", "simulated", "--report", "json"], { cwd, timeoutMs: 60_000 })
    expect(result.code, result.stderr + result.stdout).toBe(0)
  }, 60_000)
})
