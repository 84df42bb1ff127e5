import { Box, Text } from 'ink';
import { ArchivePane } from '../../components/ArchivePane.js';
import { BackupsPane } from '../../components/BackupsPane.js';
import { CommandPalette } from '../../components/CommandPalette.js';
import { FilterInput } from '../../components/FilterInput.js';
import { Footer } from '../../components/Footer.js';
import { Header, headerHeight } from '../../components/Header.js';
import { HelpOverlay } from '../../components/HelpOverlay.js';
import { IncidentPanel, incidentPanelHeight } from '../../components/IncidentPanel.js';
import { LagPane } from '../../components/LagPane.js';
import { MemberDetail } from '../../components/MemberDetail.js';
import { MembersTable } from '../../components/MembersTable.js';
import { TimelinePane } from '../../components/TimelinePane.js';
import { useTheme } from '../../components/theme.js';
import type { PaneId } from '../keymap/keymap.js';
import { disabledOperationKeys, footerHints, helpEntries, paletteItems } from '../keymap/keymap.js';
import { PANES } from './cockpit-state.js';
import type { CockpitView } from './cockpit-view.js';
import { OperationDialog } from './OperationDialog.js';
import type { OperationsPort } from './operations-port.js';
import type { TerminalSize } from './use-terminal-size.js';
import type { OperationRun } from '../ops/runner.js';

export interface CockpitScreenProps {
  view: CockpitView;
  size: TerminalSize;
  now: number;
  /** The runner, for the operation dialog's checks and plan. */
  operations?: OperationsPort;
  /** The run in progress (the dialog's live progress). */
  currentRun?: OperationRun;
}

const SECONDARY: readonly PaneId[] = ['lag', 'timeline', 'archive', 'backups'];
/** A secondary pane gets at least this many rows (title, column header and a few lines). */
const MIN_PANE_ROWS = 10;
const PANE_TITLE: Record<PaneId, string> = {
  members: 'Members',
  lag: 'Lag',
  timeline: 'Timeline',
  archive: 'Archive',
  backups: 'Backups',
};

export interface CockpitLayout {
  headerRows: number;
  /** The incident panel at the top (0 when there is no incident). */
  incidentRows: number;
  footerRows: number;
  bodyRows: number;
  membersRows: number;
  /** Secondary panes on screen now, as rows of columns. */
  grid: PaneId[][];
  gridRowHeight: number;
  /** True when not every pane fits: a tab strip names them all. */
  tabStrip: boolean;
}

/**
 * Sizes the screen: header and footer take what they need, the members table up to its rows (at most
 * 45% of the body), and the secondary panes share the rest — two side by side from 120 columns, as many
 * rows of them as give each MIN_PANE_ROWS. When they don't all fit, the page holding the focused pane is
 * shown.
 */
export function cockpitLayout(view: CockpitView, size: TerminalSize, now: number): CockpitLayout {
  // The help takes the header's rows too: every binding must fit at 80×24.
  const headerRows = view.ui.overlay === 'help' ? 0 : headerHeight(view.snapshot, now, size.columns);
  const footerRows = 1 + (view.ui.message ? 1 : 0) + (view.ui.filterEditing || view.ui.filter !== '' ? 1 : 0);
  const incident = view.snapshot.incident;
  const incidentRows = incident && view.ui.overlay !== 'help' ? Math.min(incidentPanelHeight(incident, now, size.columns), Math.max(0, size.rows - headerRows - footerRows - 6)) : 0;
  const bodyRows = Math.max(0, size.rows - headerRows - incidentRows - footerRows);
  const membersRows = Math.min(view.members.length + 2, Math.max(5, Math.floor(bodyRows * 0.45)));
  const columns = size.columns >= 120 ? 2 : 1;
  let rest = bodyRows - membersRows;
  // As many rows of panes as give each at least MIN_PANE_ROWS (a 100×32 terminal shows two panes, not one
  // pane with twenty empty rows), up to every pane on screen.
  const gridRows = Math.max(1, Math.min(Math.ceil(SECONDARY.length / columns), Math.floor(rest / MIN_PANE_ROWS)));
  const slots = columns * gridRows;
  const tabStrip = slots < SECONDARY.length;
  if (tabStrip) rest -= 1;
  const pages: PaneId[][] = [];
  for (let i = 0; i < SECONDARY.length; i += slots) pages.push(SECONDARY.slice(i, i + slots));
  const page = pages.find((p) => p.includes(view.ui.focusedPane)) ?? pages[0] ?? [];
  const grid: PaneId[][] = [];
  for (let i = 0; i < page.length; i += columns) grid.push(page.slice(i, i + columns));
  return {
    headerRows,
    incidentRows,
    footerRows,
    bodyRows,
    membersRows,
    grid,
    gridRowHeight: Math.max(3, Math.floor(rest / Math.max(1, grid.length))),
    tabStrip,
  };
}

function TabStrip({ focused, visible }: { focused: PaneId; visible: readonly PaneId[] }) {
  const theme = useTheme();
  return (
    <Text wrap="truncate">
      {PANES.map((pane) => {
        const isFocused = pane === focused;
        const onScreen = pane === 'members' || visible.includes(pane);
        return (
          <Text key={pane} inverse={isFocused} bold={isFocused || onScreen} dimColor={!onScreen} color={isFocused ? theme.tone('accent') : undefined}>
            {` ${isFocused ? '▶' : ' '}${PANE_TITLE[pane]} `}
          </Text>
        );
      })}
      <Text dimColor> Tab/Shift-Tab</Text>
    </Text>
  );
}

function SecondaryPane({ pane, view, now, width, height }: { pane: PaneId; view: CockpitView; now: number; width: number; height: number }) {
  const focused = view.ui.focusedPane === pane;
  const { snapshot } = view;
  switch (pane) {
    case 'lag':
      return (
        <LagPane
          series={view.lagSeries}
          thresholdBytes={view.thresholdBytes}
          focused={focused}
          width={width}
          height={height}
          {...(view.selectedMember === undefined ? {} : { selectedMember: view.selectedMember })}
        />
      );
    case 'timeline':
      return (
        <TimelinePane
          history={snapshot.history}
          events={view.events}
          totalEvents={view.totalEvents}
          scroll={view.ui.scroll.timeline}
          focused={focused}
          width={width}
          height={height}
          filter={view.ui.filter}
        />
      );
    case 'archive':
      return <ArchivePane archiving={snapshot.archiving} now={now} focused={focused} width={width} height={height} />;
    case 'backups':
      return <BackupsPane backups={snapshot.backups} now={now} scroll={view.ui.scroll.backups} focused={focused} width={width} height={height} />;
    case 'members':
      return null;
  }
}

/** The operator's cockpit: header, members, the secondary panes, footer; or the detail, help or palette. */
export function CockpitScreen({ view, size, now, operations, currentRun }: CockpitScreenProps) {
  const layout = cockpitLayout(view, size, now);
  const { ui } = view;
  const width = size.columns;
  const context = view.keymapContext;
  let body;
  if (ui.overlay === 'help') {
    body = <HelpOverlay entries={helpEntries(context)} width={width} height={layout.bodyRows} />;
  } else if (ui.overlay === 'palette') {
    body = <CommandPalette query={ui.paletteQuery} items={paletteItems(ui.paletteQuery, context)} selectedIndex={ui.paletteIndex} width={width} height={layout.bodyRows} />;
  } else if (ui.modal && operations) {
    // The dialog on top; the members table keeps updating under it.
    const membersRows = Math.min(layout.membersRows, Math.max(0, layout.bodyRows - 12));
    body = (
      <>
        <OperationDialog
          modal={ui.modal}
          snapshot={view.snapshot}
          operations={operations}
          now={now}
          width={width}
          height={layout.bodyRows - membersRows}
          {...(currentRun ? { current: currentRun } : {})}
        />
        <MembersTable
          members={view.members}
          totalCount={view.totalMembers}
          alerts={view.snapshot.alerts}
          thresholdBytes={view.thresholdBytes}
          focused={false}
          width={width}
          height={membersRows}
          {...(view.snapshot.leader === undefined ? {} : { leader: view.snapshot.leader })}
          {...(view.selectedMember === undefined ? {} : { selectedMember: view.selectedMember })}
        />
      </>
    );
  } else if (view.detail) {
    body = <MemberDetail member={view.detail.member} health={view.detail.health} now={now} width={width} height={layout.bodyRows} />;
  } else {
    const visible = layout.grid.flat();
    body = (
      <>
        <MembersTable
          members={view.members}
          totalCount={view.totalMembers}
          alerts={view.snapshot.alerts}
          thresholdBytes={view.thresholdBytes}
          focused={ui.focusedPane === 'members'}
          width={width}
          height={layout.membersRows}
          {...(view.snapshot.leader === undefined ? {} : { leader: view.snapshot.leader })}
          {...(view.selectedMember === undefined ? {} : { selectedMember: view.selectedMember })}
        />
        {layout.tabStrip ? <TabStrip focused={ui.focusedPane} visible={visible} /> : null}
        {layout.grid.map((row, rowIndex) => {
          const paneWidth = Math.floor((width - (row.length - 1)) / row.length);
          return (
            <Box key={rowIndex} flexDirection="row" columnGap={1} height={layout.gridRowHeight}>
              {row.map((pane) => (
                <SecondaryPane key={pane} pane={pane} view={view} now={now} width={paneWidth} height={layout.gridRowHeight} />
              ))}
            </Box>
          );
        })}
      </>
    );
  }
  const readOnly = context.readOnly;
  return (
    <Box flexDirection="column" width={width} height={size.rows} overflowY="hidden">
      {layout.headerRows > 0 ? <Header snapshot={view.snapshot} now={now} width={width} /> : null}
      {layout.incidentRows > 0 && view.snapshot.incident ? (
        <Box height={layout.incidentRows} overflowY="hidden">
          <IncidentPanel incident={view.snapshot.incident} now={now} width={width} />
        </Box>
      ) : null}
      <Box flexDirection="column" height={layout.bodyRows} overflowY="hidden">
        {body}
      </Box>
      {ui.filterEditing || ui.filter !== '' ? (
        <FilterInput value={ui.filter} editing={ui.filterEditing} matchedMembers={view.members.length} matchedEvents={view.events.length} />
      ) : null}
      <Footer
        hints={footerHints(context, { detailOpen: view.detail !== undefined || ui.overlay !== undefined })}
        disabledOperationKeys={disabledOperationKeys(context)}
        mode={readOnly ? 'cockpit · read-only' : 'cockpit'}
        width={width}
        {...(ui.message ? { message: ui.message } : {})}
      />
    </Box>
  );
}
