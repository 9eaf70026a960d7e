/**
 * Mounts the terminal UI on the process's terminal: `startUi` renders `App` for a connected
 * control client, at most 10 frames a second, on the alternate screen (the shell's screen
 * comes back on exit). Callers only use it when stdout is a terminal, so it always draws live,
 * also where a CI variable is set; keys are read only when stdin is a terminal too, so a UI
 * whose input is a pipe never asks for raw mode.
 */
import { render } from "ink"
import { App } from "./app.tsx"
import type { UiClient } from "./actions.ts"
import type { Explain } from "./state.ts"
import { themeFor } from "./theme.ts"

export interface UiOptions {
  readonly explain: Explain
  readonly env: Readonly<Record<string, string | undefined>>
  /** How `q` is described: "quit" when attached, "stop the lab" when the UI owns the lab. */
  readonly quitLabel: string
}

export interface UiHandle {
  /** Resolves when the user quit (q or Ctrl-C); never when `unmount` took the UI down. */
  readonly quit: Promise<void>
  /** Takes the UI down (the lab is stopping); safe to call twice. */
  unmount(): void
}

export const startUi = (client: UiClient, options: UiOptions): UiHandle => {
  const keys = process.stdin.isTTY === true
  const instance = render(
    <App client={client} explain={options.explain} theme={themeFor(options.env)} keys={keys} quitLabel={options.quitLabel} />,
    // interactive: ink would otherwise draw only the final frame wherever CI or
    // CONTINUOUS_INTEGRATION is set, even on a terminal; callers draw the UI only on one.
    { maxFps: 10, exitOnCtrlC: true, patchConsole: true, alternateScreen: true, interactive: true }
  )
  let unmounted = false
  const quit = new Promise<void>((resolve) => {
    const ended = () => {
      if (!unmounted) resolve()
    }
    instance.waitUntilExit().then(ended, ended)
  })
  return {
    quit,
    unmount: () => {
      if (unmounted) return
      unmounted = true
      instance.unmount()
    }
  }
}
