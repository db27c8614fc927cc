import { main } from "./cli/main.ts";
import { sweepTempOnExit } from "./cli/temp-sweep.ts";

sweepTempOnExit();

process.exitCode = await main(process.argv.slice(2));
