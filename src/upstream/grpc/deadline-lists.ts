/**
 * Call deadlines without a Node timer per call (a setTimeout and its clearTimeout cost ~0.5 us, more
 * than the rest of starting a call). Calls with the same timeout expire in the order they started, so
 * each timeout value gets one FIFO list, linked through the calls themselves, and one timer armed for
 * the list's head. A call that ends is unlinked at once: nothing is kept for it.
 */

/** What the lists hold: the call's own fields, so adding and removing allocate nothing. */
export interface Expiring {
  deadlineAt: number;
  prevExpiring: Expiring | undefined;
  nextExpiring: Expiring | undefined;
  expiryList: DeadlineList | undefined;
  /** The plain timer of a call whose timeout has no list (see MAX_LISTS). */
  expiryTimer: NodeJS.Timeout | undefined;
  /** Called once, when the deadline passes before the call was removed. */
  expire(): void;
}

/** Node's largest timer delay (2^31-1 ms, ~24.8 days): a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 0x7fffffff;

/**
 * A computed delay made safe for setTimeout: at most MAX_TIMER_MS (a deadline that far away wakes up
 * early, finds nothing due and waits again), and not negative.
 */
export function timerDelay(ms: number): number {
  return Math.min(MAX_TIMER_MS, Math.max(0, ms));
}

/** Distinct timeout values with a list of their own; others (client-chosen) get a plain timer. */
const MAX_LISTS = 64;
const lists = new Map<number, DeadlineList>();

/** Starts the clock for `item`: `expire()` is called after `timeoutMs`, unless stopped before. */
export function startDeadline(item: Expiring, timeoutMs: number): void {
  let list = lists.get(timeoutMs);
  if (!list) {
    if (lists.size >= MAX_LISTS) {
      item.expiryTimer = setTimeout(expireAfter, timerDelay(timeoutMs), item, performance.now() + timeoutMs);
      return;
    }
    list = new DeadlineList(timeoutMs);
    lists.set(timeoutMs, list);
  }
  list.add(item);
}

/** A plain timer's end: expires the item, or waits again if the delay was clamped (timerDelay). */
function expireAfter(item: Expiring, deadlineAt: number): void {
  const left = deadlineAt - performance.now();
  if (left > 1) item.expiryTimer = setTimeout(expireAfter, timerDelay(left), item, deadlineAt);
  else {
    item.expiryTimer = undefined;
    item.expire();
  }
}

/** Stops the clock (the call ended); harmless when it was never started or has expired. */
export function stopDeadline(item: Expiring): void {
  if (item.expiryList) item.expiryList.remove(item);
  else if (item.expiryTimer) {
    clearTimeout(item.expiryTimer);
    item.expiryTimer = undefined;
  }
}

export class DeadlineList {
  private head: Expiring | undefined;
  private tail: Expiring | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly onTimer = (): void => this.expireDue();

  constructor(private readonly timeoutMs: number) {}

  add(item: Expiring): void {
    item.deadlineAt = performance.now() + this.timeoutMs;
    item.expiryList = this;
    item.prevExpiring = this.tail;
    item.nextExpiring = undefined;
    if (this.tail) {
      this.tail.nextExpiring = item;
      this.tail = item;
      return; // the timer is armed for the head (or will be, at the end of expireDue)
    }
    this.head = this.tail = item;
    if (!this.timer) this.timer = setTimeout(this.onTimer, timerDelay(this.timeoutMs));
  }

  remove(item: Expiring): void {
    if (item.expiryList !== this) return;
    const { prevExpiring: prev, nextExpiring: next } = item;
    if (prev) prev.nextExpiring = next;
    else this.head = next;
    if (next) next.prevExpiring = prev;
    else this.tail = prev;
    item.prevExpiring = item.nextExpiring = item.expiryList = undefined;
    // An empty list holds no timer: nothing would keep the process alive for a deadline of no call.
    if (!this.head && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Expires every call whose deadline has come, then waits for the next head. */
  private expireDue(): void {
    this.timer = undefined;
    const now = performance.now();
    // Node timers may fire up to a millisecond early against performance.now(): count that as due.
    while (this.head && this.head.deadlineAt <= now + 1) {
      const item = this.head;
      this.remove(item);
      item.expire();
    }
    if (this.head && !this.timer) {
      this.timer = setTimeout(this.onTimer, timerDelay(Math.max(1, Math.ceil(this.head.deadlineAt - now))));
    }
  }
}
