/** Where commands write. Handlers take an Io so tests can capture output. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Overwrites one status line on an interactive terminal; a no-op elsewhere. */
  progress(text: string): void;
}

export function processIo(): Io {
  const tty = Boolean(process.stderr.isTTY);
  let shown = false;
  const clear = (): void => {
    if (shown) process.stderr.write('\r\x1b[2K');
    shown = false;
  };
  return {
    out: (text) => {
      clear();
      process.stdout.write(`${text}\n`);
    },
    err: (text) => {
      clear();
      process.stderr.write(`${text}\n`);
    },
    progress: (text) => {
      if (!tty) return;
      process.stderr.write(`\r\x1b[2K${text}`);
      shown = text !== '';
    },
  };
}

/** Splits `a,b , c` into names. */
export function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
