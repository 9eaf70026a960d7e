/**
 * The reporters: text and JSON render every result, JUnit output escapes what XML cannot carry and
 * validates against the Jenkins/Ant JUnit schema (test/fixtures/junit.xsd) with libxml2's xmllint
 * (as WebAssembly, test/support/junit-schema.ts).
 */
import { describe, expect, it } from "vitest"
import { renderJson } from "../../src/lab/report/json.ts"
import { escapeAttribute, escapeText, renderJunit } from "../../src/lab/report/junit.ts"
import type { ScenarioResult } from "../../src/lab/report/result.ts"
import { renderText } from "../../src/lab/report/text.ts"
import { validateJunit } from "../support/junit-schema.ts"

const result: ScenarioResult = {
  scenario: "syslog-basics",
  file: "scenarios/syslog-basics.yaml",
  startedAt: "2025-03-01T10:20:30.456Z",
  durationMs: 12_345,
  expectations: [
    { id: "syslog-basics.step-1.listening-1", step: 1, title: "faz-1 listens on tcp/514", passed: true, detail: "bound 127.0.0.1:514", durationMs: 3 },
    { id: "syslog-basics.step-3.logs-1", step: 3, title: "faz-1 stored exactly 100 logs from fgt-1", passed: false, detail: "stored 97 <of 100> & \"3\" lost", durationMs: 5000 }
  ],
  stepErrors: [{ step: 2, title: "stop fgt-1", reason: "fgt-1 is not running" }]
}

const passing: ScenarioResult = { ...result, expectations: [result.expectations[0]!], stepErrors: [] }


describe("renderText", () => {
  it("lists step errors and expectations in step order, with details of failures and a summary", () => {
    expect(renderText(result)).toBe([
      "scenario syslog-basics (scenarios/syslog-basics.yaml), started 2025-03-01T10:20:30.456Z, took 12.3s",
      "PASS  syslog-basics.step-1.listening-1  faz-1 listens on tcp/514  3ms",
      "ERROR step 2 \"stop fgt-1\": fgt-1 is not running",
      "FAIL  syslog-basics.step-3.logs-1  faz-1 stored exactly 100 logs from fgt-1  5.0s",
      "      stored 97 <of 100> & \"3\" lost",
      "FAILED: 1 passed, 1 failed, 1 step error",
      ""
    ].join("\n"))
  })

  it("says PASSED when everything held", () => {
    expect(renderText(passing).trimEnd().split("\n").at(-1)).toBe("PASSED: 1 passed, 0 failed, 0 step errors")
  })
})

describe("renderJson", () => {
  it("is one pretty JSON document: the result plus its summary", () => {
    const text = renderJson(result)
    expect(text.split("\n")[1]).toBe("  \"scenario\": \"syslog-basics\",")
    expect(JSON.parse(text)).toEqual({ ...result, summary: { passed: 1, failed: 1, stepErrors: 1, ok: false } })
  })
})

describe("renderJunit", () => {
  it("writes one testsuite with one testcase per expectation and per step error", () => {
    const xml = renderJunit(result)
    expect(xml).toContain("<testsuites name=\"fazlab\" tests=\"3\" failures=\"1\" errors=\"1\" time=\"12.345\">")
    expect(xml).toContain(
      "<testsuite name=\"syslog-basics\" tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"0\" time=\"12.345\" timestamp=\"2025-03-01T10:20:30\" file=\"scenarios/syslog-basics.yaml\">"
    )
    expect(xml).toContain("<testcase classname=\"syslog-basics\" name=\"syslog-basics.step-1.listening-1\" time=\"0.003\"/>")
    expect(xml).toContain(
      "<failure message=\"faz-1 stored exactly 100 logs from fgt-1: stored 97 &lt;of 100&gt; &amp; &quot;3&quot; lost\" type=\"expectation\">stored 97 &lt;of 100&gt; &amp; \"3\" lost</failure>"
    )
    expect(xml).toContain("<error message=\"step 2 &quot;stop fgt-1&quot;: fgt-1 is not running\" type=\"step-error\">fgt-1 is not running</error>")
    expect(xml.match(/<testcase /gu)).toHaveLength(3)
  })

  it("validates against the JUnit schema", async () => {
    expect(await validateJunit(renderJunit(result))).toEqual({ valid: true, errors: [] })
    expect(await validateJunit(renderJunit(passing))).toEqual({ valid: true, errors: [] })
    expect(await validateJunit(renderJunit({ ...result, expectations: [], stepErrors: [] }))).toEqual({ valid: true, errors: [] })
  })

  it("the schema check catches a broken report", async () => {
    const broken = await validateJunit(renderJunit(result).replace(/ timestamp="[^"]*"/u, ""))
    expect(broken.valid).toBe(false)
    expect(broken.errors.join("\n")).toContain("timestamp")
  })

  it("escapes control characters, lone surrogates and markup so the XML stays well-formed", async () => {
    const nasty = "bell\u0007 esc\u001b nul\u0000 lone\uD800 <tag> & 'q' \"d\"\ttab\nline ok😀"
    expect(escapeText(nasty)).toBe("bell\\x07 esc\\x1b nul\\x00 lone\\ud800 &lt;tag&gt; &amp; 'q' \"d\"\ttab\nline ok😀")
    expect(escapeAttribute(nasty)).toBe("bell\\x07 esc\\x1b nul\\x00 lone\\ud800 &lt;tag&gt; &amp; &apos;q&apos; &quot;d&quot;&#9;tab&#10;line ok😀")
    const report = renderJunit({
      ...result,
      scenario: "odd",
      expectations: [{ id: "odd.step-1.logs-1", step: 1, title: nasty, passed: false, detail: nasty, durationMs: 1 }],
      stepErrors: [{ step: 2, title: nasty, reason: nasty }]
    })
    expect(await validateJunit(report)).toEqual({ valid: true, errors: [] })
  })
})
