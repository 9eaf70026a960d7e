/**
 * Validates a JUnit report against the Ant/Jenkins schema (test/fixtures/junit.xsd) with
 * xmllint-wasm: libxml2's own xmllint compiled to WebAssembly, so the tests need no system
 * `xmllint` (Debian libxml2-utils) and the check is libxml2's, as before. Chosen over
 * libxmljs2 (a native addon) and xsd-schema-validator (needs Java).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { validateXML } from "xmllint-wasm"

const XSD = path.resolve(import.meta.dirname, "..", "fixtures", "junit.xsd")

/** `valid`, and xmllint's messages when it is not. */
export const validateJunit = async (xml: string): Promise<{ readonly valid: boolean; readonly errors: ReadonlyArray<string> }> => {
  const result = await validateXML({
    xml: { fileName: "report.xml", contents: xml },
    schema: { fileName: "junit.xsd", contents: fs.readFileSync(XSD, "utf8") }
  })
  return { valid: result.valid, errors: result.errors.map((error) => error.rawMessage) }
}
