#!/usr/bin/env node
/** The `ace-orch` executable: the only module that runs the CLI on import. */
import { runCli } from './cli.js';

await runCli();
