/**
 * `fazlab down --netns NAME`
 *
 * Removes what a netns lab named NAME left behind (a lab killed with SIGKILL, a machine that
 * crashed): every namespace the lab made (its router's, `fz-NAME`, and its devices',
 * `fz-NAME-<device>`), the processes in them and their links. A lab that stops normally removes
 * them itself; running it on a lab that is still up pulls its network away.
 */
import { parseArgs } from "node:util"
import { netnsProblem, teardownNetns } from "../placement/netns.ts"
import { type Command, ExitCode, UsageError } from "./io.ts"
import type { CommandHelp } from "./help.ts"

export const help: CommandHelp = {
  usage: ["fazlab down --netns NAME"],
  summary: "Removes the network namespaces, links and processes a netns lab named NAME left behind (after a crash or a SIGKILL).",
  flags: [["--netns NAME", "the lab's name (name: in its lab file)"]],
  examples: ["fazlab down --netns firewall-regression"]
}

export const down: Command = async (args, io) => {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: false, options: { netns: { type: "string" } } })
  if (positionals.length > 0 || values.netns === undefined) throw new UsageError("give the lab's name: fazlab down --netns NAME")
  const lab = values.netns
  if (!/^[a-z0-9][a-z0-9-]*$/u.test(lab)) throw new UsageError(`--netns takes a lab name (lowercase letters, digits and dashes), got "${lab}"`)
  const problem = await netnsProblem()
  if (problem !== null) throw new UsageError(problem)
  const removed = await teardownNetns(lab)
  io.stdout(removed.length === 0 ? `lab ${lab} left no network namespace behind\n` : `removed ${removed.length} network namespaces of lab ${lab}: ${removed.join(", ")}\n`)
  return ExitCode.Ok
}
