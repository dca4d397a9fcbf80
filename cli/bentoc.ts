#!/usr/bin/env node
/** The `bentoc` command: thin wiring of compiler and runtime. Each subcommand lives in cli/commands/. */
import { Command } from "commander";
import * as bench from "./commands/bench.ts";
import * as bentoRemote from "./commands/bento-remote.ts";
import * as build from "./commands/build.ts";
import * as compile from "./commands/compile.ts";
import * as config from "./commands/config.ts";
import * as doctor from "./commands/doctor.ts";
import * as init from "./commands/init.ts";
import * as models from "./commands/models.ts";
import * as serve from "./commands/serve.ts";
import * as serveRunner from "./commands/serve-runner.ts";
import { bentocVersion } from "../contract/package-root.ts";

const program = new Command("bentoc")
  .description("Compile decorated TypeScript services and serve them with micro-batched ONNX runners")
  .version(bentocVersion())
  .showHelpAfterError();

for (const command of [init, compile, serve, models, config, bench, build, bentoRemote, serveRunner, doctor]) command.register(program);

await program.parseAsync(process.argv);
