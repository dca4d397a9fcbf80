/**
 * `bentoc <command>` imports only the module of that command (cli/command-table.ts): the table must name
 * exactly the top-level commands each module registers, or a command would be missing when run directly.
 */
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { COMMAND_TABLE, commandEntriesFor } from "../../../cli/command-table.ts";

const topLevelNames = (program: Command): string[] => program.commands.flatMap((c) => [c.name(), ...c.aliases()]);

describe("the CLI's command table", () => {
  it("names exactly the top-level commands (and aliases) each module registers", async () => {
    for (const entry of COMMAND_TABLE) {
      const program = new Command("bentoc");
      (await entry.load()).register(program);
      expect(topLevelNames(program).sort()).toEqual([...entry.names].sort());
    }
  });

  it("gives each name to one module only", () => {
    const names = COMMAND_TABLE.flatMap((e) => e.names);
    expect(new Set(names).size).toBe(names.length);
  });

  it("loads the one module of a known command, and every module otherwise (help, version, typos)", () => {
    const serve = COMMAND_TABLE.find((e) => e.names.includes("serve"));
    expect(commandEntriesFor(["serve", "out", "--port", "3000"])).toEqual([serve]);
    expect(commandEntriesFor(["list", "--output", "json"])).toEqual([COMMAND_TABLE.find((e) => e.names.includes("build"))]);
    for (const args of [[], ["--help"], ["-V"], ["help", "serve"], ["serv"], ["ls"]]) expect(commandEntriesFor(args)).toBe(COMMAND_TABLE);
  });
});
