// A live progress display: on a terminal, a block of lines redrawn in place;
// otherwise (a pipe, CI), the same block printed as plain lines every few
// seconds. Log lines are printed above the block.

/** The display. `render` returns the block's current lines. */
export interface Progress {
  start(render: () => string[]): void;
  /** Prints a line (above the live block). */
  log(line: string): void;
  /** Stops redrawing; the last block stays. */
  pause(): void;
  stop(): void;
}

/** Creates the display on `out`; `quiet` prints nothing. */
export function createProgress(out: NodeJS.WriteStream, options: { quiet: boolean }): Progress {
  const tty = out.isTTY === true;
  let render: (() => string[]) | undefined;
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const clear = () => {
    if (tty && drawn > 0) out.write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  const draw = () => {
    if (!render || options.quiet) return;
    const lines = render();
    clear();
    out.write(lines.join("\n") + "\n");
    if (tty) drawn = lines.length;
  };
  return {
    start(r) {
      render = r;
      draw();
      timer = setInterval(draw, tty ? 250 : 2000);
    },
    log(line) {
      if (options.quiet) return;
      clear();
      out.write(line + "\n");
      if (timer && tty) draw();
    },
    pause() {
      if (timer) clearInterval(timer);
      timer = undefined;
      draw();
      drawn = 0;
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      drawn = 0;
    },
  };
}
