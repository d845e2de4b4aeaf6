// Starts a lab Prosody, registers `user:password` args, prints the Lab as one JSON line,
// and stops on SIGINT/SIGTERM or stdin EOF.
// Usage: node --import tsx test/lab/prosody-cli.ts alice:pw bob:pw
import { startProsody } from './prosody.js';

async function main(): Promise<void> {
  const lab = await startProsody({ name: 'cli' });
  let stopping: Promise<void> | undefined;
  const stop = async (code = 0): Promise<void> => {
    // One shared stop: 'end' and 'close' (or a signal) may all fire.
    stopping ??= lab.stop().catch((e: unknown) => console.error(String(e)))
      .then(() => process.exit(code));
    await stopping;
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  try {
    const users: Record<string, string> = {};
    for (const arg of process.argv.slice(2)) {
      const i = arg.indexOf(':');
      if (i <= 0) throw new Error(`bad user spec ${JSON.stringify(arg)}, want user:password`);
      users[arg.slice(0, i)] = await lab.register(arg.slice(0, i), arg.slice(i + 1));
    }
    const { register: _r, stop: _s, ...data } = lab;
    console.log(JSON.stringify({ ...data, users }));
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    await stop(1);
  }
  process.stdin.on('end', () => void stop());
  process.stdin.on('close', () => void stop());
  process.stdin.resume();
}

void main();
