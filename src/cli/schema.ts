/**
 * `fazlab schema`: prints the JSON Schema of scenario and lab files, for editors
 * (scenarios/fazlab.schema.json is this output, kept current by a test).
 */
import { scenarioJsonSchema } from "../lab/scenario/load.ts"
import { type Command, ExitCode } from "./io.ts"

export const schema: Command = async (_args, io) => {
  io.stdout(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`)
  return ExitCode.Ok
}
