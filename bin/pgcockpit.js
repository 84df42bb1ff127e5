#!/usr/bin/env node
// pgcockpit's executable: the compiled CLI (npm run build writes dist/).
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `pgcockpit: needs Node.js 22 or newer (this is ${process.version}, at ${process.execPath}).\n` +
      `  The project installs Node 24 as a devDependency: run it through npm (npm start, npm run cockpit)\n` +
      `  or npx pgcockpit, or call node_modules/.bin/node bin/pgcockpit.js.\n`,
  );
  process.exit(3);
}
const { main } = await import('../dist/src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
