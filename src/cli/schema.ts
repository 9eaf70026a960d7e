/**
 * `fazlab schema`: prints the JSON Schema of scenario and lab files, for editors
 * (scenarios/fazlab.schema.json is this output, kept current by a test).
 */
import { scenarioJsonSchema } from "../lab/scenario/load.ts"
import { type Command, ExitCode } from "./io.ts"
import type { CommandHelp } from "./help.ts"

export const help: CommandHelp = {
  usage: ["fazlab schema"],
  summary: "Prints the JSON Schema of scenario and lab files, for editors (scenarios/fazlab.schema.json is this output).",
  flags: [],
  examples: ["fazlab schema > fazlab.schema.json"]
}

export const schema: Command = async (_args, io) => {
  io.stdout(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`)
  return ExitCode.Ok
}
