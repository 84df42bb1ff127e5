import fs from 'node:fs';
import path from 'node:path';
import { auditEntries, formatTimelineMarkdown, modelEntries } from '../cli/timeline-command.js';
import { EventLogFile } from './event-log.js';
import { compactStamp } from '../util/units.js';

export interface TimelineExportOptions {
  cluster: string;
  /** The cockpit's event log on disk (EventLogFile.pathFor). */
  eventLogFile: string;
  auditFile: string;
  /** Where the file goes (the cockpit's working directory). */
  dir: string;
  sinceMs: number;
  now?: number;
}

/**
 * The cockpit's T key: what `pgcockpit timeline --markdown` prints, written to
 * `pgcockpit-timeline-<cluster>-<time>.md` in `dir`. Returns the file's path; throws on a write error.
 */
export function writeTimelineExport(options: TimelineExportOptions): string {
  const now = options.now ?? Date.now();
  const entries = modelEntries(new EventLogFile(options.eventLogFile).read(options.sinceMs));
  if (fs.existsSync(options.auditFile)) entries.push(...auditEntries(fs.readFileSync(options.auditFile, 'utf8'), options.cluster, options.sinceMs));
  entries.sort((a, b) => a.at - b.at);
  const stamp = compactStamp(now);
  const file = path.join(options.dir, `pgcockpit-timeline-${options.cluster.replace(/[^A-Za-z0-9_.-]/g, '_')}-${stamp}.md`);
  fs.writeFileSync(file, formatTimelineMarkdown(options.cluster, entries, options.sinceMs), { flag: 'wx' });
  return file;
}
