#!/usr/bin/env node
/* global process */
// Renders compose/config/ from the templates in configs/ (the same ones the native lab renders).
// Run after editing a template: node scripts/render-compose-configs.mjs (needs dist/: npx tsc first).
import { writeComposeConfigs } from '../dist/src/lab/compose-configs.js';

const written = writeComposeConfigs();
process.stdout.write(`${written.length ? `wrote ${written.join(', ')}` : 'compose/config/ is up to date'}\n`);
