/**
 * A timer that can be cut short: `wake()` resolves `done` at once. Loops that wait between
 * attempts (informer reconnects, leader-election renewals) use it so that stop() need not wait
 * out a backoff.
 */
export function wakeableSleep(ms: number): { done: Promise<void>; wake: () => void } {
  let wake: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      resolve();
    }
    wake = finish;
  });
  return { done, wake };
}
