/**
 * A back-off wait that something can cut short: a retry loop sleeps on it,
 * and news that the retry may now succeed (a stream's new leader) wakes it.
 * @private
 */
export class WakeableSleep {
  private wakeNow: (() => void) | undefined;

  /** Waits `ms`, or less when {@link wake} is called meanwhile. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wakeNow === done) this.wakeNow = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeNow = done;
    });
  }

  /** Ends the wait under way, if any. */
  wake(): void {
    this.wakeNow?.();
  }
}
