#!/usr/bin/env node
/**
 * The `secret-group` command-line program. Every failure prints one line naming the problem and
 * exits non-zero; no stack traces.
 *
 * @module
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { isSecretGroupError } from "../errors.js";
import { DEFAULT_SIMULATION } from "./simulate.js";
import { benchCommand, ingestCommand, inspectCommand, keygenCommand, outboxCommand, simulateCommand, vectorsCommand } from "./commands.js";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive whole number");
  return n;
}

function program(): Command {
  const cli = new Command("secret-group")
    .description("p2panda secret groups on MLS: simulate a network, ingest and inspect documents, run MLS test vectors")
    .showHelpAfterError()
    .exitOverride();

  cli
    .command("simulate")
    .description("simulate identities, groups, commits and encrypted operations, materialised by one engine per identity")
    .option("--data <dir>", "data folder (the simulation uses <dir>/simulate, emptied first)", "./data")
    .option("--identities <n>", "number of identities", positiveInt, DEFAULT_SIMULATION.identities)
    .option("--groups <n>", "number of groups", positiveInt, DEFAULT_SIMULATION.groups)
    .option("--members <n>", "members per group besides the owner", positiveInt, DEFAULT_SIMULATION.members)
    .option("--messages <n>", "encrypted operations per member per round", positiveInt, DEFAULT_SIMULATION.messages)
    .option("--seed <n>", "seed of the shuffles and choices", positiveInt, DEFAULT_SIMULATION.seed)
    .option("--threads <n>", "worker threads", positiveInt)
    .option("--json", "print the summary as one JSON object")
    .action(simulateCommand);

  cli
    .command("ingest")
    .description("apply documents (a CBOR sequence or newline-delimited base64) to this node's engine")
    .argument("<file>", "documents file")
    .option("--data <dir>", "data folder", "./data")
    .option("--identity <file>", "identity file (default <data>/identity.json, created if missing)")
    .option("--json", "print the report as JSON")
    .action(ingestCommand);

  cli
    .command("inspect")
    .description("show groups, their status, epochs, members and commit history, or one operation")
    .argument("[groupId]", "one group (hex)")
    .option("--operation <id>", "show one operation (hex id): its fields as materialised, pending fields and errors")
    .option("--data <dir>", "data folder", "./data")
    .option("--identity <file>", "identity file (default <data>/identity.json)")
    .option("--json", "print JSON")
    .action(inspectCommand);

  cli
    .command("outbox")
    .description("write the documents this node created and has not published yet (newline-delimited base64)")
    .option("--data <dir>", "data folder", "./data")
    .option("--identity <file>", "identity file (default <data>/identity.json)")
    .option("--out <file>", "write them to a file instead of stdout")
    .option("--acknowledge", "remove them from the outbox once written")
    .option("--json", "print ids and schemas as JSON")
    .action(outboxCommand);

  cli
    .command("keygen")
    .description("create a new identity file")
    .option("--out <file>", "where to write it", "./data/identity.json")
    .option("--json", "print the public key as JSON")
    .action(keygenCommand);

  cli
    .command("vectors")
    .description("run MLS passive-client test vectors through the engine (worker pool, LevelDB, reload per epoch)")
    .argument("<file>", "vectors JSON file")
    .option("--threads <n>", "worker threads", positiveInt)
    .action(vectorsCommand);

  cli
    .command("bench")
    .description("run the benchmark suite of a repository checkout (quick; --full for every size; see bench/run.ts for its options)")
    .argument("[options...]", "suite options: --full, --only <scenarios>, --sizes <list>, --values <n>, --groups <list>, --out <dir>")
    .allowUnknownOption()
    .helpOption(false)
    .action((options: string[]) => benchCommand(options));

  return cli;
}

async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has printed help or its own one-line message already
      process.exitCode = e.exitCode;
      return;
    }
    const detail = isSecretGroupError(e) ? `${e.message} (${e.code})` : e instanceof Error ? e.message : String(e);
    process.stderr.write(`secret-group: ${detail}\n`);
    process.exitCode = process.exitCode || 1;
  }
}

await main(process.argv);
