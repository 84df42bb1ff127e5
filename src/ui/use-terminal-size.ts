import { useEffect, useState } from 'react';
import { useStdout } from 'ink';

export interface TerminalSize {
  columns: number;
  rows: number;
}

/** The usable minimum: below it the cockpit shows "terminal too small (need 80×24)". */
export const MIN_TERMINAL_SIZE: TerminalSize = { columns: 80, rows: 24 };

interface SizedStream {
  columns?: number;
  rows?: number;
}

/** stdout's size, or 80×24 when the stream does not say (a pipe). */
export function readTerminalSize(stream: SizedStream): TerminalSize {
  const columns = stream.columns !== undefined && stream.columns > 0 ? stream.columns : 80;
  const rows = stream.rows !== undefined && stream.rows > 0 ? stream.rows : 24;
  return { columns, rows };
}

/** The terminal's size, live: re-renders on stdout's 'resize' (SIGWINCH), only when the size changed. */
export function useTerminalSize(): TerminalSize {
  const { stdout } = useStdout();
  const [size, setSize] = useState<TerminalSize>(() => readTerminalSize(stdout as SizedStream));
  useEffect(() => {
    const onResize = () => {
      const next = readTerminalSize(stdout as SizedStream);
      setSize((current) => (current.columns === next.columns && current.rows === next.rows ? current : next));
    };
    stdout.on('resize', onResize);
    onResize();
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}
