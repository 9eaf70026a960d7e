/**
 * The lab's event bus: one publisher side, many subscribers, synchronous fan-out.
 *
 * Publishing never blocks and never throws into the publisher: a subscriber that throws is
 * removed and the failure is counted. Consumers that may fall behind (the control channel's
 * clients) keep their own bounded queues.
 */
import type { LabEvent, LabEventBody } from "./events.ts"

export type Subscriber = (event: LabEvent) => void

export class EventBus {
  readonly #subscribers = new Set<Subscriber>()
  readonly #now: () => number
  #failedSubscribers = 0

  /** @param now the lab clock, in milliseconds since the lab started */
  constructor(now: () => number) {
    this.#now = now
  }

  publish(body: LabEventBody): LabEvent {
    const event = { ...body, at: this.#now() } as LabEvent
    for (const subscriber of this.#subscribers) {
      try {
        subscriber(event)
      } catch {
        this.#subscribers.delete(subscriber)
        this.#failedSubscribers++
      }
    }
    return event
  }

  subscribe(subscriber: Subscriber): () => void {
    this.#subscribers.add(subscriber)
    return () => {
      this.#subscribers.delete(subscriber)
    }
  }

  /** Subscribers removed because they threw. */
  get failedSubscribers(): number {
    return this.#failedSubscribers
  }
}
