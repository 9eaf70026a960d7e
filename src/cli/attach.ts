/**
 * `fazlab attach [--lab DIR] [--control URL --token T]`
 *
 * Opens the terminal UI on a running lab through its control channel (found as `fazlab ctl`
 * finds it). `q` or Ctrl-C detaches; the lab keeps running. Also `mountLabUi`: the same UI
 * for `fazlab up` and `fazlab run` on a terminal, connected to the lab's own channel.
 *
 * The UI module (ink, React) is loaded only when a UI is drawn: headless labs never pay for it.
 */
import { parseArgs } from "node:util"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type ControlAddress, type ControlClient, ControlClientError, connectControl } from "../control/client.ts"
import type { UiHandle } from "../ui/render.tsx"
import { eventText } from "./event-text.ts"
import { controlAddressOf } from "./ctl.ts"
import { type CliIo, type Command, ExitCode, UsageError } from "./io.ts"
import type { CommandHelp } from "./help.ts"

export const help: CommandHelp = {
  usage: ["fazlab attach [--lab DIR | --control URL --token T]"],
  summary: "Opens the terminal UI on a running lab; q detaches and the lab keeps running. Needs a terminal.",
  flags: [
    ["--lab DIR", "the lab's data folder (default: the latest lab started here)"],
    ["--control URL --token T", "a running lab's control channel, as fazlab up prints it"]
  ],
  examples: ["fazlab attach", "fazlab attach --lab .fazlab/default"]
}

const loadUi = () => import("../ui/render.tsx")

/**
 * Starts loading the UI module now, while the lab starts, so the first frame is drawn as soon
 * as the lab is up. A failure to load surfaces where the UI is mounted.
 */
export const preloadUi = (): void => {
  loadUi().catch(() => undefined)
}

const startUi = async (client: ControlClient, io: CliIo, quitLabel: string): Promise<UiHandle> => {
  const { startUi: start } = await loadUi()
  return start(client, { explain: eventText, env: io.env, quitLabel })
}

/**
 * The UI on a lab this process runs, through the lab's own control channel: mounted now,
 * unmounted and disconnected when the scope closes. `quit` of the handle resolves when the
 * user pressed q or Ctrl-C.
 */
export const mountLabUi = (address: ControlAddress, io: CliIo, quitLabel: string): Effect.Effect<UiHandle, ControlClientError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const client = await connectControl(address)
        try {
          return { client, ui: await startUi(client, io, quitLabel) }
        } catch (error) {
          await client.close()
          throw error
        }
      },
      catch: (error) => error instanceof ControlClientError ? error : new ControlClientError("protocol", `the terminal UI could not start: ${String(error)}`)
    }),
    ({ client, ui }) =>
      Effect.promise(async () => {
        ui.unmount()
        await client.close()
      })
  ).pipe(Effect.map(({ ui }) => ui))

export const attach: Command = async (args, io) => {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { lab: { type: "string" }, control: { type: "string" }, token: { type: "string" } }
  })
  if (positionals.length > 0) throw new UsageError(`fazlab attach takes no arguments, got ${positionals.join(" ")}; pick the lab with --lab DIR or --control URL --token T`)
  if (!io.isTTY) {
    throw new UsageError("fazlab attach draws a terminal UI, and stdout is not a terminal; from a script use fazlab ctl or fazlab logs --follow")
  }
  let client: ControlClient
  try {
    client = await connectControl(controlAddressOf(io, values))
  } catch (error) {
    if (error instanceof ControlClientError) throw new UsageError(error.message)
    throw error
  }
  const ui = await startUi(client, io, "quit")
  const aborted = new Promise<void>((resolve) => io.signal.addEventListener("abort", () => resolve(), { once: true }))
  // Detaching never stops the lab: the UI only ever closes its own connection.
  await Promise.race([ui.quit, aborted])
  ui.unmount()
  await client.close()
  return ExitCode.Ok
}
