/** The `cosyvoice-webgpu` command line: dispatches to src/cli/commands/<name>.ts. */
import { commands } from './commands/index.js';

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`);
  return ['usage: cosyvoice-webgpu <command> [options]', '', 'commands:', ...rows, '', 'Run `cosyvoice-webgpu <command> --help` for its options.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await cmd.load())(rest);
  } catch (e) {
    const err = e as Error;
    // Typed errors carry their class name: print it, not a stack trace, unless asked.
    console.error(`${err.name ?? 'Error'}: ${err.message}`);
    if (process.env.COSYVOICE_DEBUG) console.error(err.stack);
    return 1;
  }
}

// Run directly only from the sources (`npx tsx src/cli/main.ts`); bin/cosyvoice-webgpu.js calls main() itself.
const isEntry = process.argv[1] && /main\.ts$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
