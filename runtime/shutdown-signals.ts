/**
 * SIGTERM/SIGINT for a serving process (`serve`, `serve-runner`): the first signal drains (the caller's
 * `shutdown`) and exits 0, or 1 when shutting down failed; a second signal exits 1 at once.
 */
import type { Logger } from "./logging/logger.ts";

export function onShutdownSignals(logger: Logger, shutdown: () => Promise<void>): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn("second signal: exiting now", { signal });
      logger.flush();
      process.exit(1);
    }
    signalled = true;
    logger.info("draining", { signal });
    shutdown().then(
      () => {
        logger.info("stopped");
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error("shutdown failed", { err });
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
